/**
 * The ternary quantizer of He, Gong and Fan (WACV 2019) and TWN, on tfjs tensors (docs/method.md, Quantizer).
 *
 * Fixed thresholds stay on the backend: no dataSync, so they can run every training step on every
 * layer. Optimal thresholds (`threshold: 'optimal'`) are a search over the sorted |W|, done on the
 * host by optimalThresholds.ts (the backends here — wasm, cpu, onednn — keep tensors in host
 * memory, so reading a kernel is a copy). `quantizerReference.ts` is the same math on
 * Float32Arrays, used by stats and tests.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TernaryMethod, TernaryQuant } from '../../shared/quant';
import { fitFromValues, optimalFit, type OptimalFit } from './optimalThresholds';

export type { TernaryMethod };

/** Threshold factors of the REL branches (docs/method.md, REL): branch k uses `REL_FACTORS[k]`. */
export const REL_FACTORS: readonly number[] = [0.05, 0.1, 0.15, 0.2];

/** TWN's threshold: Δ = 0.7 · mean|W|. */
export const TWN_DELTA_SCALE = 0.7;

export interface TernarizeOptions {
  method: TernaryMethod;
  /** f in Δ = f·max|W| (he2019 only; TWN's Δ does not use it). */
  thresholdFactor: number;
}

/** One ternarization: T (same shape as W), and the scalars Δ and α (still tensors: no sync). */
export interface TernarizeResult {
  ternary: tf.Tensor;
  delta: tf.Scalar;
  alpha: tf.Scalar;
}

/**
 * The quantization settings the layers need (TernaryQuant minus the model-level `firstLast`).
 * They are checked once, where a layer is built (`resolveQuant` in layers/common.ts, with
 * `parseTernaryQuant` of shared/quant.ts), not here on every forward pass.
 */
export type LayerQuant = Pick<TernaryQuant, 'method' | 'thresholdFactor' | 'tex'> & {
  /** Absent means `fixed`, as in models and `.tern` files written before the option existed. */
  threshold?: TernaryQuant['threshold'];
  /**
   * α_1 … α_t of a REL layer with optimal thresholds whose kernel already holds its fit Σ_k α_k·s_k
   * (loaded from `.tern` or `model.onnx`, where the latent weights are not kept): the layer computes
   * with the kernel as it is, and its branches are read off it (optimalThresholds.ts fitFromValues).
   */
  residualLevels?: number[];
};

/** Threshold factors of the branches of one layer: t_ex = 1 uses the configured factor, REL the fixed list. */
export function branchFactors(quant: Pick<LayerQuant, 'thresholdFactor' | 'tex'>): number[] {
  if (quant.tex === 1) return [quant.thresholdFactor];
  if (quant.tex !== 2 && quant.tex !== 4) {
    throw new Error(`tex must be 1, 2 or 4 (got ${String(quant.tex)}): REL has at most ${REL_FACTORS.length} branches.`);
  }
  return REL_FACTORS.slice(0, quant.tex);
}

/**
 * The factor of each branch's fixed threshold: Δ_k = factors[k]·max|W| (he2019) or factors[k]·mean|W|
 * (TWN, whose factor is TWN_DELTA_SCALE on every branch). The torch engine is handed this list
 * (shared/engineProtocol.ts TorchLayerQuant) rather than keeping the factors of its own.
 */
export function deltaFactors(quant: Pick<LayerQuant, 'method' | 'thresholdFactor' | 'tex'>): number[] {
  const factors = branchFactors(quant);
  return quant.method === 'twn' ? factors.map(() => TWN_DELTA_SCALE) : factors;
}

/**
 * T = Σ_branches α_k·s_k with s ∈ {−1, 0, +1}, plus Δ_k and α_k. `absW` and `maxAbs`/`meanAbs`
 * are shared by all branches, so REL costs a few extra element-wise ops, not extra passes.
 */
function ternarizeBranch(w: tf.Tensor, absW: tf.Tensor, delta: tf.Scalar, strict: boolean): TernarizeResult {
  // Which weights count as large: he2019 uses |W| ≥ Δ, TWN |W| > Δ.
  const large = tf.cast(strict ? tf.greater(absW, delta) : tf.greaterEqual(absW, delta), 'float32');
  const count = tf.sum(large);
  // max(count, 1): an all-zero tensor under TWN has no large weights; α is then 0, not NaN.
  const alpha = tf.div(tf.sum(tf.mul(absW, large)), tf.maximum(count, 1)) as tf.Scalar;
  let sign: tf.Tensor;
  if (strict) {
    // TWN: W > Δ → +α, W < −Δ → −α; the two sets are disjoint.
    sign = tf.sub(tf.cast(tf.greater(w, delta), 'float32'), tf.cast(tf.less(w, tf.neg(delta)), 'float32'));
  } else {
    // he2019: W ≥ Δ → +α, else W ≤ −Δ → −α. Both hold only when Δ = 0 and W = 0, where +α wins:
    // s = pos − neg + pos·neg.
    const pos = tf.cast(tf.greaterEqual(w, delta), 'float32');
    const neg = tf.cast(tf.lessEqual(w, tf.neg(delta)), 'float32');
    sign = tf.add(tf.sub(pos, neg), tf.mul(pos, neg));
  }
  return { ternary: tf.mul(sign, alpha), delta, alpha };
}

