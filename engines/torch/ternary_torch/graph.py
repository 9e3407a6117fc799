"""A tfjs LayersModel (model.json + weights.bin, as server/core/modelIO.ts writes it) as a torch
module, and back. The TypeScript side builds every model (the zoo of server/models/ with its seeded
init, `model.from` a tfjs model.json or an ONNX import by server/formats/onnx/import/, ternarized by
server/models/convert.ts) and hands over its model.json: the torch engine trains exactly the
layers, names and parameter counts of the tfjs engine, and writes the trained weights into the same
model.json layout, so `tern eval`, `tern stats` and Export read a torch run like a tfjs one.

Layouts: rank-4 activations run NCHW (PyTorch's native layout), every other rank as tfjs has it;
kernels are stored OIHW (conv), [C·m, 1, kh, kw] (depthwise) and [out, in] (dense) and converted
from / to tfjs's HWIO, [kh, kw, C, m] and [in, out] on load and export. Layers whose meaning
depends on the axis order (Flatten, Reshape, Permute, Concatenate, Softmax, Dense on feature maps)
compute on the tfjs (NHWC) view, so every layer means what it means in tfjs-layers.
SUPPORTED_CLASSES is what test/unit/engines-torch-layers.test.ts checks against the layer classes
the TypeScript side can emit (server/models/layerClasses.ts).
"""
import json
import math
import os
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from .activations import RangeRule, fake_quantize, observe_range
from .linear import linear
from .job import LayerQuant
from .quantizer import ternary_weight

Config = Dict[str, Any]
Weights = Dict[str, np.ndarray]
Activation = Callable[[Tensor], Tensor]

KERNEL_CLASSES = ("Conv2D", "TernaryConv2D", "Dense", "TernaryDense")
TERNARY_CLASSES = ("TernaryConv2D", "TernaryDense")
# The weight of an int8 layer's input range (server/core/activationQuant.ts INPUT_RANGE_WEIGHT).
INPUT_RANGE = "input_range"


class ModelFormatError(Exception):
    """A model.json this engine cannot train; the message says what to do."""


# ---- layouts ---------------------------------------------------------------------------------

def to_tfjs_layout(x: Tensor) -> Tensor:
    """The tfjs view of an activation: NCHW → NHWC for rank 4, other ranks as they are."""
    return x.permute(0, 2, 3, 1) if x.dim() == 4 else x


def from_tfjs_layout(x: Tensor) -> Tensor:
    """The engine's layout of a tfjs-layout activation: NHWC → NCHW for rank 4."""
    return x.permute(0, 3, 1, 2) if x.dim() == 4 else x


def torch_axis(axis: int, rank: int) -> int:
    """The engine's axis of tfjs axis `axis` (negative counts from the end) of a rank-`rank` tensor."""
    a = axis + rank if axis < 0 else axis
    if not 0 <= a < rank:
        raise ModelFormatError(f"axis {axis} does not exist in a rank-{rank} tensor.")
    if rank != 4:
        return a
    return (0, 2, 3, 1)[a]


# ---- activations (tfjs-layers' activations.js, by their model.json names) ----------------------

def _softmax_last(x: Tensor) -> Tensor:
    return F.softmax(x, dim=torch_axis(-1, x.dim()))


def _softplus(x: Tensor) -> Tensor:
    # tfjs's softplus (tfjs-core Softplus kernel): exp(x) below log(ε) + 2, x above its negative.
    # The exponential is taken of x clamped below -threshold, so no branch overflows (an inf in the
    # branch torch.where leaves out would still make its gradient NaN).
    threshold = math.log(1.1920928955078125e-7) + 2.0
    e = torch.exp(torch.clamp(x, max=-threshold))
    return torch.where(x > -threshold, x, torch.where(x < threshold, e, torch.log1p(e)))


