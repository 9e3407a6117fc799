"""The ternary quantizer of server/core/quantizer.ts in PyTorch: he2019 (Δ = f·max|W|, α = mean|W|
over |W| ≥ Δ) and TWN (Δ = f·mean|W|, α over |W| > Δ), each branch's f given by the job
(shared/engineProtocol.ts TorchLayerQuant `factors`, from deltaFactors in quantizer.ts), optimal thresholds (least-squares Δ and α,
REL as greedy residual fitting: server/core/optimalThresholds.ts), REL as one conv on the summed
ternary weight Σ_k T_k, and the straight-through gradient t_ex · dY · 1[|W| < 1].
"""
from typing import Any, List, NamedTuple, Optional, Sequence, Tuple

import torch
from torch import Tensor


class OptimalCut(NamedTuple):
    """One branch's least-squares fit: Δ (the smallest |R| kept), α (a float32 value) and how many are kept."""

    delta: float
    alpha: float
    count: int


def optimal_cut(r: torch.Tensor) -> OptimalCut:
    """The Δ, α minimizing ‖R − α·T‖²: over every k a threshold can keep (the k-th largest |R| strictly
    above the next), the largest S_k²/k, S_k the sum of the k largest |R| (float64, as optimalCut in
    server/core/optimalThresholds.ts; a plain sort here, where that searches buckets)."""
    a = r.detach().abs().reshape(-1).to(torch.float64)
    if a.numel() == 0 or a.max().item() == 0:
        return OptimalCut(0.0, 0.0, 0)
    s, _ = torch.sort(a, descending=True)
    sums = torch.cumsum(s, 0)
    k = torch.arange(1, s.numel() + 1, dtype=torch.float64, device=s.device)
    last = torch.ones(1, dtype=torch.bool, device=s.device)
    admissible = (s > 0) & torch.cat([s[:-1] > s[1:], last])
    f = torch.where(admissible, sums * sums / k, torch.full_like(s, -1.0))
    j = int(torch.argmax(f).item())
    alpha = torch.tensor(sums[j].item() / (j + 1), dtype=torch.float32).item()
    return OptimalCut(float(s[j].item()), alpha, j + 1)


def optimal_fit(w: torch.Tensor, tex: int) -> Tuple[torch.Tensor, List[OptimalCut], List[torch.Tensor]]:
    """Greedy residual fitting: (Σ_k α_k·s_k summed in float32 in branch order, cuts, codes s_k ∈ {−1, 0, +1})."""
    residual = w.detach().to(torch.float64)
    weight = torch.zeros_like(w, dtype=torch.float32)
    cuts: List[OptimalCut] = []
    codes: List[torch.Tensor] = []
    for _ in range(tex):
        cut = optimal_cut(residual)
        if cut.count > 0:
            s = torch.where(residual.abs() >= cut.delta, torch.sign(residual), torch.zeros_like(residual))
        else:
            s = torch.zeros_like(residual)
        weight = weight + s.to(torch.float32) * cut.alpha
        residual = residual - s * cut.alpha
        cuts.append(cut)
        codes.append(s.to(torch.int8))
    return weight.to(w.dtype), cuts, codes


def branch_delta(method: str, abs_w: Tensor, factor: float) -> Tensor:
    """Δ = factor·mean|W| (TWN) or factor·max|W| (he2019)."""
    if method == "twn":
        return abs_w.mean() * factor
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


def summed_ternary(w: Tensor, method: str, factors: Sequence[float]) -> Tensor:
    """Σ_k T_k = sign(W) · Σ_k α_k · 1[|W| ≥ Δ_k], one branch per factor (see summedTernary in quantizer.ts)."""
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
    assert magnitude is not None, "a ternary layer has at least one branch"
    return sign * magnitude


class TernaryWeight(torch.autograd.Function):
    """Forward Σ_k T_k; backward t_ex · dY · 1[|W| < 1] (the reference's clipped STE, summed over branches)."""

    @staticmethod
    def forward(ctx: Any, w: Tensor, method: str, factors: Tuple[float, ...], threshold: str) -> Tensor:
        ctx.save_for_backward(w)
        ctx.tex = len(factors)
        if threshold == "optimal":
            return optimal_fit(w, len(factors))[0]
        return summed_ternary(w, method, factors)

    @staticmethod
    def backward(ctx: Any, *grads: Tensor) -> Tuple[Tensor, None, None, None]:
        (dy,) = grads
        (w,) = ctx.saved_tensors
        grad = dy * (w.abs() < 1).to(dy.dtype)
        if ctx.tex != 1:
            grad = grad * ctx.tex
        return grad, None, None, None


def ternary_weight(w: Tensor, method: str, factors: Sequence[float], threshold: str = "fixed") -> Tensor:
    """The layer's weight Σ_k T_k with the straight-through gradient; t_ex is len(factors)
    (optimal thresholds use only that)."""
    return TernaryWeight.apply(w, method, tuple(factors), threshold)
