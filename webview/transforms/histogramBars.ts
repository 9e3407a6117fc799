/** Bar geometry of a server-binned latent-weight histogram and of the three exact ternary counts. */
import { formatNumber } from '../../shared/format';
import type { WeightHistogram } from '../../shared/webviewProtocol';

export interface Bars {
  /** Bar centres. */
  x: number[];
  /** Bar heights (counts). */
  y: number[];
  /** Width of one bar in x units. */
  width: number;
}

/** Bins are equal-width over [min, max]: bin i is centred at min + (i + ½)·w. */
export function latentHistogramBars(h: WeightHistogram): Bars {
  const n = h.bins.length;
  if (n === 0) return { x: [], y: [], width: 0 };
  // A layer whose weights are all equal has min = max: one bar of nominal width.
  const width = h.max > h.min ? (h.max - h.min) / n : Math.max(Math.abs(h.min), 1e-6) * 0.1;
  return { x: h.bins.map((_, i) => h.min + (i + 0.5) * width), y: h.bins.slice(), width };
}

/**
 * Whether the layer was kept in full precision (a float layer of a ternary model): it has no Δ, α
 * or ternary values to show. Runs written before histograms said so (no `ternary`) tell it by
 * α = 0 and no counts, which a ternarized layer never has.
 */
export function isFloatLayer(h: WeightHistogram): boolean {
  if (h.ternary !== undefined) return !h.ternary;
  const { neg, zero, pos } = h.counts;
  return h.alpha === 0 && neg + zero + pos === 0;
}

export interface TernaryBars {
  /** The ternary values −α, 0, +α. */
  x: [number, number, number];
  /** Exact counts of weights equal to each. */
  y: [number, number, number];
  labels: [string, string, string];
  /** The same with their values, for the counts table: "−α = −0.0829", "0" (not "0 = 0"), "+α = 0.0829". */
  values: [string, string, string];
  /** Fraction of all weights per value. */
  fractions: [number, number, number];
}

/** The three ternary values as bars at −α, 0, +α with the exact counts the server reports. */
export function ternaryBars(h: WeightHistogram): TernaryBars {
  const { neg, zero, pos } = h.counts;
  const total = neg + zero + pos;
  const frac = (c: number): number => (total > 0 ? c / total : 0);
  return {
    x: [-h.alpha, 0, h.alpha],
    y: [neg, zero, pos],
    labels: ['−α', '0', '+α'],
    values: [`−α = ${formatNumber(-h.alpha, 4)}`, '0', `+α = ${formatNumber(h.alpha, 4)}`],
    fractions: [frac(neg), frac(zero), frac(pos)],
  };
}

/** Number of weights the bins cover (equals the ternary total when the histogram is complete). */
export function binTotal(h: WeightHistogram): number {
  return h.bins.reduce((a, b) => a + b, 0);
}

/** x range that shows every bin, ±Δ and ±α, with a small margin. */
export function histogramRange(h: WeightHistogram): [number, number] {
  const lo = Math.min(h.min, -h.delta, -h.alpha);
  const hi = Math.max(h.max, h.delta, h.alpha);
  const span = hi - lo || 1;
  return [lo - span * 0.03, hi + span * 0.03];
}