ACTIVATIONS: Dict[str, Activation] = {
    "relu": F.relu,
    "relu6": lambda x: torch.clamp(x, 0.0, 6.0),
    "elu": F.elu,
    "selu": F.selu,  # tfjs's constants (1.0507…, 1.6732…) are PyTorch's
    "sigmoid": torch.sigmoid,
    "hard_sigmoid": lambda x: torch.clamp(0.2 * x + 0.5, 0.0, 1.0),
    "tanh": torch.tanh,
    "softmax": _softmax_last,
    "softplus": _softplus,
    "softsign": lambda x: x / (x.abs() + 1),
    "swish": lambda x: torch.sigmoid(x) * x,
    "mish": lambda x: x * torch.tanh(_softplus(x)),
    "gelu": lambda x: x * (0.5 * (1 + torch.erf(x / math.sqrt(2)))),
    "gelu_new": lambda x: 0.5 * (x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x.pow(3))))),
}
# tfjs writes activations in snake case ('hard_sigmoid'); its own class names are camel case.
_ACTIVATION_ALIASES = {"hardSigmoid": "hard_sigmoid"}


def activation(name: Optional[str], where: str) -> Optional[Activation]:
    """The function of a tfjs activation name (None for linear)."""
    if name in (None, "linear"):
        return None
    assert name is not None
    key = _ACTIVATION_ALIASES.get(name, name)
    if key not in ACTIVATIONS:
        raise ModelFormatError(f"{where}: activation '{name}' is not supported by the torch engine (supported: linear, {', '.join(ACTIVATIONS)}); train this model with the tfjs engine.")
    return ACTIVATIONS[key]


# ---- padding ---------------------------------------------------------------------------------

def same_pads(size: int, kernel: int, stride: int) -> Tuple[int, int]:
    """TensorFlow's 'same' padding for one dimension: (before, after); the odd pixel goes after
    (samePads in server/formats/onnx/import/layout.ts)."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _same_pads_hw(x: Tensor, kernel: Sequence[int], stride: Sequence[int]) -> Tuple[int, int, int, int]:
    """F.pad's (left, right, top, bottom) of 'same' for an NCHW tensor."""
    ph = same_pads(x.shape[2], kernel[0], stride[0])
    pw = same_pads(x.shape[3], kernel[1], stride[1])
    return pw[0], pw[1], ph[0], ph[1]


def _pair(v: Union[int, Sequence[int]]) -> Tuple[int, int]:
    if isinstance(v, int):
        return v, v
    return int(v[0]), int(v[1])


def _pads_2d(p: Any) -> Tuple[int, int, int, int]:
    """ZeroPadding2D / Cropping2D's `padding` / `cropping` (n, [h, w] or [[t, b], [l, r]]) as
    (left, right, top, bottom)."""
    if isinstance(p, int):
        return p, p, p, p
    h, w = p
    top, bottom = _pair(h)
    left, right = _pair(w)
    return left, right, top, bottom


def _conv(x: Tensor, w: Tensor, bias: Optional[Tensor], strides: Tuple[int, int], padding: str, groups: int = 1) -> Tensor:
    """A 2-D convolution with tfjs's 'valid' or 'same' (odd pixel after) padding."""
    if padding == "same":
        left, right, top, bottom = _same_pads_hw(x, (w.shape[2], w.shape[3]), strides)
        if left == right and top == bottom:
            return F.conv2d(x, w, bias, strides, (top, left), 1, groups)
        x = F.pad(x, (left, right, top, bottom))
    return F.conv2d(x, w, bias, strides, 0, 1, groups)


def _check_conv_config(name: str, cls: str, config: Config) -> None:
    if config.get("data_format", "channels_last") != "channels_last":
        raise ModelFormatError(f"layer '{name}' ({cls}): data_format '{config.get('data_format')}' is not supported; tfjs models are channels_last.")
    if config.get("padding", "valid") not in ("valid", "same"):
        raise ModelFormatError(f"layer '{name}' ({cls}): padding '{config.get('padding')}' is not supported (use 'valid' or 'same').")
    if _pair(config.get("dilation_rate", 1)) != (1, 1):
        # tfjs-layers cannot train them either (no conv2d gradient with dilation > 1).
        raise ModelFormatError(f"layer '{name}' ({cls}): dilated convolutions are not supported by the torch engine.")
    if config.get("groups", 1) != 1:
        raise ModelFormatError(f"layer '{name}' ({cls}): groups {config.get('groups')} is not a tfjs-layers option; write a grouped conv as the ONNX importer does (one Conv2D with a block-diagonal kernel).")