/** Δ for one branch: f·max|W| (he2019) or 0.7·mean|W| (TWN). */
function branchDelta(method: TernaryMethod, absW: tf.Tensor, factor: number): tf.Scalar {
  if (method === 'twn') return tf.mul(tf.mean(absW), TWN_DELTA_SCALE) as tf.Scalar;
  return tf.mul(tf.max(absW), factor) as tf.Scalar;
}

/**
 * Ternarizes W with one threshold and one scale for the whole tensor (the reference's granularity).
 * Forward only: no gradient rule attached (see `steTernarize` / `ternaryWeight` for training).
 */
export function ternarize(w: tf.Tensor, options: TernarizeOptions): TernarizeResult {
  return tf.tidy(() => {
    const absW = tf.abs(w);
    const delta = branchDelta(options.method, absW, options.thresholdFactor);
    const result = ternarizeBranch(w, absW, delta, options.method === 'twn');
    return { ternary: result.ternary, delta: result.delta, alpha: result.alpha };
  });
}

/** Per-branch ternarizations of W for a layer's settings (t_ex results; used by stats and tests). */
export function ternarizeBranches(w: tf.Tensor, quant: LayerQuant): TernarizeResult[] {
  if (quant.threshold === 'optimal') {
    const fit = optimalFitOf(w.dataSync(), quant);
    return fit.cuts.map((cut, k) => ({
      ternary: tf.tidy(() => tf.mul(tf.tensor(Float32Array.from(fit.codes[k]), w.shape), cut.alpha)),
      delta: tf.scalar(cut.delta),
      alpha: tf.scalar(cut.alpha),
    }));
  }
  const factors = branchFactors(quant);
  // tidy keeps tensors nested in plain arrays/objects; it only needs to see them as such.
  const flat = tf.tidy(() => {
    const absW = tf.abs(w);
    return factors.flatMap((factor) => {
      const b = ternarizeBranch(w, absW, branchDelta(quant.method, absW, factor), quant.method === 'twn');
      return [b.ternary, b.delta, b.alpha];
    });
  });
  return factors.map((_, k) => ({ ternary: flat[3 * k], delta: flat[3 * k + 1] as tf.Scalar, alpha: flat[3 * k + 2] as tf.Scalar }));
}

/** The optimal-threshold fit of a layer's kernel: computed, or read off a kernel that holds one (`residualLevels`). */
export function optimalFitOf(w: ArrayLike<number>, quant: LayerQuant, layer = 'kernel'): OptimalFit {
  return quant.residualLevels ? fitFromValues(w, quant.residualLevels, layer) : optimalFit(w, quant.tex);
}

/**
 * Σ_k T_k with as few kernel launches as possible: this runs on every layer at every step, and on
 * fast backends a launch costs more than the arithmetic on a weight tensor. T_k = α_k·sign(W)·1[|W| ≥ Δ_k],
 * so Σ_k T_k = sign(W)·Σ_k α_k·1[|W| ≥ Δ_k]: per branch only scalar-vs-tensor element-wise ops
 * (the wasm backend's general broadcasting path is an order of magnitude slower).
 * sign(0) = 0 differs from the definition only for W = 0 with Δ = 0, i.e. f = 0: handled apart.
 */
