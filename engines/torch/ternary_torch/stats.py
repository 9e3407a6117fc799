"""The measured part of the layers.jsonl records and the histograms/ records of a torch model, as
server/stats/layerStats.ts and histograms.ts compute them (host arithmetic in float64, Δ rounded to float32,
as server/core/quantizerReference.ts does), on the kernels in tfjs layout and tfjs layer names.
"""
from dataclasses import replace
from typing import Any, Dict, Iterator, List, Tuple

import numpy as np
import torch

from .graph import GraphModel, KernelLayer
from .job import LayerQuant
from .quantizer import optimal_fit

Record = Dict[str, Any]


def _f32(v: float) -> float:
    return float(np.float32(v))


def ternarize_reference(w: np.ndarray, method: str, factor: float) -> Record:
    """(factor, Δ, α, counts) of one branch: ternarizeReference in quantizerReference.ts (Δ = factor·mean|W|
    for TWN, factor·max|W| for he2019)."""
    a = np.abs(w.astype(np.float64))
    n = a.size
    if method == "twn":
        delta = _f32(_f32(factor) * _f32(a.sum() / n if n else 0.0))
        large = a > delta
        pos = w > delta
        neg = w < -delta
    else:
        delta = _f32(_f32(factor) * (a.max() if n else 0.0))
        large = a >= delta
        pos = w >= delta
        neg = (w <= -delta) & ~pos
    count = int(large.sum())
    alpha = float(a[large].sum() / count) if count else 0.0
    counts = {"neg": int(neg.sum()), "zero": int(n - pos.sum() - neg.sum()), "pos": int(pos.sum())}
    return {"factor": factor, "delta": delta, "alpha": alpha, "counts": counts}


def _counts(t: np.ndarray) -> Dict[str, int]:
    return {"neg": int((t < 0).sum()), "zero": int((t == 0).sum()), "pos": int((t > 0).sum())}


def layer_branches(w: np.ndarray, quant: LayerQuant) -> Tuple[List[Dict[str, Any]], np.ndarray]:
    """Per-branch (factor, Δ, α, counts) and Σ_k T_k of a flat kernel: ternarizeBranchesReference and
    summedTernaryReference in quantizerReference.ts (optimal: factor = Δ_k / max|W|)."""
    method = quant.method
    if quant.threshold == "optimal":
        weight, cuts, codes = optimal_fit(torch.from_numpy(np.ascontiguousarray(w, dtype=np.float32)), quant.tex)
        top = float(np.abs(w).max()) if w.size else 0.0
        branches = [{"factor": c.delta / top if top > 0 else 0, "delta": c.delta, "alpha": c.alpha, "counts": _counts(s.numpy())}
                    for c, s in zip(cuts, codes)]
        return branches, weight.numpy()
    branches: List[Dict[str, Any]] = []
    summed = np.zeros(w.size, dtype=np.float32)
    for f in quant.factors:
        b = ternarize_reference(w, method, f)
        codes = (w > b["delta"]).astype(np.float32) - (w < -b["delta"]).astype(np.float32) if method == "twn" else \
            np.where(w >= b["delta"], 1.0, np.where(w <= -b["delta"], -1.0, 0.0)).astype(np.float32)
        summed = (summed + codes * np.float32(b["alpha"])).astype(np.float32)
        branches.append(b)
    return branches, summed


def relative_error(w: np.ndarray, summed: np.ndarray) -> float:
    """‖W − Σ_k T_k‖ / ‖W‖ in float64 (relativeError in server/stats/layerStats.ts)."""
    norm = float(np.sum(w.astype(np.float64) ** 2))
    return float(np.sqrt(np.sum((w.astype(np.float64) - summed.astype(np.float64)) ** 2) / norm)) if norm > 0 else 0.0


def _kernels(model: GraphModel) -> Iterator[Tuple[KernelLayer, np.ndarray]]:
    for m in model.kernel_layers():
        yield m, m.export()["kernel"]


def layer_stats(model: GraphModel) -> List[Record]:
    """The values of each ternary layer an epoch's layers record needs (shared/engineProtocol.ts
    EngineLayerValues): every branch's factor, Δ, α and counts, the relative error, and an int8
    layer's input range. The rest of
    the record (type, shape, params, bits, sparsity, the model's sizes) is fixed by the model, and
    the TypeScript side adds it (server/engines/torch/layersRecord.ts)."""
    out: List[Record] = []
    for m, kernel in _kernels(model):
        if m.quant is None:
            continue
        flat = kernel.reshape(-1)
        found, summed = layer_branches(flat, m.quant)
        record: Record = {"layer": m.layer_name, "relError": relative_error(flat, summed),
                          "branches": [{"factor": b["factor"], "delta": b["delta"], "alpha": b["alpha"], "counts": b["counts"]} for b in found]}
        if m.input_range is not None:
            record["inputRange"] = [float(v) for v in m.input_range.detach().cpu().tolist()]
        out.append(record)
    return out


def bin_values(values: np.ndarray, bins: int) -> Record:
    v = values.astype(np.float64).reshape(-1)
    counts = [0] * bins
    if v.size == 0:
        return {"min": 0, "max": 0, "bins": counts}
    lo, hi = float(v.min()), float(v.max())
    width = (hi - lo) / bins
    if width > 0:
        idx = np.minimum(bins - 1, np.floor((v - lo) / width).astype(np.int64))
    else:
        idx = np.zeros(v.size, dtype=np.int64)
    return {"min": lo, "max": hi, "bins": np.bincount(idx, minlength=bins).astype(int).tolist()}


def weight_histograms(model: GraphModel, bins: int) -> List[Record]:
    """Each conv/dense kernel binned, with its first branch's Δ, α and counts (None for a float layer):
    shared/engineProtocol.ts EngineHistogram, made a record by server/stats/histograms.ts histogramOf."""
    out: List[Record] = []
    for m, kernel in _kernels(model):
        binned = bin_values(kernel, bins)
        if m.quant is None:
            out.append({"layer": m.layer_name, **binned, "first": None})
            continue
        first = layer_branches(kernel.reshape(-1), replace(m.quant, tex=1, factors=m.quant.factors[:1]))[0][0]
        out.append({"layer": m.layer_name, **binned, "first": {"delta": first["delta"], "alpha": first["alpha"], "counts": first["counts"]}})
    return out