# ---- layers with weights -----------------------------------------------------------------------

class WeightedLayer(nn.Module):
    """A layer with weights in model.json: `build` takes them in tfjs layout (keyed by the name after
    'layer/'), `export` gives them back in tfjs layout, `tfjs_grads` the gradients in that layout."""

    def __init__(self, name: str, cls: str) -> None:
        super().__init__()
        self.layer_name = name
        self.cls = cls

    def tfjs_tensors(self) -> Dict[str, Tensor]:
        """The layer's weights as torch tensors, by tfjs weight name (engine layout)."""
        raise NotImplementedError

    def to_tfjs(self, key: str, value: np.ndarray) -> np.ndarray:
        """A weight in the engine's layout → tfjs's."""
        return value

    def export(self) -> Weights:
        return {k: self.to_tfjs(k, v.detach().cpu().numpy()) for k, v in self.tfjs_tensors().items()}

    def tfjs_grads(self) -> Weights:
        out: Weights = {}
        for k, v in self.tfjs_tensors().items():
            if v.grad is not None:
                out[k] = self.to_tfjs(k, v.grad.detach().cpu().numpy())
        return out

    def build(self, tfjs_weights: Weights) -> None:
        raise NotImplementedError


def _param(a: np.ndarray) -> nn.Parameter:
    return nn.Parameter(torch.from_numpy(np.ascontiguousarray(a)))


def _weight(weights: Weights, key: str, layer: str) -> np.ndarray:
    if key not in weights:
        raise ModelFormatError(f"layer '{layer}': model.json has no weight '{layer}/{key}' (it has {sorted(weights)}).")
    return weights[key]


class KernelLayer(WeightedLayer):
    """Conv2D / Dense and their ternary twins (quant set: the kernel is ternarized every call)."""

    weight: nn.Parameter
    bias: Optional[nn.Parameter]
    input_range: Optional[Tensor]

    def __init__(self, name: str, cls: str, config: Config, quant: Optional[LayerQuant]) -> None:
        super().__init__(name, cls)
        self.is_conv = cls in ("Conv2D", "TernaryConv2D")
        # How a ternary kernel is ternarized comes from the job (TypeScript resolved it), not from model.json.
        self.quant: Optional[LayerQuant] = None
        if cls in TERNARY_CLASSES:
            if quant is None:
                raise ModelFormatError(f"layer '{name}' ({cls}) is ternary, but the job gives no quantization settings for it; the engine's Python files and the studio do not match.")
            self.quant = quant
        # 8-bit activations: the input range is a buffer (saved with the model and in checkpoints).
        self.input_quant = self.quant.input_quant if self.quant is not None else None
        self.register_buffer(INPUT_RANGE, None)
        # Set by the training loop (activations.RangeRule): whether training calls move the range, and how fast.
        self.observe_range = False
        self.range_momentum = 0.0
        self.use_bias: bool = config.get("use_bias", True)
        self.act = activation(config.get("activation"), f"layer '{name}'")
        if self.is_conv:
            _check_conv_config(name, cls, config)
            self.filters: int = config["filters"]
            self.kernel_size = _pair(config["kernel_size"])
            self.strides = _pair(config.get("strides", 1))
            self.padding: str = config.get("padding", "valid")
        else:
            self.units: int = config["units"]
        self.bias = None

    def build(self, tfjs_weights: Weights) -> None:
        kernel = _weight(tfjs_weights, "kernel", self.layer_name)
        # tfjs HWIO → torch OIHW; tfjs [in, out] → torch [out, in]
        self.weight = _param(kernel.transpose(3, 2, 0, 1) if self.is_conv else kernel.T)
        if self.use_bias:
            self.bias = _param(_weight(tfjs_weights, "bias", self.layer_name).copy())
        if self.input_quant is not None:
            self.input_range = torch.from_numpy(_weight(tfjs_weights, INPUT_RANGE, self.layer_name).copy())

    def tfjs_tensors(self) -> Dict[str, Tensor]:
        out: Dict[str, Tensor] = {"kernel": self.weight}
        if self.bias is not None:
            out["bias"] = self.bias
        if self.input_range is not None:
            out[INPUT_RANGE] = self.input_range
        return out

    def to_tfjs(self, key: str, value: np.ndarray) -> np.ndarray:
        if key != "kernel":
            return value
        return value.transpose(2, 3, 1, 0) if self.is_conv else value.T

    def effective_weight(self) -> Tensor:
        if self.quant is None:
            return self.weight
        return ternary_weight(self.weight, self.quant.method, self.quant.factors, self.quant.threshold)

    def forward(self, x: Tensor) -> Tensor:
        if self.input_range is not None:
            if self.training and self.observe_range:
                observe_range(self.input_range, x, self.range_momentum)
            x = fake_quantize(x, self.input_range)
        w = self.effective_weight()
        if self.is_conv:
            y = _conv(x, w, self.bias, self.strides, self.padding)
        elif x.dim() == 2:
            y = linear(x, w, self.bias)
        else:
            # tfjs's Dense on a rank > 2 input acts on its last (tfjs) axis.
            y = from_tfjs_layout(F.linear(to_tfjs_layout(x), w, self.bias))
        return self.act(y) if self.act else y


