/**
 * The quantizer of `quantizer.ts` written again in plain JavaScript over Float32Arrays: a second,
 * independent implementation for tests, and what per-layer statistics use (they need numbers on
 * the host anyway, and must not depend on the training path they check).
 */
import type { TernaryCounts } from '../../shared/layerStats';
import { branchFactors, TWN_DELTA_SCALE, type LayerQuant, type TernaryMethod } from './quantizer';
import { fitFromValues } from './optimalThresholds';

export interface ReferenceTernarization {
  /** he2019: f in Δ = f·max|W|; TWN: 0.7 in Δ = 0.7·mean|W|. */
  factor: number;
  delta: number;
  alpha: number;
  /** T_i ∈ {−α, 0, +α}. */
  ternary: Float32Array;
  counts: TernaryCounts;
}

/**
 * Ternarizes `w` by the definition in docs/method.md (Quantizer), one branch. Arithmetic in float64 except Δ, which
 * is rounded to float32 before comparing, as the tfjs version compares in float32.
 */
export function ternarizeReference(w: ArrayLike<number>, method: TernaryMethod, factor: number): ReferenceTernarization {
  const n = w.length;
  let maxAbs = 0;
  let sumAbs = 0;
  for (let i = 0; i < n; i++) {
    const a = Math.abs(w[i]);
    if (a > maxAbs) maxAbs = a;
    sumAbs += a;
  }
  // Rounded as float32 tensors would be: the factor, the mean and the product.
  const delta =
    method === 'twn'
      ? Math.fround(Math.fround(TWN_DELTA_SCALE) * Math.fround(n > 0 ? sumAbs / n : 0))
      : Math.fround(Math.fround(factor) * maxAbs);
  const strict = method === 'twn';
  let largeSum = 0;
  let largeCount = 0;
  for (let i = 0; i < n; i++) {
    const a = Math.abs(w[i]);
    if (strict ? a > delta : a >= delta) {
      largeSum += a;
      largeCount++;
    }
  }
  const alpha = largeCount > 0 ? largeSum / largeCount : 0;
  const ternary = new Float32Array(n);
  const counts: TernaryCounts = { neg: 0, zero: 0, pos: 0 };
  for (let i = 0; i < n; i++) {
    const x = w[i];
    const pos = strict ? x > delta : x >= delta;
    const neg = strict ? x < -delta : x <= -delta;
    if (pos) {
      ternary[i] = alpha;
      counts.pos++;
    } else if (neg) {
      ternary[i] = -alpha;
      counts.neg++;
    } else {
      counts.zero++;
    }
  }
  // TWN's threshold is a multiple of mean|W| rather than of max|W|: report that multiple.
  return { factor: method === 'twn' ? TWN_DELTA_SCALE : factor, delta, alpha, ternary, counts };
}

/** All branches of a layer (t_ex of them), in branch order. */
export function ternarizeBranchesReference(w: ArrayLike<number>, quant: LayerQuant): ReferenceTernarization[] {
  if (quant.threshold === 'optimal') {
    let maxAbs = 0;
    for (let i = 0; i < w.length; i++) maxAbs = Math.max(maxAbs, Math.abs(w[i]));
    const branches = quant.residualLevels ? storedBranches(w, quant.residualLevels) : optimalBranchesReference(w, quant.tex);
    return branches.map((b) => {
      const counts: TernaryCounts = { neg: 0, zero: 0, pos: 0 };
      for (const t of b.ternary) {
        if (t > 0) counts.pos++;
        else if (t < 0) counts.neg++;
        else counts.zero++;
      }
      // The threshold as a fraction of max|W|, comparable with the fixed factors.
      return { factor: maxAbs > 0 ? b.delta / maxAbs : 0, delta: b.delta, alpha: b.alpha, ternary: b.ternary, counts };
    });
  }
  return branchFactors(quant).map((factor) => ternarizeReference(w, quant.method, factor));
}

/** Σ_k T_k, the weight a REL layer computes with. */
export function summedTernaryReference(w: ArrayLike<number>, quant: LayerQuant): Float32Array {
  const sum = new Float32Array(w.length);
  for (const branch of ternarizeBranchesReference(w, quant)) {
    for (let i = 0; i < sum.length; i++) sum[i] += branch.ternary[i];
  }
  return sum;
}

/**
 * The reference's gradient w.r.t. the latent W of a REL layer: the sum over branches of each
 * branch's straight-through gradient dT · 1[|W| < 1], every branch receiving the same dY.
 */
export function steGradientReference(w: ArrayLike<number>, dy: ArrayLike<number>, tex: number): Float32Array {
  const grad = new Float32Array(w.length);
  for (let k = 0; k < tex; k++) {
    for (let i = 0; i < w.length; i++) {
      if (Math.abs(w[i]) < 1) grad[i] += dy[i];
    }
  }
  return grad;
}

/** One least-squares branch (optimalThresholds.ts) by its definition: Δ, α and T_i ∈ {−α, 0, +α}. */
export interface ReferenceOptimalBranch {
  delta: number;
  alpha: number;
  ternary: Float32Array;
}

/**
 * Least-squares Δ and α by the definition (docs/method.md, Optimal thresholds): sort every |r|,
 * and over every k a threshold can keep (the k-th largest strictly above the next), the one
 * maximizing S_k²/k; α = S_k/k rounded to float32. With tex > 1, each branch fits the residual
 * the previous ones left (in float64).
 */
export function optimalBranchesReference(w: ArrayLike<number>, tex: number): ReferenceOptimalBranch[] {
  const residual = Float64Array.from(w);
  const branches: ReferenceOptimalBranch[] = [];
  for (let b = 0; b < tex; b++) {
    // Typed arrays sort numerically, ascending: sorted[k − 1] is the k-th largest.
    const sorted = Float64Array.from(residual, Math.abs).sort().reverse();
    let best = 0;
    let delta = 0;
    let alpha = 0;
    let sum = 0;
    for (let k = 1; k <= sorted.length; k++) {
      sum += sorted[k - 1];
      if (sorted[k - 1] === 0 || (k < sorted.length && sorted[k] === sorted[k - 1])) continue;
      if ((sum * sum) / k > best) {
        best = (sum * sum) / k;
        delta = sorted[k - 1];
        alpha = Math.fround(sum / k);
      }
    }
    const ternary = new Float32Array(residual.length);
    for (let i = 0; i < residual.length; i++) {
      if (best === 0 || Math.abs(residual[i]) < delta) continue;
      ternary[i] = residual[i] > 0 ? alpha : -alpha;
      residual[i] -= ternary[i];
    }
    branches.push({ delta, alpha, ternary });
  }
  return branches;
}

/** The branches of a kernel that holds a residual fit (LayerQuant.residualLevels), read off its values. */
function storedBranches(w: ArrayLike<number>, levels: number[]): ReferenceOptimalBranch[] {
  const fit = fitFromValues(w, levels, 'kernel');
  return fit.cuts.map((cut, k) => ({ delta: cut.delta, alpha: cut.alpha, ternary: Float32Array.from(fit.codes[k], (s) => s * cut.alpha) }));
}
