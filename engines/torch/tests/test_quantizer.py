"""ternary_torch/quantizer.py's own logic: one branch's Δ, α and codes, the branches summed with the
factors the job gives, and the straight-through gradient."""
import unittest

import torch

from ternary_torch.quantizer import summed_ternary, ternarize_branch, ternary_weight


class Branch(unittest.TestCase):
    def test_he2019(self) -> None:
        w = torch.tensor([-1.0, -0.04, 0.0, 0.05, 0.5])
        t, delta, alpha, codes = ternarize_branch(w, "he2019", 0.05)
        self.assertAlmostEqual(delta.item(), 0.05)
        self.assertAlmostEqual(alpha.item(), (1.0 + 0.05 + 0.5) / 3, places=6)
        self.assertEqual(codes.tolist(), [-1.0, 0.0, 0.0, 1.0, 1.0])
        self.assertTrue(torch.allclose(t, codes * alpha))

    def test_twn_is_strict_and_scales_the_mean(self) -> None:
        w = torch.tensor([-0.7, 0.0, 0.7, 0.7])
        _, delta, _, codes = ternarize_branch(w, "twn", 0.7)
        self.assertAlmostEqual(delta.item(), 0.7 * 0.525, places=6)
        self.assertEqual(codes.tolist(), [-1.0, 0.0, 1.0, 1.0])

    def test_summed_ternary_of_one_branch_is_the_branch(self) -> None:
        w = torch.randn(50)
        self.assertTrue(torch.allclose(summed_ternary(w, "he2019", [0.05]), ternarize_branch(w, "he2019", 0.05)[0]))

    def test_summed_ternary_adds_a_branch_per_factor(self) -> None:
        # max|W| = 1: branch 1 (Δ 0.1) keeps 1, 0.5, 0.2 (α 17/30); branch 2 (Δ 0.3) keeps 1, 0.5 (α 0.75).
        w = torch.tensor([1.0, -0.5, 0.2, 0.05])
        a1, a2 = (1.0 + 0.5 + 0.2) / 3, (1.0 + 0.5) / 2
        expected = torch.tensor([a1 + a2, -(a1 + a2), a1, 0.0])
        self.assertTrue(torch.allclose(summed_ternary(w, "he2019", [0.1, 0.3]), expected))


class StraightThrough(unittest.TestCase):
    def test_gradient_is_tex_times_dy_inside_the_clip(self) -> None:
        w = torch.tensor([-1.5, -0.2, 0.3, 2.0], requires_grad=True)
        ternary_weight(w, "he2019", [0.05, 0.1]).sum().backward()
        assert w.grad is not None
        self.assertEqual(w.grad.tolist(), [0.0, 2.0, 2.0, 0.0])


if __name__ == "__main__":
    unittest.main()
