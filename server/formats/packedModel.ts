/**
 * A trained LayersModel taken apart into what every export format writes: the topology JSON, and
 * per weight either float32 values or, for the kernel of a TernaryConv2D/TernaryDense, integer
 * codes and level magnitudes that reproduce exactly the weight our inference computes with.
 *
 * The weight of a ternary layer with t_ex REL branches is (server/core/quantizer.ts,
 * `summedTernary`) T = sign(W) · Σ_k α_k · 1[|W| ≥ Δ_k], Δ_k = f_k · max|W|, f_k = 0.05, 0.1,
 * 0.15, 0.2. The thresholds are nested (Δ_1 < Δ_2 < …), so the branches a weight passes are the
 * first m of them: T = sign(W) · A_m with A_m = α_1 + … + α_m (float32, summed in branch order
 * as tfjs does). The code of a weight is c = sign(W) · m ∈ [−t_ex, t_ex]; the levels A_1..A_t
 * are stored as float32. For t_ex = 1 this is c ∈ {−1, 0, +1} and A_1 = α.
 *
 * With optimal thresholds (server/core/optimalThresholds.ts) REL branches fit residuals, and their
 * non-zero sets are not nested: a weight is Σ_k s_k·α_k with any s_k ∈ {−1, 0, +1}, one of 3^t_ex
 * values. Such a kernel is stored `residual`: the code is the balanced-ternary number
 * c = Σ_k s_k·3^(k−1) ∈ [−(3^t − 1)/2, (3^t − 1)/2] (⌈log2 3^t⌉ bits: 4 for t_ex 2, 7 for t_ex 4)
 * and the levels are α_1..α_t; the value is the float32 sum Σ_k s_k·α_k in branch order. At
 * t_ex 1 both encodings are the same (c = s_1, A_1 = α_1), so such kernels are stored `nested`.
 *
 * Codes come from the quantizer with the T it computes (kernelCodes, server/core/quantizer.ts: the
 * same masks or fit that make T), levels are read off T, and every weight is checked: the decoded
 * value equals T bit for bit, or extraction fails.
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { branchFactors, kernelCodes, TWN_DELTA_SCALE, type CodeEncoding, type KernelCodes, type LayerQuant } from '../core/quantizer';
import { residualTable } from '../core/optimalThresholds';
import { quantOf } from '../core/layers/quantOf';
import { UserError } from '../../shared/userError';
import { codeBits as quantCodeBits } from '../../shared/quant';

/** A float32 weight, stored as it is. */
export interface FloatWeight {
  kind: 'float';
  /** tfjs weight name, e.g. `conv1_bn/gamma`. */
  name: string;
  shape: number[];
  values: Float32Array;
}

/** The kernel of a ternary layer as codes and levels. */
export interface TernaryWeight {
  kind: 'ternary';
  name: string;
  /** tfjs kernel shape: [kh, kw, in, out] for conv, [in, out] for dense. */
  shape: number[];
  quant: LayerQuant;
  /** How codes map to values (module comment); absent: `nested`. */
  encoding?: CodeEncoding;
  /** Nested: c ∈ [−t_ex, t_ex]; residual: balanced-ternary c. Per weight, in tfjs (row-major) order of `shape`. */
  codes: Int8Array;
  /** Nested: A_1..A_t, |T| of a weight with |c| = m is levels[m − 1]. Residual: α_1..α_t. Float32. */
  levels: Float32Array;
  /** max|W| of the latent weights (float32): with the codes and levels, enough to rebuild latent weights that ternarize to the same T (see latentFromCodes). */
  maxAbs: number;
}

export type PackedWeight = FloatWeight | TernaryWeight;

export type { CodeEncoding };

export interface PackedModel {
  /** The tfjs model topology (model.toJSON(null, false)), as model.json holds it. */
  topology: Record<string, unknown>;
  /** Weights in `model.weights` order (the order tfjs saves and `setWeights` takes them). */
  weights: PackedWeight[];
}

