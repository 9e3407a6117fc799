"""ternary_torch/activations.py: the fake quantization against hand-computed values (the same as
test/unit/train-int8-activations.test.ts), its straight-through gradient, the range's moving
average, and the rule of when ranges move."""
import unittest

import torch

from ternary_torch.activations import RangeRule, fake_quantize, observe_range, scale_and_zero_point


class FakeQuantize(unittest.TestCase):
    def setUp(self) -> None:
        # [−0.5, 1.4921875]: width 255/128, so scale 1/128 and zero point 64, both exact.
        self.range = torch.tensor([-0.5, 1.4921875])
        self.x = torch.tensor([3 / 256, 5 / 256, -1.0, 2.0, 0.3, -0.5, 1.4921875])

    def test_scale_and_zero_point(self) -> None:
        scale, zero_point = scale_and_zero_point(self.range)
        self.assertEqual(scale.item(), 1 / 128)
        self.assertEqual(zero_point.item(), 64)
        self.assertEqual(scale_and_zero_point(torch.tensor([0.0, 2.55]))[1].item(), 0)

    def test_values_round_half_to_even_and_clip(self) -> None:
        y = fake_quantize(self.x, self.range)
        self.assertEqual(y.tolist(), [2 / 128, 2 / 128, -0.5, 1.4921875, 38 / 128, -0.5, 1.4921875])

    def test_gradient_passes_inside_and_stops_where_clipped(self) -> None:
        x = self.x.clone().requires_grad_(True)
        fake_quantize(x, self.range).sum().backward()
        assert x.grad is not None
        self.assertEqual(x.grad.tolist(), [1, 1, 0, 0, 1, 1, 1])

    def test_an_unobserved_range_passes_x(self) -> None:
        x = self.x.clone().requires_grad_(True)
        y = fake_quantize(x, torch.zeros(2))
        y.sum().backward()
        assert x.grad is not None
        self.assertTrue(torch.equal(y.detach(), self.x))
        self.assertEqual(x.grad.tolist(), [1] * 7)


class Observe(unittest.TestCase):
    def test_first_batch_sets_then_averages(self) -> None:
        r = torch.zeros(2)
        observe_range(r, torch.tensor([-1.0, 3.0]), 0.9)
        self.assertEqual(r.tolist(), [-1.0, 3.0])
        observe_range(r, torch.tensor([-2.0, 1.0]), 0.9)
        self.assertAlmostEqual(r[0].item(), 0.9 * -1 + 0.1 * -2, places=6)
        self.assertAlmostEqual(r[1].item(), 0.9 * 3 + 0.1 * 1, places=6)

    def test_the_rule_observes_the_first_epochs_only(self) -> None:
        rule = RangeRule(observe_epochs=1, momentum=0.99)
        self.assertEqual([rule.observes(e) for e in range(3)], [True, False, False])


if __name__ == "__main__":
    unittest.main()
