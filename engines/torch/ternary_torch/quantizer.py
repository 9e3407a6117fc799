"""The ternary quantizer of server/core/quantizer.ts in PyTorch: he2019 (Δ = f·max|W|, α = mean|W|
over |W| ≥ Δ) and TWN (Δ = 0.7·mean|W|, α over |W| > Δ), REL as one conv on the summed ternary
weight Σ_k T_k, and the straight-through gradient t_ex · dY · 1[|W| < 1].
"""
from typing import Any, List, Optional, Tuple

import torch
from torch import Tensor

# Threshold factors of the REL branches, as REL_FACTORS in server/core/quantizer.ts.
REL_FACTORS = (0.05, 0.1, 0.15, 0.2)
TWN_DELTA_SCALE = 0.7


def branch_factors(threshold_factor: float, tex: int) -> List[float]:
    if tex == 1:
        return [threshold_factor]
    if tex not in (2, 4):
        raise ValueError(f"tex must be 1, 2 or 4 (got {tex}): REL has at most {len(REL_FACTORS)} branches.")
    return list(REL_FACTORS[:tex])


def check_quant(method: str, threshold_factor: float, tex: int) -> None:
    if method not in ("he2019", "twn"):
        raise ValueError(f"Unknown ternarization method '{method}': use 'he2019' or 'twn'.")
    if method == "twn" and tex != 1:
        raise ValueError(f"tex = {tex} needs method 'he2019': REL branches are defined by he2019 threshold factors.")
    branch_factors(threshold_factor, tex)


def branch_delta(method: str, abs_w: Tensor, factor: float) -> Tensor:
    if method == "twn":
        return abs_w.mean() * TWN_DELTA_SCALE
    return abs_w.max() * factor


def ternarize_branch(w: Tensor, method: str, factor: float) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
    """One branch: (T, Δ, α, codes) with codes in {-1, 0, +1}, as ternarizeBranch in quantizer.ts."""
    abs_w = w.abs()
    delta = branch_delta(method, abs_w, factor)
    strict = method == "twn"
    large = (abs_w > delta) if strict else (abs_w >= delta)
    large_f = large.to(w.dtype)
    alpha = (abs_w * large_f).sum() / large_f.sum().clamp(min=1)
    if strict:
        codes = (w > delta).to(w.dtype) - (w < -delta).to(w.dtype)
    else:
        pos = (w >= delta).to(w.dtype)
        neg = (w <= -delta).to(w.dtype)
        # Both hold only when Δ = 0 and W = 0; +α wins there, as in quantizer.ts.
        codes = pos - neg + pos * neg
    return codes * alpha, delta, alpha, codes


def summed_ternary(w: Tensor, method: str, threshold_factor: float, tex: int) -> Tensor:
    """Σ_k T_k = sign(W) · Σ_k α_k · 1[|W| ≥ Δ_k] (see summedTernary in quantizer.ts)."""
    factors = branch_factors(threshold_factor, tex)
    strict = method == "twn"
    abs_w = w.abs()
    sign = torch.sign(w)
    if not strict and 0 in factors:
        sign = sign + (w == 0).to(w.dtype)
    magnitude: Optional[Tensor] = None
    for factor in factors:
        delta = branch_delta(method, abs_w, factor)
        large = ((abs_w > delta) if strict else (abs_w >= delta)).to(w.dtype)
        count = large.sum().clamp(min=1) if strict else large.sum()
        alpha = (abs_w * large).sum() / count
        term = large * alpha
        magnitude = term if magnitude is None else magnitude + term
    assert magnitude is not None  # branch_factors gives at least one factor
    return sign * magnitude


class TernaryWeight(torch.autograd.Function):
    """Forward Σ_k T_k; backward t_ex · dY · 1[|W| < 1] (the reference's clipped STE, summed over branches)."""

    @staticmethod
    def forward(ctx: Any, w: Tensor, method: str, threshold_factor: float, tex: int) -> Tensor:
        ctx.save_for_backward(w)
        ctx.tex = tex
        return summed_ternary(w, method, threshold_factor, tex)

    @staticmethod
    def backward(ctx: Any, *grads: Tensor) -> Tuple[Tensor, None, None, None]:
        (dy,) = grads
        (w,) = ctx.saved_tensors
        grad = dy * (w.abs() < 1).to(dy.dtype)
        if ctx.tex != 1:
            grad = grad * ctx.tex
        return grad, None, None, None


def ternary_weight(w: Tensor, method: str, threshold_factor: float, tex: int) -> Tensor:
    return TernaryWeight.apply(w, method, threshold_factor, tex)