/** Bits per nested code: ⌈log2(2·t_ex + 1)⌉ (2 for ternary, 3 for t_ex 2, 4 for t_ex 4). */
export function codeBits(tex: number): number {
  return quantCodeBits({ tex, threshold: 'fixed' });
}

/** Bits per residual code: ⌈log2 3^t_ex⌉ (2 for t_ex 1, 4 for t_ex 2, 7 for t_ex 4). */
export function residualCodeBits(tex: number): number {
  return quantCodeBits({ tex, threshold: 'optimal' });
}

/** Largest |c| of an encoding: t_ex (nested) or (3^t_ex − 1)/2 (residual). */
export function maxCode(tex: number, encoding: CodeEncoding = 'nested'): number {
  return encoding === 'residual' ? (3 ** tex - 1) / 2 : tex;
}

/** Bits per code of a packed ternary kernel. */
export function weightCodeBits(w: Pick<TernaryWeight, 'quant' | 'encoding'>): number {
  return w.encoding === 'residual' ? residualCodeBits(w.quant.tex) : codeBits(w.quant.tex);
}

/**
 * Every code's value: `table[c + half]` for c ∈ [−half, half]. Residual values are summed in
 * float32 in branch order, as the training path (optimalFit) sums them.
 */
export function codeTable(levels: Float32Array, encoding: CodeEncoding = 'nested'): { half: number; table: Float32Array } {
  if (encoding === 'residual') return residualTable(levels);
  const t = levels.length;
  const table = new Float32Array(2 * t + 1);
  for (let c = -t; c <= t; c++) table[c + t] = c === 0 ? 0 : Math.sign(c) * levels[Math.abs(c) - 1];
  return { half: t, table };
}

/** The weight value of every code (sign(c) · A_|c| when nested), the exact float32 our inference uses. */
export function decodeCodes(codes: Int8Array, levels: Float32Array, encoding: CodeEncoding = 'nested'): Float32Array {
  const { half, table } = codeTable(levels, encoding);
  const out = new Float32Array(codes.length);
  for (let i = 0; i < codes.length; i++) out[i] = table[codes[i] + half];
  return out;
}

/** Thrown when a model cannot be packed (a layer we cannot represent exactly). */
export class PackError extends UserError {
  constructor(message: string) {
    super('exportFailed', message);
    this.name = 'PackError';
  }
}

/** Codes and levels of one ternary kernel: the quantizer's codes and T (kernelCodes), levels read off T, max|W| off the latent W. */
export function packTernary(name: string, shape: number[], latent: Float32Array, kernel: KernelCodes, quant: LayerQuant): TernaryWeight {
  const { ternary, codes } = kernel;
  let maxAbs = 0;
  for (let i = 0; i < latent.length; i++) maxAbs = Math.max(maxAbs, Math.abs(latent[i]));
  if (kernel.encoding === 'residual') {
    checkDecoded(name, codes, kernel.alphas, 'residual', ternary);
    return { kind: 'ternary', name, shape, quant, encoding: 'residual', codes, levels: kernel.alphas, maxAbs };
  }
  const t = quant.tex;
  // Level magnitudes as tfjs computed them: |T| of any weight at that level.
  const levels = new Float32Array(t);
  const seen = new Array<boolean>(t).fill(false);
  for (let i = 0; i < codes.length; i++) {
    const m = Math.abs(codes[i]);
    if (m > 0 && !seen[m - 1]) {
      levels[m - 1] = Math.abs(ternary[i]);
      seen[m - 1] = true;
    }
  }
  // A level no weight uses does not affect the output; fill it in order so levels stay increasing.
  for (let m = 0; m < t; m++) if (!seen[m]) levels[m] = m === 0 ? 0 : levels[m - 1];
  checkDecoded(name, codes, levels, 'nested', ternary);
  return { kind: 'ternary', name, shape, quant, codes, levels, maxAbs };
}

