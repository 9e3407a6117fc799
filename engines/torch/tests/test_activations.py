"""ternary_torch/activations.py: the fake quantization against hand-computed values (the same as
test/unit/train-int8-activations.test.ts), its straight-through gradient, the range's moving
average, and the rule of when ranges move."""
import unittest

import numpy as np
import torch

from ternary_torch.graph import KernelLayer
from ternary_torch.job import LayerQuant
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


class Layer(unittest.TestCase):
    def test_the_range_is_a_buffer_a_checkpoint_saves_and_restores(self) -> None:
        quant = LayerQuant(method="he2019", threshold="fixed", tex=1, factors=(0.05,), input_quant="int8")
        layer = KernelLayer("d", "TernaryDense", {"units": 2, "activation": "linear"}, quant)
        layer.build({"kernel": np.ones((3, 2), dtype=np.float32), "bias": np.zeros(2, dtype=np.float32),
                     "input_range": np.array([0.0, 0.0], dtype=np.float32)})
        layer.observe_range, layer.range_momentum = True, 0.99
        layer.train()
        layer(torch.tensor([[-1.0, 0.5, 2.0]]))
        state = layer.state_dict()
        self.assertEqual(state["input_range"].tolist(), [-1.0, 2.0])
        self.assertEqual(layer.export()["input_range"].tolist(), [-1.0, 2.0])
        fresh = KernelLayer("d", "TernaryDense", {"units": 2, "activation": "linear"}, quant)
        fresh.build({"kernel": np.zeros((3, 2), dtype=np.float32), "bias": np.zeros(2, dtype=np.float32),
                     "input_range": np.array([0.0, 0.0], dtype=np.float32)})
        fresh.load_state_dict(state)
        assert fresh.input_range is not None
        self.assertEqual(fresh.input_range.tolist(), [-1.0, 2.0])


if __name__ == "__main__":
    unittest.main()