class DepthwiseConv(WeightedLayer):
    """DepthwiseConv2D: each input channel c convolved with its own `depth_multiplier` kernels;
    output channel c·m + j, as tfjs (and a PyTorch conv with groups = C) order them."""

    weight: nn.Parameter
    bias: Optional[nn.Parameter]

    def __init__(self, name: str, config: Config) -> None:
        super().__init__(name, "DepthwiseConv2D")
        _check_conv_config(name, self.cls, config)
        self.multiplier: int = config.get("depth_multiplier", 1)
        self.kernel_size = _pair(config["kernel_size"])
        self.strides = _pair(config.get("strides", 1))
        self.padding: str = config.get("padding", "valid")
        self.use_bias: bool = config.get("use_bias", True)
        self.act = activation(config.get("activation"), f"layer '{name}'")
        self.bias = None

    def build(self, tfjs_weights: Weights) -> None:
        k = _weight(tfjs_weights, "depthwise_kernel", self.layer_name)  # [kh, kw, C, m]
        kh, kw, c, m = k.shape
        self.weight = _param(k.reshape(kh, kw, c * m).transpose(2, 0, 1).reshape(c * m, 1, kh, kw))
        if self.use_bias:
            self.bias = _param(_weight(tfjs_weights, "bias", self.layer_name).copy())

    def tfjs_tensors(self) -> Dict[str, Tensor]:
        out: Dict[str, Tensor] = {"depthwise_kernel": self.weight}
        if self.bias is not None:
            out["bias"] = self.bias
        return out

    def to_tfjs(self, key: str, value: np.ndarray) -> np.ndarray:
        if key != "depthwise_kernel":
            return value
        cm, _, kh, kw = value.shape
        return value.reshape(cm, kh, kw).transpose(1, 2, 0).reshape(kh, kw, cm // self.multiplier, self.multiplier)

    def forward(self, x: Tensor) -> Tensor:
        y = _conv(x, self.weight, self.bias, self.strides, self.padding, groups=x.shape[1])
        return self.act(y) if self.act else y


class BatchNorm(WeightedLayer):
    """tfjs-layers' BatchNormalization over the channels: batch statistics with the biased variance,
    and moving averages updated with that same biased variance (PyTorch's own uses the unbiased one)."""

    moving_mean: Tensor
    moving_variance: Tensor
    gamma: Optional[nn.Parameter]
    beta: Optional[nn.Parameter]

    def __init__(self, name: str, config: Config) -> None:
        super().__init__(name, "BatchNormalization")
        self.axis: int = config.get("axis", -1)
        self.momentum: float = config.get("momentum", 0.99)
        self.eps: float = config.get("epsilon", 1e-3)
        self.center: bool = config.get("center", True)
        self.scale: bool = config.get("scale", True)
        self.gamma = None
        self.beta = None

    def build(self, tfjs_weights: Weights) -> None:
        if self.scale:
            self.gamma = _param(_weight(tfjs_weights, "gamma", self.layer_name).copy())
        if self.center:
            self.beta = _param(_weight(tfjs_weights, "beta", self.layer_name).copy())
        self.register_buffer("moving_mean", torch.from_numpy(_weight(tfjs_weights, "moving_mean", self.layer_name).copy()))
        self.register_buffer("moving_variance", torch.from_numpy(_weight(tfjs_weights, "moving_variance", self.layer_name).copy()))

    def tfjs_tensors(self) -> Dict[str, Tensor]:
        out: Dict[str, Tensor] = {}
        if self.gamma is not None:
            out["gamma"] = self.gamma
        if self.beta is not None:
            out["beta"] = self.beta
        out["moving_mean"] = self.moving_mean
        out["moving_variance"] = self.moving_variance
        return out

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() not in (2, 4) or torch_axis(self.axis, x.dim()) != 1:
            raise ModelFormatError(f"layer '{self.layer_name}': BatchNormalization over axis {self.axis} of a rank-{x.dim()} input is not supported by the torch engine (only over the channels, the last axis, of [N, C] or NHWC inputs).")
        if self.training:
            # One pass of PyTorch's batch norm both normalizes with the batch statistics and hands
            # them out: with momentum 1 its running buffers become the batch mean and the unbiased
            # variance, which (n − 1)/n turns back into the biased one tfjs keeps. (torch.var_mean
            # over N, H, W of an NCHW tensor took 17 ms of every 128-image step of fmnist-cnn.)
            batch_mean = torch.zeros_like(self.moving_mean)
            batch_var = torch.zeros_like(self.moving_variance)
            y = F.batch_norm(x, batch_mean, batch_var, self.gamma, self.beta, True, 1.0, self.eps)
            n = x.numel() // x.shape[1]
            with torch.no_grad():
                var = batch_var * ((n - 1) / n) if n > 1 else torch.zeros_like(batch_var)
                decay = 1 - self.momentum
                self.moving_mean.sub_((self.moving_mean - batch_mean) * decay)
                self.moving_variance.sub_((self.moving_variance - var) * decay)
            return y
        return F.batch_norm(x, self.moving_mean, self.moving_variance, self.gamma, self.beta, False, 0.0, self.eps)


# ---- weightless layers -------------------------------------------------------------------------

def _option_a_offset(n: int, stride: int) -> int:
    # As OptionAShortcut in server/core/layers/optionAShortcut.ts: the rows a 'same' 3×3 conv with
    # this stride centres its windows on.
    return max(0, 1 - max((math.ceil(n / stride) - 1) * stride + 3 - n, 0) // 2)


def _pool_args(config: Config) -> Tuple[Tuple[int, int], Tuple[int, int], str]:
    k = _pair(config["pool_size"])
    s = _pair(config.get("strides") or k)
    return k, s, config.get("padding", "valid")


def _max_pool(x: Tensor, c: Config) -> Tensor:
    k, s, padding = _pool_args(c)
    if padding == "same":
        x = F.pad(x, _same_pads_hw(x, k, s), value=float("-inf"))
    return F.max_pool2d(x, k, s)


class _SameAveragePool(torch.autograd.Function):
    """tfjs's 'same' average pool: the odd pixel of padding goes after, and the forward pass
    divides each window by the input pixels it covers (the padding left out), but tfjs's AvgPoolGrad
    divides by the whole window (tfjs-backend-cpu; server/native/src/pooling.cc does the same for
    the oneDNN backend). Both halves are tfjs's here, so the two engines train alike."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, kernel: Tuple[int, int], strides: Tuple[int, int]) -> Tensor:
        pads = _same_pads_hw(x, kernel, strides)
        ctx.shape = x.shape
        ctx.pool = (kernel, strides, pads)
        total = F.avg_pool2d(F.pad(x, pads), kernel, strides, divisor_override=1)
        ones = torch.ones((1, 1, x.shape[2], x.shape[3]), dtype=x.dtype, device=x.device)
        count = F.avg_pool2d(F.pad(ones, pads), kernel, strides, divisor_override=1)
        return total / count

    @staticmethod
    def backward(ctx: Any, *grads: Tensor) -> Tuple[Optional[Tensor], None, None]:
        kernel, strides, pads = ctx.pool
        with torch.enable_grad():
            x = torch.zeros(ctx.shape, dtype=grads[0].dtype, device=grads[0].device, requires_grad=True)
            y = F.avg_pool2d(F.pad(x, pads), kernel, strides)
            (dx,) = torch.autograd.grad(y, x, grads[0])
        return dx, None, None


def _average_pool(x: Tensor, c: Config) -> Tensor:
    k, s, padding = _pool_args(c)
    if padding != "same":
        return F.avg_pool2d(x, k, s)
    return _SameAveragePool.apply(x, k, s)


def _option_a(x: Tensor, c: Config) -> Tensor:
    s: int = c.get("stride", 2)
    out_ch: int = c["out_channels"]
    if s > 1:
        x = x[:, :, _option_a_offset(x.shape[2], s)::s, _option_a_offset(x.shape[3], s)::s]
    if out_ch > x.shape[1]:
        x = F.pad(x, (0, 0, 0, 0, 0, out_ch - x.shape[1]))
    return x


def _crop(x: Tensor, c: Config) -> Tensor:
    left, right, top, bottom = _pads_2d(c.get("cropping", 0))
    return x[:, :, top:x.shape[2] - bottom, left:x.shape[3] - right]


def _reshape(x: Tensor, c: Config) -> Tensor:
    return from_tfjs_layout(to_tfjs_layout(x).reshape(x.shape[0], *c["target_shape"]))


def _permute(x: Tensor, c: Config) -> Tensor:
    return from_tfjs_layout(to_tfjs_layout(x).permute(0, *c["dims"]))


def _flatten(x: Tensor, _: Config) -> Tensor:
    # tfjs flattens NHWC: keep its order so dense kernels mean the same thing.
    return to_tfjs_layout(x).reshape(x.shape[0], -1)


def _sum(xs: Sequence[Tensor]) -> Tensor:
    out = xs[0]
    for other in xs[1:]:
        out = out + other
    return out


def _product(xs: Sequence[Tensor]) -> Tensor:
    out = xs[0]
    for other in xs[1:]:
        out = out * other
    return out


UnaryOp = Callable[[Tensor, Config], Tensor]

# Weightless layers of one input: class name → f(x, config) (`training` is handled by Op).
UNARY_OPS: Dict[str, UnaryOp] = {
    "ReLU": lambda x, c: torch.clamp(F.relu(x), 0.0, c["max_value"]) if c.get("max_value") is not None else F.relu(x),
    "LeakyReLU": lambda x, c: F.leaky_relu(x, c.get("alpha", 0.3)),
    "Softmax": lambda x, c: F.softmax(x, dim=torch_axis(c.get("axis", -1), x.dim())),
    # server/core/layers/hardActivations.ts: clip(α·x + β, 0, 1) and x · clip(x/6 + 1/2, 0, 1).
    "HardSigmoid": lambda x, c: torch.clamp(x * c.get("alpha", 0.2) + c.get("beta", 0.5), 0.0, 1.0),
    "HardSwish": lambda x, c: x * torch.clamp(x * (1 / 6) + 0.5, 0.0, 1.0),
    "MaxPooling2D": _max_pool,
    "AveragePooling2D": _average_pool,
    "GlobalAveragePooling2D": lambda x, c: x.mean(dim=(2, 3)),
    "GlobalMaxPooling2D": lambda x, c: x.amax(dim=(2, 3)),
    "Flatten": _flatten,
    "Reshape": _reshape,
    "Permute": _permute,
    "ZeroPadding2D": lambda x, c: F.pad(x, _pads_2d(c.get("padding", 1))),
    "Cropping2D": _crop,
    # server/core/layers/channelZeroPad.ts and optionAShortcut.ts
    "ChannelZeroPad": lambda x, c: F.pad(x, (0, 0, 0, 0, c.get("before", 0), c.get("after", 0))),
    "OptionAShortcut": _option_a,
}
MERGE_OPS = ("Add", "Multiply", "Concatenate")
WEIGHTLESS_CLASSES = tuple(UNARY_OPS) + MERGE_OPS + ("Activation", "Dropout")
SUPPORTED_CLASSES = ("InputLayer",) + KERNEL_CLASSES + ("DepthwiseConv2D", "BatchNormalization") + WEIGHTLESS_CLASSES


class Op(nn.Module):
    """A weightless layer."""

    def __init__(self, name: str, cls: str, config: Config) -> None:
        super().__init__()
        self.layer_name = name
        self.cls = cls
        self.config = config
        self.act: Optional[Activation] = None
        if cls == "Activation":
            self.act = activation(config.get("activation"), f"layer '{name}'")
        if cls in ("MaxPooling2D", "AveragePooling2D") and config.get("padding", "valid") not in ("valid", "same"):
            raise ModelFormatError(f"layer '{name}' ({cls}): padding '{config.get('padding')}' is not supported (use 'valid' or 'same').")
        if config.get("data_format", "channels_last") != "channels_last":
            raise ModelFormatError(f"layer '{name}' ({cls}): data_format '{config.get('data_format')}' is not supported; tfjs models are channels_last.")

    def forward(self, *xs: Tensor) -> Tensor:
        c = self.config
        x = xs[0]
        if self.cls in UNARY_OPS:
            return UNARY_OPS[self.cls](x, c)
        if self.cls == "Activation":
            return self.act(x) if self.act else x
        if self.cls == "Dropout":
            return F.dropout(x, c.get("rate", 0.5), self.training)
        if self.cls == "Add":
            return _sum(xs)
        if self.cls == "Multiply":
            return _product(xs)
        if self.cls == "Concatenate":
            return torch.cat(xs, dim=torch_axis(c.get("axis", -1), x.dim()))
        raise ModelFormatError(f"layer '{self.layer_name}' of class {self.cls} is not supported by the torch engine.")


# ---- the graph ---------------------------------------------------------------------------------

class GraphModel(nn.Module):
    """The functional tfjs model: its layers in model.json order (a topological order)."""

    def __init__(self, topology: Config, quant: Mapping[str, LayerQuant]) -> None:
        """`quant`: the settings of every ternary layer, by name (the job's layerQuant)."""
        super().__init__()
        cfg = topology["config"] if "config" in topology else topology["model_config"]["config"]
        if topology.get("class_name", "Model") not in ("Model", "Functional"):
            raise ModelFormatError(f"only functional tfjs models are supported by the torch engine (got {topology.get('class_name')}).")
        self.name: str = cfg.get("name", "model")
        self.nodes: List[Tuple[str, List[str]]] = []
        self.layers_by_name = nn.ModuleDict()
        self.input_name: str = cfg["input_layers"][0][0]
        self.output_name: str = cfg["output_layers"][0][0]
        self.input_shape: List[int] = []
        for layer in cfg["layers"]:
            cls: str = layer["class_name"]
            name: str = layer["name"]
            inbound = [n[0] for n in layer["inbound_nodes"][0]] if layer["inbound_nodes"] else []
            if cls == "InputLayer":
                self.input_shape = layer["config"]["batch_input_shape"][1:]
                continue
            module: nn.Module
            if cls in KERNEL_CLASSES:
                module = KernelLayer(name, cls, layer["config"], quant.get(name))
            elif cls == "DepthwiseConv2D":
                module = DepthwiseConv(name, layer["config"])
            elif cls == "BatchNormalization":
                module = BatchNorm(name, layer["config"])
            elif cls in WEIGHTLESS_CLASSES:
                module = Op(name, cls, layer["config"])
            else:
                raise ModelFormatError(f"layer '{name}' of class {cls} is not supported by the torch engine; train this model with the tfjs engine.")
            self.layers_by_name[_key(name)] = module
            self.nodes.append((name, inbound))

    def kernel_layers(self) -> List[KernelLayer]:
        return [m for m in self.layers_by_name.values() if isinstance(m, KernelLayer)]

    def observe_ranges(self, rule: RangeRule, epoch: int) -> None:
        """Lets the int8 layers move their input ranges in training epoch `epoch` (0-based) or keeps them."""
        for layer in self.kernel_layers():
            layer.observe_range = rule.observes(epoch)
            layer.range_momentum = rule.momentum

    def weighted_layers(self) -> List[WeightedLayer]:
        return [m for m in self.layers_by_name.values() if isinstance(m, WeightedLayer)]

    def forward(self, x: Tensor) -> Tensor:
        values = {self.input_name: x}
        for name, inbound in self.nodes:
            values[name] = self.layers_by_name[_key(name)](*[values[i] for i in inbound])
        return values[self.output_name]


def _key(name: str) -> str:
    # ModuleDict keys cannot contain '.'
    return name.replace(".", "_")


DTYPES = {"float32": np.float32, "int32": np.int32}


def read_tfjs_model(model_json_path: str) -> Tuple[Config, Weights]:
    """(model.json dict, {weight name: numpy array in tfjs layout}) of a tfjs LayersModel."""
    with open(model_json_path, "r", encoding="utf8") as f:
        model_json: Config = json.load(f)
    base = os.path.dirname(model_json_path)
    weights: Weights = {}
    for group in model_json["weightsManifest"]:
        chunks = []
        for p in group["paths"]:
            with open(os.path.join(base, p), "rb") as f:
                chunks.append(f.read())
        data = b"".join(chunks)
        offset = 0
        for spec in group["weights"]:
            dtype = DTYPES[spec.get("dtype", "float32")]
            count = int(np.prod(spec["shape"])) if spec["shape"] else 1
            arr = np.frombuffer(data, dtype=dtype, count=count, offset=offset).reshape(spec["shape"]).copy()
            offset += count * 4
            weights[spec["name"]] = arr
    return model_json, weights


def load_graph_model(model_json_path: str, quant: Mapping[str, LayerQuant]) -> Tuple[GraphModel, Config]:
    """Builds the torch module of a tfjs model.json with its weights; `quant` as GraphModel's."""
    model_json, weights = read_tfjs_model(model_json_path)
    model = GraphModel(model_json["modelTopology"], quant)
    for module in model.weighted_layers():
        prefix = module.layer_name + "/"
        module.build({k[len(prefix):]: v for k, v in weights.items() if k.startswith(prefix)})
    return model, model_json


def export_tfjs_weights(model: GraphModel, model_json: Config, out_dir: str, metadata: Optional[Config] = None) -> None:
    """Writes model.json + weights.bin into out_dir: the topology and manifest of `model_json`, the
    weights of `model` (converted to tfjs layouts), in manifest order. Weights first, then model.json."""
    os.makedirs(out_dir, exist_ok=True)
    values: Dict[str, np.ndarray] = {}
    for module in model.weighted_layers():
        for k, v in module.export().items():
            values[f"{module.layer_name}/{k}"] = np.ascontiguousarray(v, dtype=np.float32)
    specs = [spec for group in model_json["weightsManifest"] for spec in group["weights"]]
    chunks = []
    for spec in specs:
        v = values.get(spec["name"])
        if v is None or list(v.shape) != list(spec["shape"]):
            raise ModelFormatError(f"weight {spec['name']}: the trained model has {None if v is None else list(v.shape)}, model.json expects {spec['shape']}.")
        chunks.append(v.tobytes())
    out = dict(model_json)
    out["weightsManifest"] = [{"paths": ["./weights.bin"], "weights": specs}]
    if metadata:
        out["userDefinedMetadata"] = {**model_json.get("userDefinedMetadata", {}), **metadata}
    # Plain writes: the folder is the unit made durable and put in place (files.py replace_dir_atomic).
    with open(os.path.join(out_dir, "weights.bin"), "wb") as f:
        f.write(b"".join(chunks))
    with open(os.path.join(out_dir, "model.json"), "w", encoding="utf8") as f:
        f.write(json.dumps(out))