/** Every weight decodes to T bit for bit, or packing fails. */
function checkDecoded(name: string, codes: Int8Array, levels: Float32Array, encoding: CodeEncoding, ternary: Float32Array): void {
  const decoded = decodeCodes(codes, levels, encoding);
  for (let i = 0; i < decoded.length; i++) {
    if (decoded[i] !== ternary[i]) {
      throw new PackError(
        `Layer weight '${name}': weight ${i} is ${ternary[i]} in the model but ${decoded[i]} from its code ${codes[i]}; ` +
          `the ternary weights are not the ${encoding} levels the exporter expects. Report this with the model.`,
      );
    }
  }
}

/** Takes `model` apart into topology and packed weights (see the module comment). */
export function packModel(model: LayersModel): PackedModel {
  const topology = model.toJSON(null, false) as unknown as Record<string, unknown>;
  const weights: PackedWeight[] = [];
  const ternaryKernels = new Map<string, LayerQuant>();
  for (const layer of model.layers) {
    const quant = quantOf(layer);
    const kernel = (layer as unknown as { kernel?: { originalName: string } | null }).kernel;
    if (quant && kernel) ternaryKernels.set(kernel.originalName, quant);
  }
  for (const w of model.weights) {
    const shape = w.shape.map((d) => d as number);
    const latent = w.read();
    const values = latent.dataSync() as Float32Array;
    const quant = ternaryKernels.get(w.originalName);
    if (quant) {
      weights.push(packTernary(w.originalName, shape, values, kernelCodes(latent, quant, w.originalName), quant));
    } else {
      weights.push({ kind: 'float', name: w.originalName, shape, values: Float32Array.from(values) });
    }
  }
  return { topology, weights };
}

/** The ternary value of every weight (float weights as they are): what a stock runtime holds. */
export function ternaryValues(w: PackedWeight): Float32Array {
  return w.kind === 'float' ? w.values : decodeCodes(w.codes, w.levels, w.encoding);
}

/**
 * Latent float weights W' that our quantizer turns back into these codes and these α's, with the
 * thresholds Δ the model was made with: loading a `.tern` file (or our `model.onnx`) gives a
 * TernaryConv2D/TernaryDense again (for `tern stats`, evaluation and fine-tuning), whose forward
 * pass must equal the exported model's and whose statistics must be the exported ones.
 *
 * he2019's Δ_k = f_k·max|W|: one weight of the top level is max|W| itself (stored in the file), so
 * every Δ_k is the original. The quantizer recomputes α_k = Σ|W'|·1[|W'| ≥ Δ_k] / count on the
 * backend, and backends such as wasm sum in float32: a sum of many equal float32 values drifts
 * (2e-4 relative measured on a 18 K-weight layer). So every other |W'| is a whole multiple of
 * g = 2^⌈log2(n·max)⌉ · 2^-24: partial sums of them are exact in float32, in any order (max|W|
 * adds less than one g of rounding), and α'_k = fl(I_k·g / N_k) with I_k, the number of g-units of
 * the weights at levels ≥ k, chosen as round(N_k·α_k / g). Level-m weights share their units
 * evenly (values differ by one g at most), so their magnitudes stay inside the level's interval
 * [f_m·M, f_{m+1}·M) as the original weights were. Where g is too coarse for that — REL's
 * 0.05·M-wide levels beyond ~40 K weights, any layer beyond ~2^24 weights, where a weight would be
 * less than one g — the weights take their level's mean instead (latentByMeans). Either way the
 * codes are checked: the rebuilt weights ternarize to exactly the stored codes.
 */
export function latentFromCodes(w: TernaryWeight): Float32Array {
  if (w.encoding === 'residual') {
    // A residual fit cannot be steered back to given digits and α's through a latent: modelFromPacked
    // (ternFile.ts) loads such kernels as float layers holding their values instead.
    throw new Error(`Layer weight '${w.name}': residual-coded kernels have no latent weights to rebuild; load them as float values.`);
  }
  return latentOnGrid(w) ?? latentByMeans(w);
}

