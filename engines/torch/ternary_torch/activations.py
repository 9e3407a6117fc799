"""8-bit activations (docs/method.md, "8-bit activations"), as server/core/activationQuant.ts computes
them: a ternary layer with `inputQuant: int8` fake-quantizes its input to uint8 with a zero point,
per tensor, from its input range [min, max] (a buffer saved with the model and in checkpoints;
[0, 0] = not observed, the input passes unchanged), with a straight-through gradient inside the
representable range. While the range is observed, each training batch moves it: set to the batch's
min and max the first time, then r ← m·r + (1 − m)·batch. The moving-average factor and for how
many epochs the ranges are observed come from the job (TypeScript owns them)."""
from dataclasses import dataclass
from typing import Any, Tuple

import torch
from torch import Tensor

# Smallest width of a range (activationQuant's MIN_WIDTH), so that a constant tensor gets a positive scale.
_MIN_WIDTH = 1e-8


@dataclass(frozen=True)
class RangeRule:
    """How input ranges are observed (shared/engineProtocol.ts TorchJob.activationRanges)."""

    observe_epochs: int
    momentum: float

    def observes(self, epoch: int) -> bool:
        """Whether training epoch `epoch` (0-based) still moves the ranges."""
        return epoch < self.observe_epochs


def scale_and_zero_point(input_range: Tensor) -> Tuple[Tensor, Tensor]:
    """The uint8 grid of a [min, max] range widened to hold 0: scale (max − min)/255 and the zero
    point round(−min/scale) with Math.round's rounding (floor(v + 0.5)), as float32 scalars."""
    lo = torch.clamp(input_range[0], max=0.0)
    hi = torch.maximum(torch.clamp(input_range[1], min=0.0), lo + _MIN_WIDTH)
    scale = (hi - lo) / 255
    zero_point = torch.clamp(torch.floor(-lo / scale + 0.5), 0, 255)
    return scale, zero_point


class _FakeQuantize(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, input_range: Tensor) -> Tensor:
        observed = (input_range[1] > input_range[0]).to(x.dtype)
        scale, zero_point = scale_and_zero_point(input_range)
        # torch.round rounds half to even, as QuantizeLinear does.
        t = torch.round(x / scale) + zero_point
        q = torch.clamp(t, 0, 255)
        quantized = (q - zero_point) * scale
        inside = (t == q).to(x.dtype)
        ctx.save_for_backward(1 - observed * (1 - inside))
        return x + observed * (quantized - x)

    @staticmethod
    def backward(ctx: Any, *grads: Tensor) -> Tuple[Tensor, None]:
        (dy,) = grads
        (passed,) = ctx.saved_tensors
        return dy * passed, None


def fake_quantize(x: Tensor, input_range: Tensor) -> Tensor:
    """x on the uint8 grid of `input_range` ([0, 0]: x unchanged); gradient straight through where not clipped."""
    out = _FakeQuantize.apply(x, input_range)
    assert isinstance(out, Tensor)
    return out


@torch.no_grad()
def observe_range(input_range: Tensor, x: Tensor, momentum: float) -> None:
    """Moves `input_range` in place toward x's min and max (set to them when not observed yet)."""
    batch = torch.stack([x.min(), x.max()]).to(input_range.dtype)
    observed = (input_range[1] > input_range[0]).to(input_range.dtype)
    input_range.copy_(batch + observed * momentum * (input_range - batch))
