/**
 * Synthetic run records for the panels' end-to-end test: deterministic metrics curves and layers
 * whose latent weights are drawn, ternarized with the paper's rule (Δ = f·max|W|, α = mean|W| over
 * |W| ≥ Δ) and binned, so layers.jsonl and histograms/ agree exactly, as the trainer's do.
 */
import type { HistogramsRecord, LayerStats, LayersRecord, MetricsRecord, RunSummary, WeightHistogram } from '../../shared/protocol';

/** Deterministic uniform numbers in [0, 1) (LCG). */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/** Metrics of a whole run: `epochs` epochs of `batchesPerEpoch` batch lines plus an epoch line each. */
export function syntheticMetrics(seed: number, epochs: number, batchesPerEpoch: number, stepsPerBatchLine = 4): MetricsRecord[] {
  const rand = lcg(seed);
  const records: MetricsRecord[] = [];
  let step = 0;
  for (let e = 1; e <= epochs; e++) {
    records.push(...syntheticEpochMetrics(rand, seed, e, epochs, batchesPerEpoch, stepsPerBatchLine, step));
    step += batchesPerEpoch * stepsPerBatchLine;
  }
  return records;
}

/** The lines of one epoch (batch lines, then the epoch line), starting after global step `step0`. */
export function syntheticEpochMetrics(
  rand: () => number,
  seed: number,
  epoch: number,
  epochs: number,
  batchesPerEpoch: number,
  stepsPerBatchLine: number,
  step0: number,
): MetricsRecord[] {
  const out: MetricsRecord[] = [];
  const speed = 1 + (seed % 5) * 0.15;
  const lr = 0.1 * (epoch > epochs * 0.5 ? 0.1 : 1) * (epoch > epochs * 0.75 ? 0.1 : 1);
  const level = (t: number): number => 2.3 * Math.exp(-speed * 3 * t) + 0.2 + 0.05 * (seed % 3);
  for (let b = 1; b <= batchesPerEpoch; b++) {
    const t = (epoch - 1 + b / batchesPerEpoch) / epochs;
    const loss = level(t) * (1 + 0.08 * gaussian(rand));
    const top1 = Math.min(0.99, Math.max(0, 1 - loss / 2.5));
    out.push({
      kind: 'batch',
      epoch,
      step: step0 + b * stepsPerBatchLine,
      progress: b / batchesPerEpoch,
      lr,
      loss,
      top1,
      top5: Math.min(1, top1 + 0.25 * (1 - top1)),
      imgPerSec: 400 + 20 * gaussian(rand),
      time: (epoch - 1 + b / batchesPerEpoch) * 30,
    });
  }
  const t = epoch / epochs;
  const loss = level(t);
  const top1 = Math.min(0.99, Math.max(0.02, 1 - loss / 2.5));
  const valLoss = loss * 1.1;
  const valTop1 = Math.min(0.99, Math.max(0.02, 1 - valLoss / 2.5));
  out.push({
    kind: 'epoch',
    epoch,
    step: step0 + batchesPerEpoch * stepsPerBatchLine,
    lr,
    loss,
    top1,
    top5: Math.min(1, top1 + 0.25 * (1 - top1)),
    valLoss,
    valTop1,
    valTop5: Math.min(1, valTop1 + 0.25 * (1 - valTop1)),
    imgPerSec: 400,
    time: epoch * 30,
  });
  return out;
}

const layerShapes: { layer: string; shape: number[] }[] = [
  { layer: 'conv1', shape: [3, 3, 1, 16] },
  { layer: 'conv2', shape: [3, 3, 16, 32] },
  { layer: 'dense', shape: [512, 10] },
];
export const syntheticLayerNames = layerShapes.map((l) => l.layer);

/** The ternary stats and the 64-bin latent histogram of one layer, as the server computes them. */
export function ternarize(
  layer: string,
  shape: number[],
  w: Float64Array,
  factor = 0.05,
  bins = 64,
): { stats: LayerStats; histogram: WeightHistogram } {
  let maxAbs = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const v of w) {
    maxAbs = Math.max(maxAbs, Math.abs(v));
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const delta = factor * maxAbs;
  let sum = 0;
  let n = 0;
  const counts = { neg: 0, zero: 0, pos: 0 };
  for (const v of w) {
    if (v >= delta) counts.pos++;
    else if (v <= -delta) counts.neg++;
    else counts.zero++;
    if (Math.abs(v) >= delta) {
      sum += Math.abs(v);
      n++;
    }
  }
  const alpha = n ? sum / n : 0;
  const hist = new Array<number>(bins).fill(0);
  const width = (max - min) / bins;
  for (const v of w) hist[Math.min(bins - 1, Math.floor((v - min) / width))]++;
  const sparsity = counts.zero / w.length;
  const stats: LayerStats = {
    layer,
    type: shape.length === 4 ? 'TernaryConv2D' : 'TernaryDense',
    ternary: true,
    shape,
    params: w.length,
    bits: 2,
    delta,
    alpha,
    sparsity,
    counts,
    branches: [{ factor, delta, alpha, sparsity, counts }],
  };
  return { stats, histogram: { layer, min, max, bins: hist, delta, alpha, counts } };
}

/** Layers and histograms records of one epoch: weights drift toward 0 as training goes on. */
export function syntheticEpochLayers(seed: number, epoch: number, epochs: number): { layers: LayersRecord; histograms: HistogramsRecord } {
  const rand = lcg(seed * 1000 + epoch);
  const stats: LayerStats[] = [];
  const histograms: WeightHistogram[] = [];
  // A growing share of weights collapses near 0, so sparsity rises over the epochs.
  const collapsed = 0.05 + 0.45 * (epoch / epochs);
  for (const { layer, shape } of layerShapes) {
    const size = shape.reduce((a, b) => a * b, 1);
    const w = new Float64Array(size);
    for (let i = 0; i < size; i++) w[i] = gaussian(rand) * (rand() < collapsed ? 0.002 : 0.05);
    const t = ternarize(layer, shape, w);
    stats.push(t.stats);
    histograms.push(t.histogram);
  }
  const params = stats.reduce((a, s) => a + s.params, 0);
  const fp32Bytes = params * 4;
  const ternaryBytes = Math.ceil((params * 2) / 8) + 4 * stats.length;
  return {
    layers: {
      epoch,
      layers: stats,
      summary: {
        layers: stats.length,
        ternaryLayers: stats.length,
        params,
        ternaryParams: params,
        fp32Bytes,
        ternaryBytes,
        compression: fp32Bytes / ternaryBytes,
      },
    },
    histograms: { epoch, histograms },
  };
}

/** summary.json of a completed synthetic run. */
export function syntheticSummary(runId: string, experiment: string, epochs: number): RunSummary {
  return {
    runId,
    experiment,
    status: 'completed',
    epochs,
    final: { top1: 0.9, top5: 0.99, loss: 0.3 },
    best: { top1: 0.9, top5: 0.99, loss: 0.3, epoch: epochs },
    backend: 'fixture',
    fp32Bytes: 0,
    ternaryBytes: 0,
    compression: 0,
    wallSeconds: 0,
  };
}
