"""Dense layers on the CPU through oneDNN's inner product instead of BLAS.

PyTorch's `F.linear` on the CPU calls the BLAS `gemm` it was linked with. Debian's python3-torch
is built with BLAS_INFO=generic, i.e. whatever `libblas.so.3` the system's alternatives point at,
and on a machine where that is the netlib reference BLAS (libblas3, the default when OpenBLAS is
not installed) fmnist-cnn's 3136×128 dense layer takes ~35 ms of every 64-image step — more than
both convolutions, which PyTorch already runs through oneDNN (MKL-DNN). `mkldnn_linear` is the
same product in oneDNN; forward and both gradients are written with it here:

    y  = x · Wᵀ (+ b)         mkldnn_linear(x, W)
    dx = dy · W               mkldnn_linear(dy, Wᵀ)
    dW = dyᵀ · x              mkldnn_linear(dyᵀ, xᵀ)
    db = Σ_n dy

The math is F.linear's; only the summation order inside the products differs (float rounding).
Used for float32 CPU tensors when PyTorch has oneDNN; everything else goes to F.linear.
"""
from typing import Any, Optional, Tuple

import torch
import torch.backends.mkldnn
import torch.nn.functional as F
from torch import Tensor

_MKLDNN = torch.backends.mkldnn.is_available() and hasattr(torch._C._nn, "mkldnn_linear")


def _mm(a: Tensor, b: Tensor) -> Tensor:
    """a · bᵀ for 2-D float32 CPU tensors, in oneDNN."""
    return torch._C._nn.mkldnn_linear(a.contiguous().to_mkldnn(), b.contiguous().to_mkldnn(), None).to_dense()


class _OneDnnLinear(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, w: Tensor, b: Optional[Tensor]) -> Tensor:
        ctx.save_for_backward(x, w)
        ctx.has_bias = b is not None
        y = _mm(x, w)
        return y + b if b is not None else y

    @staticmethod
    def backward(ctx: Any, *grads: Tensor) -> Tuple[Optional[Tensor], Optional[Tensor], Optional[Tensor]]:
        (dy,) = grads
        x, w = ctx.saved_tensors
        dx = _mm(dy, w.t()) if ctx.needs_input_grad[0] else None
        dw = _mm(dy.t(), x.t()) if ctx.needs_input_grad[1] else None
        db = dy.sum(0) if ctx.has_bias and ctx.needs_input_grad[2] else None
        return dx, dw, db


def linear(x: Tensor, w: Tensor, b: Optional[Tensor] = None) -> Tensor:
    """F.linear(x, w, b), in oneDNN for 2-D float32 CPU inputs (see the module comment)."""
    if _MKLDNN and x.dim() == 2 and x.device.type == "cpu" and x.dtype == torch.float32 and w.dtype == torch.float32:
        return _OneDnnLinear.apply(x, w, b)
    return F.linear(x, w, b)