function summedTernary(w: tf.Tensor, absW: tf.Tensor, quant: LayerQuant, withCodes = false): { ternary: tf.Tensor; codes?: tf.Tensor } {
  const factors = branchFactors(quant);
  const strict = quant.method === 'twn';
  let sign = tf.sign(w);
  if (!strict && factors.includes(0)) sign = tf.add(sign, tf.cast(tf.equal(w, 0), 'float32'));
  const maxAbs = strict ? null : tf.max(absW);
  let magnitude: tf.Tensor | null = null;
  // The branches each weight passes (only when asked: training needs T alone).
  let passed: tf.Tensor | null = null;
  for (const factor of factors) {
    const delta = maxAbs ? tf.mul(maxAbs, factor) : branchDelta(quant.method, absW, factor);
    const large = tf.cast(strict ? tf.greater(absW, delta) : tf.greaterEqual(absW, delta), 'float32');
    // he2019 with f ≤ 1 always has a large weight (the largest, or all of them when W = 0); TWN may not.
    const count = strict ? tf.maximum(tf.sum(large), 1) : tf.sum(large);
    const alpha = tf.div(tf.sum(tf.mul(absW, large)), count);
    const term = tf.mul(large, alpha);
    magnitude = magnitude === null ? term : tf.add(magnitude, term);
    if (withCodes) passed = passed === null ? large : tf.add(passed, large);
  }
  return { ternary: tf.mul(sign, magnitude as tf.Tensor), codes: passed ? tf.mul(sign, passed) : undefined };
}

/** How codes stand for weights (server/formats/packedModel.ts): `nested` sign(c)·A_|c|, `residual` Σ_k s_k·α_k over the balanced-ternary digits of c. */
export type CodeEncoding = 'nested' | 'residual';

/**
 * A kernel's T with the integer code of every weight, from one computation: what the packer
 * stores. `nested`: c = sign(W)·m, m the branches whose threshold |W| reaches. `residual`:
 * c = Σ_k s_k·3^(k−1) over the fit's digits, with the fit's α_1..α_t.
 */
export type KernelCodes =
  | { encoding: 'nested'; ternary: Float32Array; codes: Int8Array }
  | { encoding: 'residual'; ternary: Float32Array; codes: Int8Array; alphas: Float32Array };

/**
 * T of a kernel and the code of each of its weights, taken from the same masks (fixed thresholds)
 * or the same fit (optimal thresholds) that make T, so no one derives the thresholds a second time.
 * `layer` names the kernel in a fit's errors.
 */
export function kernelCodes(w: tf.Tensor, quant: LayerQuant, layer = 'kernel'): KernelCodes {
  if (quant.threshold === 'optimal') {
    const values = w.dataSync() as Float32Array;
    const fit = optimalFitOf(values, quant, layer);
    // A kernel that holds its fit already computes with itself (ternaryWeight).
    const ternary = quant.residualLevels ? Float32Array.from(values) : fit.weight;
    if (quant.tex === 1) return { encoding: 'nested', ternary, codes: fit.codes[0] };
    const codes = new Int8Array(values.length);
    for (let k = 0, place = 1; k < quant.tex; k++, place *= 3) {
      const digits = fit.codes[k];
      for (let i = 0; i < codes.length; i++) codes[i] += digits[i] * place;
    }
    return { encoding: 'residual', ternary, codes, alphas: Float32Array.from(fit.cuts, (c) => c.alpha) };
  }
  const parts = tf.tidy(() => {
    const { ternary, codes } = summedTernary(w, tf.abs(w), quant, true);
    return [ternary, codes as tf.Tensor];
  });
  const result: KernelCodes = {
    encoding: 'nested',
    ternary: parts[0].dataSync() as Float32Array,
    codes: Int8Array.from(parts[1].dataSync()),
  };
  tf.dispose(parts);
  return result;
}

/**
 * The weight a ternary layer computes with: Σ_k T_k over its t_ex branches (one conv on the sum
 * equals the sum of t_ex convs, since conv and dense are linear in the weights), with the
 * gradient the reference gets from its t_ex separate branches: t_ex · dY · 1[|W| < 1].
 */
export function ternaryWeight(w: tf.Tensor, quant: LayerQuant): tf.Tensor {
  const tex = quant.tex;
  // customGrad's signature is variadic over tensors and the save function; ours is (W, save).
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const x = args[0] as tf.Tensor;
    const absW = tf.abs(x);
    // tfjs saves only while recording a tape, so inference keeps nothing.
    (args[1] as tf.GradSaveFunc)([absW]);
    return {
      value: quant.residualLevels
        ? tf.clone(x)
        : quant.threshold === 'optimal'
          ? tf.tensor(optimalFit(x.dataSync(), tex).weight, x.shape)
          : summedTernary(x, absW, quant).ternary,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const pass = tf.cast(tf.less(saved[0], 1), 'float32');
        return tf.mul(dy, tex === 1 ? pass : tf.mul(pass, tex));
      },
    };
  });
  return op(w);
}

/** One ternarization (t_ex = 1) with the straight-through gradient dT · 1[|W| < 1]. */
export function steTernarize(w: tf.Tensor, options: TernarizeOptions): tf.Tensor {
  return ternaryWeight(w, { method: options.method, thresholdFactor: options.thresholdFactor, threshold: 'fixed', tex: 1 });
}