/** Δ_k = fround(fround(f_k)·max|W|), as the quantizer computes them in float32 (he2019). */
function he2019Deltas(quant: LayerQuant, maxAbs: number): number[] {
  return branchFactors(quant).map((f) => Math.fround(Math.fround(f) * maxAbs));
}

/** TWN's Δ = 0.7·mean|W| from the sum of |W| over n weights, rounded as the quantizer's float32 tensors are. */
function twnDelta(sumAbs: number, n: number): number {
  return Math.fround(Math.fround(TWN_DELTA_SCALE) * Math.fround(n > 0 ? sumAbs / n : 0));
}

/**
 * The whole-g construction of latentFromCodes, or undefined where g is too coarse: a level's
 * magnitudes (base or base + 1 units, and M) would leave its interval [Δ_m, Δ_{m+1}).
 */
function latentOnGrid(w: TernaryWeight): Float32Array | undefined {
  const t = w.quant.tex;
  const n = w.codes.length;
  const counts = new Array<number>(t + 2).fill(0);
  for (let i = 0; i < n; i++) counts[Math.abs(w.codes[i])]++;
  // α_k = A_k − A_{k−1}.
  const alphas = Array.from(w.levels, (a, k) => a - (k === 0 ? 0 : w.levels[k - 1]));
  // he2019 keeps max|W| (its thresholds are multiples of it); TWN's Δ is a multiple of mean|W|.
  const twn = w.quant.method === 'twn';
  const keepsMax = !twn && w.maxAbs > 0;
  const top = keepsMax ? w.maxAbs : Math.max(...alphas);
  const g = 2 ** (Math.ceil(Math.log2(Math.max(n * Math.max(top, w.levels[t - 1]) * 1.01, Number.MIN_VALUE))) - 24);
  // Units of the weights at levels ≥ k (N_k of them), then per level.
  const atOrAbove = new Array<number>(t + 2).fill(0);
  for (let m = t; m >= 1; m--) atOrAbove[m] = atOrAbove[m + 1] + counts[m];
  const unitsAtOrAbove = new Array<number>(t + 2).fill(0);
  for (let k = 1; k <= t; k++) unitsAtOrAbove[k] = atOrAbove[k] ? Math.round((atOrAbove[k] * alphas[k - 1]) / g) : 0;
  // Per level: the first weight's magnitude when it is max|W|, then `base` units each, one more for the first `extra`.
  const levels: { first?: number; base: number; extra: number }[] = [{ base: 0, extra: 0 }];
  let sum = 0;
  let max = 0;
  for (let m = 1; m <= t; m++) {
    let units = unitsAtOrAbove[m] - unitsAtOrAbove[m + 1];
    let c = counts[m];
    let first: number | undefined;
    if (m === t && keepsMax && c > 0) {
      // One weight holds max|W|, so the thresholds f_k·max|W'| are the original ones.
      first = w.maxAbs;
      units = Math.round(units - w.maxAbs / g);
      c -= 1;
      sum += first;
    }
    const base = c > 0 ? Math.floor(units / c) : 0;
    const extra = c > 0 ? units - base * c : 0;
    levels.push({ first, base, extra });
    if (c > 0) sum += units * g;
    max = Math.max(max, first ?? 0, (extra > 0 ? base + 1 : base) * g);
  }
  // The thresholds these magnitudes give, and whether every level stays inside its interval.
  const deltas = twn ? [twnDelta(sum, n)] : he2019Deltas(w.quant, max);
  const large = (a: number, m: number): boolean => (twn ? a > deltas[0] : a >= deltas[m - 1]);
  for (let m = 1; m <= t; m++) {
    if (counts[m] === 0) continue;
    const { first, base, extra } = levels[m];
    const rest = counts[m] - (first === undefined ? 0 : 1);
    const magnitudes = [...(first === undefined ? [] : [first]), ...(rest > 0 ? [base * g] : []), ...(extra > 0 ? [(base + 1) * g] : [])];
    for (const a of magnitudes) if (!large(a, m) || (m < t && large(a, m + 1))) return undefined;
  }
  const out = new Float32Array(n);
  const placed = new Array<number>(t + 1).fill(0);
  for (let i = 0; i < n; i++) {
    const c = w.codes[i];
    if (c === 0) continue;
    const m = c < 0 ? -c : c;
    const level = levels[m];
    let k = placed[m]++;
    let mag: number;
    if (level.first !== undefined && k === 0) mag = level.first;
    else {
      if (level.first !== undefined) k -= 1;
      mag = (k < level.extra ? level.base + 1 : level.base) * g;
    }
    out[i] = c < 0 ? -mag : mag;
  }
  return out;
}

