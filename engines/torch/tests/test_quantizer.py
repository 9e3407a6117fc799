"""ternary_torch/quantizer.py's own logic: REL branch factors, a tex it has no branches for, one branch's
Δ, α and codes, and the straight-through gradient."""
import unittest

import torch

from ternary_torch.quantizer import REL_FACTORS, branch_factors, summed_ternary, ternarize_branch, ternary_weight


class Settings(unittest.TestCase):
    def test_branch_factors(self) -> None:
        self.assertEqual(branch_factors(0.07, 1), [0.07])
        self.assertEqual(branch_factors(0.07, 2), list(REL_FACTORS[:2]))
        self.assertEqual(branch_factors(0.07, 4), list(REL_FACTORS))

    def test_a_tex_without_branches_says_which_exist(self) -> None:
        with self.assertRaisesRegex(ValueError, "1, 2 or 4"):
            branch_factors(0.05, 3)


class Branch(unittest.TestCase):
    def test_he2019(self) -> None:
        w = torch.tensor([-1.0, -0.04, 0.0, 0.05, 0.5])
        t, delta, alpha, codes = ternarize_branch(w, "he2019", 0.05)
        self.assertAlmostEqual(delta.item(), 0.05)
        self.assertAlmostEqual(alpha.item(), (1.0 + 0.05 + 0.5) / 3, places=6)
        self.assertEqual(codes.tolist(), [-1.0, 0.0, 0.0, 1.0, 1.0])
        self.assertTrue(torch.allclose(t, codes * alpha))

    def test_twn_is_strict(self) -> None:
        w = torch.tensor([-0.7, 0.0, 0.7, 0.7])
        _, delta, _, codes = ternarize_branch(w, "twn", 0.0)
        self.assertAlmostEqual(delta.item(), 0.7 * 0.525, places=6)
        self.assertEqual(codes.tolist(), [-1.0, 0.0, 1.0, 1.0])

    def test_summed_ternary_of_one_branch_is_the_branch(self) -> None:
        w = torch.randn(50)
        self.assertTrue(torch.allclose(summed_ternary(w, "he2019", 0.05, 1), ternarize_branch(w, "he2019", 0.05)[0]))


class StraightThrough(unittest.TestCase):
    def test_gradient_is_tex_times_dy_inside_the_clip(self) -> None:
        w = torch.tensor([-1.5, -0.2, 0.3, 2.0], requires_grad=True)
        ternary_weight(w, "he2019", 0.05, 2).sum().backward()
        assert w.grad is not None
        self.assertEqual(w.grad.tolist(), [0.0, 2.0, 2.0, 0.0])


if __name__ == "__main__":
    unittest.main()
