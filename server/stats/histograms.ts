/** Binned histograms of the latent (full-precision) weights of every conv/dense layer. */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { branchFactors } from '../core/quantizer';
import { ternarizeBranchesReference } from '../core/quantizerReference';
import { kernelLayers } from './kernelLayers';
import type { WeightHistogram } from '../../shared/layerStats';

/** Counts of `values` in `bins` equal-width bins over [min, max] (the last bin includes max). */
export function binValues(values: ArrayLike<number>, bins: number): { min: number; max: number; bins: number[] } {
  if (!Number.isInteger(bins) || bins < 1) throw new Error(`bins must be a positive integer (got ${bins}).`);
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    if (values[i] < min) min = values[i];
    if (values[i] > max) max = values[i];
  }
  const counts = new Array<number>(bins).fill(0);
  if (values.length === 0) return { min: 0, max: 0, bins: counts };
  const width = (max - min) / bins;
  for (let i = 0; i < values.length; i++) {
    const b = width > 0 ? Math.min(bins - 1, Math.floor((values[i] - min) / width)) : 0;
    counts[b]++;
  }
  return { min, max, bins: counts };
}

/** Bins of the weight histograms in a run's histograms/ and in `ternary/stats` answers. */
export const HISTOGRAM_BINS = 64;

/** One histogram per conv/dense layer; Δ, α and counts are the first branch's (zeros for float layers). */
export function weightHistograms(model: LayersModel, bins = HISTOGRAM_BINS): WeightHistogram[] {
  return kernelLayers(model).map((k) => {
    const binned = binValues(k.kernel, bins);
    if (!k.quant) return histogramOf(k.name, binned, null);
    // The first branch alone: REL's first factor, not the t_ex 1 factor the layer would use.
    const first = ternarizeBranchesReference(k.kernel, { ...k.quant, tex: 1, thresholdFactor: branchFactors(k.quant)[0]! })[0];
    return histogramOf(k.name, binned, first);
  });
}

/**
 * A layer's histogram record from its bins and its first branch (null: a float layer, recorded
 * with zeros and `ternary: false`). Engines that bin weights themselves send these two parts
 * (shared/engineProtocol.ts EngineHistogram).
 */
export function histogramOf(
  layer: string,
  binned: Pick<WeightHistogram, 'min' | 'max' | 'bins'>,
  first: Pick<WeightHistogram, 'delta' | 'alpha' | 'counts'> | null,
): WeightHistogram {
  const { min, max, bins } = binned;
  if (!first) return { layer, min, max, bins, delta: 0, alpha: 0, counts: { neg: 0, zero: 0, pos: 0 }, ternary: false };
  return { layer, min, max, bins, delta: first.delta, alpha: first.alpha, counts: first.counts, ternary: true };
}
