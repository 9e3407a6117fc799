"""ternary_torch/stats.py's own arithmetic: histogram bins, the reference ternarization's counts."""
import unittest

import numpy as np

from ternary_torch.stats import bin_values, ternarize_reference


class Bins(unittest.TestCase):
    def test_the_maximum_falls_in_the_last_bin(self) -> None:
        out = bin_values(np.array([0.0, 0.5, 1.0, 1.0]), 4)
        self.assertEqual(out, {"min": 0.0, "max": 1.0, "bins": [1, 0, 1, 2]})

    def test_constant_and_empty(self) -> None:
        self.assertEqual(bin_values(np.full(3, 2.0), 2)["bins"], [3, 0])
        self.assertEqual(bin_values(np.array([]), 2), {"min": 0, "max": 0, "bins": [0, 0]})


class Reference(unittest.TestCase):
    def test_counts_add_up(self) -> None:
        w = np.array([-1.0, -0.01, 0.0, 0.2, 0.9], dtype=np.float32)
        b = ternarize_reference(w, "he2019", 0.05)
        self.assertEqual(b["counts"], {"neg": 1, "zero": 2, "pos": 2})
        self.assertAlmostEqual(b["delta"], 0.05, places=6)
        self.assertAlmostEqual(b["alpha"], (1.0 + 0.2 + 0.9) / 3, places=6)


if __name__ == "__main__":
    unittest.main()