/**
 * The fallback where whole-g magnitudes do not fit: level-m weights all at the level's mean μ_m
 * (clamped into [Δ_m, Δ_{m+1}) in float32), one top weight at M. Exact in float64 sums (the cpu and
 * oneDNN backends, and the statistics); a float32-summing backend recomputes α with its rounding
 * drift. TWN (t_ex 1): every weight at ±α, whose Δ = 0.7·mean stays below α.
 */
function latentByMeans(w: TernaryWeight): Float32Array {
  const t = w.quant.tex;
  if (w.quant.method === 'twn') return decodeCodes(w.codes, w.levels);
  const counts = new Array<number>(t + 1).fill(0);
  for (let i = 0; i < w.codes.length; i++) counts[Math.abs(w.codes[i])]++;
  // α_k = A_k − A_{k−1} (in float64; the latent need only be close, the codes must match).
  const alphas = Array.from(w.levels, (a, k) => a - (k === 0 ? 0 : w.levels[k - 1]));
  // Mean of the weights at levels ≥ k is α_k; so μ_m = (α_m·N_m − α_{m+1}·N_{m+1}) / n_m with N_k = Σ_{j≥k} n_j.
  const atOrAbove = new Array<number>(t + 2).fill(0);
  for (let m = t; m >= 1; m--) atOrAbove[m] = atOrAbove[m + 1] + counts[m];
  const mean = new Array<number>(t + 1).fill(0);
  for (let m = 1; m <= t; m++) {
    if (counts[m] === 0) continue;
    const above = m < t ? alphas[m] * atOrAbove[m + 1] : 0;
    mean[m] = (alphas[m - 1] * atOrAbove[m] - above) / counts[m];
  }
  // Keep every magnitude inside its level's float32 interval [Δ_m, Δ_{m+1}) and at most M, whatever the rounding.
  const deltas = he2019Deltas(w.quant, w.maxAbs);
  const inLevel = (mag: number, m: number): number => {
    let v = Math.min(Math.max(Math.fround(mag), deltas[m - 1]), w.maxAbs);
    if (m < t) while (v >= deltas[m]) v = previousFloat32(v);
    return v;
  };
  for (let m = 1; m <= t; m++) mean[m] = inLevel(mean[m], m);
  const out = new Float32Array(w.codes.length);
  const top = w.maxAbs;
  const topRest = counts[t] > 1 ? inLevel((mean[t] * counts[t] - top) / (counts[t] - 1), t) : top;
  let topPlaced = false;
  for (let i = 0; i < w.codes.length; i++) {
    const c = w.codes[i];
    const m = Math.abs(c);
    if (m === 0) continue;
    let mag: number;
    if (m === t) {
      mag = topPlaced ? topRest : top;
      topPlaced = true;
    } else {
      mag = mean[m];
    }
    out[i] = c < 0 ? -mag : mag;
  }
  return out;
}
function previousFloat32(v: number): number {
  const f = new Float32Array([v]);
  const bits = new Uint32Array(f.buffer);
  bits[0] -= 1;
  return f[0];
}

/** TWN's threshold scale, re-exported for the format docs and tests. */
export { TWN_DELTA_SCALE };
