/**
 * Per-layer statistics and the model summary (docs/method.md, Statistics): Δ, α per REL branch, sparsity,
 * counts of −α / 0 / +α, the relative reconstruction error, parameters, bits, and fp32 vs packed model size. Computed on the host with
 * the JS reference quantizer, independent of the training path.
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { ternarizeBranchesReference } from '../core/quantizerReference';
import { DataError } from '../data/errors';
import { kernelLayers, type KernelLayer } from './kernelLayers';
import type { BranchStats, InputQuantStats, LayerStats, ModelSummary } from '../../shared/layerStats';
import { activationQuant } from '../core/activationQuant';
import { codeBits, ternaryKernelBits } from '../../shared/quant';

function statsOf(k: KernelLayer): LayerStats {
  const params = k.kernel.length + k.otherParams;
  let nonFinite = 0;
  for (const v of k.kernel) if (!Number.isFinite(v)) nonFinite++;
  if (nonFinite > 0) {
    // Δ = f·max|W| of NaN weights compares false everywhere: Δ 0, α 0, "100 % sparse", all wrong.
    throw new DataError(
      `Layer "${k.name}" has ${nonFinite} of ${k.kernel.length} weights that are NaN or infinite: the model is broken ` +
        '(it may come from a run whose loss diverged), and its Δ, α and sparsity would be meaningless. Use a checkpoint or model from before that happened.',
    );
  }
  if (!k.quant) {
    return {
      layer: k.name,
      type: k.type,
      ternary: false,
      shape: k.shape,
      params,
      bits: 32,
      delta: 0,
      alpha: 0,
      sparsity: 0,
      counts: { neg: 0, zero: 0, pos: 0 },
      branches: [],
      relError: 0,
    };
  }
  const reference = ternarizeBranchesReference(k.kernel, k.quant);
  const branches: BranchStats[] = reference.map((b) => ({
    factor: b.factor,
    delta: b.delta,
    alpha: b.alpha,
    sparsity: k.kernel.length > 0 ? b.counts.zero / k.kernel.length : 0,
    counts: b.counts,
  }));
  const first = branches[0];
  return {
    layer: k.name,
    type: k.type,
    ternary: true,
    shape: k.shape,
    params,
    bits: codeBits(k.quant),
    delta: first.delta,
    alpha: first.alpha,
    sparsity: first.sparsity,
    counts: { ...first.counts },
    branches,
    relError: relativeError(k.kernel, reference),
    threshold: k.quant.threshold ?? 'fixed',
    ...inputStatsOf(k.layer),
  };
}

/** The `input` field of an int8 layer (server/core/activationQuant.ts), nothing for a float input. */
function inputStatsOf(layer: unknown): { input?: InputQuantStats } {
  const range = (layer as { inputRange?: { read(): { dataSync(): ArrayLike<number> } } | null }).inputRange;
  if (!range) return {};
  const values = range.read().dataSync();
  return { input: inputQuantStats(values[0]!, values[1]!) };
}

/** An input range and its uint8 grid, as the layers and the QDQ export compute it (activationQuant). */
export function inputQuantStats(min: number, max: number): InputQuantStats {
  const { scale, zeroPoint } = activationQuant(min, max);
  return { min, max, scale, zeroPoint };
}

/** ‖W − Σ_k T_k‖ / ‖W‖ in float64, with Σ_k T_k summed in float32 in branch order as the layers do. */
function relativeError(w: Float32Array, branches: { ternary: Float32Array }[]): number {
  let err = 0;
  let norm = 0;
  for (let i = 0; i < w.length; i++) {
    let t = 0;
    for (const b of branches) t = Math.fround(t + b.ternary[i]);
    err += (w[i] - t) ** 2;
    norm += w[i] * w[i];
  }
  return norm > 0 ? Math.sqrt(err / norm) : 0;
}

/** Statistics of every conv/dense layer (float ones with `ternary: false`), in model order. */
export function layerStats(model: LayersModel): LayerStats[] {
  return kernelLayers(model).map(statsOf);
}

/**
 * Model size in float32 and packed as `model.tern` stores it, to the byte of its arithmetic minimum
 * (docs/formats.md): ternary kernels as their codes (2 bits a weight at t_ex 1; 3, 4 nested and 4, 7
 * residual with REL) plus a float32 level per branch, every other parameter (biases, BatchNorm,
 * float layers) float32. Pass `stats` to reuse `layerStats(model)`.
 */
export function modelSummary(model: LayersModel, stats: LayerStats[] = layerStats(model)): ModelSummary {
  const params = model.countParams();
  let ternaryParams = 0;
  let bits = 0;
  for (const s of stats) {
    if (!s.ternary) continue;
    const kernelWeights = s.shape.reduce((a, b) => a * b, 1);
    ternaryParams += kernelWeights;
    bits += ternaryKernelBits(kernelWeights, { tex: s.branches.length, threshold: s.threshold });
  }
  bits += (params - ternaryParams) * 32;
  const ternaryBytes = Math.ceil(bits / 8);
  const fp32Bytes = params * 4;
  return {
    layers: stats.length,
    ternaryLayers: stats.filter((s) => s.ternary).length,
    params,
    ternaryParams,
    fp32Bytes,
    ternaryBytes,
    compression: ternaryBytes > 0 ? fp32Bytes / ternaryBytes : 1,
  };
}
