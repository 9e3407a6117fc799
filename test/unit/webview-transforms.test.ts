import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alignSeries } from '../../webview/transforms/align';
import { emaSmooth } from '../../webview/transforms/ema';
import { hasLogDrawable, logSafe } from '../../webview/transforms/logScale';
import { binTotal, histogramRange, isFloatLayer, latentHistogramBars, ternaryBars } from '../../webview/transforms/histogramBars';
import { buildChartData, formatChartNumber, formatChartPercent, validationDash } from '../../webview/transforms/chartData';
import { epochPosition } from '../../shared/progressText';
import { mergeLayers, mergeMetrics, metricSeries, sparsitySeries } from '../../webview/transforms/metricsSeries';
import type { LayerStats, LayersRecord, MetricsRecord, WeightHistogram } from '../../shared/webviewProtocol';

function close(actual: (number | null)[], expected: (number | null)[], eps = 1e-12): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((a, i) => {
    const e = expected[i];
    if (e === null || Number.isNaN(e)) assert.ok(Object.is(a, e), `index ${i}: ${a} vs ${e}`);
    else assert.ok(a !== null && Math.abs(a - e) < eps, `index ${i}: ${a} vs ${e}`);
  });
}

test('EMA is debiased like TensorBoard: w=0.5 over 1,2,3 gives 1, 5/3, 17/7', () => {
  // last: 0.5, 1.25, 2.125; debias 1-0.5^n: 0.5, 0.75, 0.875
  close(emaSmooth([1, 2, 3], 0.5), [1, 5 / 3, 17 / 7]);
});

test('EMA passes gaps through without advancing the average', () => {
  close(emaSmooth([1, null, 2, NaN, 3], 0.5), [1, null, 5 / 3, NaN, 17 / 7]);
});

test('EMA keeps constant series and weight 0 unchanged, rejects weight 1', () => {
  assert.deepEqual(emaSmooth([2, 2, null, 2], 0.9), [2, 2, null, 2]);
  assert.deepEqual(emaSmooth([3, 1, 4], 0), [3, 1, 4]);
  assert.throws(() => emaSmooth([1, 2], 1), /\[0, 1\)/);
});

test('EMA with w=0.9: the first smoothed point equals the first value (no pull toward 0)', () => {
  const s = emaSmooth([10, 0], 0.9);
  assert.equal(s[0], 10);
  // last = 0.9·1 + 0 = 0.9 → 0.9 / (1 − 0.81) = 4.7368…
  close([s[1]], [0.9 / 0.19]);
});

test('alignSeries: union of x values, nulls where a run has no point', () => {
  const a = alignSeries([
    { x: [0, 1, 2], y: [10, 11, 12] },
    { x: [1, 1.5], y: [20, 21] },
  ]);
  assert.deepEqual(a.x, [0, 1, 1.5, 2]);
  assert.deepEqual(a.ys, [
    [10, 11, null, 12],
    [null, 20, 21, null],
  ]);
});

test('alignSeries: a repeated x keeps the later value; mismatched lengths throw', () => {
  assert.deepEqual(alignSeries([{ x: [1, 1], y: [5, 6] }]).ys, [[6]]);
  assert.throws(() => alignSeries([{ x: [1, 2], y: [1] }]), /2 x values but 1 y values/);
  assert.deepEqual(alignSeries([]), { x: [], ys: [] });
});

test('logSafe turns 0, negatives and non-finite values into gaps', () => {
  assert.deepEqual(logSafe([1, 0, -1, null, NaN, Infinity, 0.5]), [1, null, null, null, null, null, 0.5]);
  assert.equal(hasLogDrawable([0, -2, null]), false);
  assert.equal(hasLogDrawable([0, 1e-9]), true);
});

const hist: WeightHistogram = {
  layer: 'conv1',
  min: -1,
  max: 1,
  bins: [1, 2, 3, 4],
  delta: 0.05,
  alpha: 0.4,
  counts: { neg: 2, zero: 5, pos: 3 },
};

test('latent histogram bars: equal-width bins centred in [min, max]', () => {
  const b = latentHistogramBars(hist);
  assert.equal(b.width, 0.5);
  assert.deepEqual(b.x, [-0.75, -0.25, 0.25, 0.75]);
  assert.deepEqual(b.y, [1, 2, 3, 4]);
  assert.equal(binTotal(hist), 10);
  assert.deepEqual(latentHistogramBars({ ...hist, bins: [] }), { x: [], y: [], width: 0 });
});

test('latent histogram of a constant layer (min = max) gets one bar of nonzero width', () => {
  const b = latentHistogramBars({ ...hist, min: 0.2, max: 0.2, bins: [7] });
  assert.ok(Math.abs(b.width - 0.02) < 1e-15);
  assert.deepEqual(b.x, [0.2 + 0.01]);
});

test('ternary bars are the exact counts at −α, 0, +α', () => {
  const t = ternaryBars(hist);
  assert.deepEqual(t.x, [-0.4, 0, 0.4]);
  assert.deepEqual(t.y, [2, 5, 3]);
  assert.deepEqual(t.fractions, [0.2, 0.5, 0.3]);
  assert.deepEqual(t.labels, ['−α', '0', '+α']);
  // The counts table: each value once, with one minus sign (not "0 = 0", not "-0.4").
  assert.deepEqual(t.values, ['−α = −0.4', '0', '+α = 0.4']);
  assert.deepEqual(ternaryBars({ ...hist, counts: { neg: 0, zero: 0, pos: 0 } }).fractions, [0, 0, 0]);
});

test('histogram range covers bins, ±Δ and ±α with a 3 % margin', () => {
  close(histogramRange(hist), [-1.06, 1.06]);
  // α beyond the bins: range grows to ±0.5, span 1, margin 0.03
  close(histogramRange({ ...hist, min: -0.3, max: 0.2, alpha: 0.5 }), [-0.53, 0.53]);
});

const m = (kind: 'batch' | 'epoch', epoch: number, step: number, extra: Partial<MetricsRecord> = {}): MetricsRecord => ({
  kind,
  epoch,
  step,
  lr: 0.1,
  loss: 1,
  top1: 0.5,
  time: step,
  ...extra,
});

test('epochPosition: batch lines at epoch − 1 + progress, epoch lines at the epoch', () => {
  assert.equal(epochPosition(m('batch', 2, 10, { progress: 0.25 })), 1.25);
  assert.equal(epochPosition(m('epoch', 2, 20)), 2);
  assert.equal(epochPosition(m('batch', 3, 10)), 3);
});

test('metricSeries: validation from epoch lines only; missing values skipped, non-finite ones become gaps', () => {
  const recs = [
    m('batch', 1, 5, { progress: 0.5, loss: 2 }),
    m('epoch', 1, 10, { loss: 1.5, valLoss: 1.7, valTop1: 0.4 }),
    m('batch', 2, 15, { progress: 0.5, loss: NaN }),
  ];
  assert.deepEqual(metricSeries(recs, 'loss'), { x: [0.5, 1, 1.5], y: [2, 1.5, null] });
  assert.deepEqual(metricSeries(recs, 'valTop1'), { x: [1], y: [0.4] });
  assert.deepEqual(metricSeries(recs, 'top5'), { x: [], y: [] });
});

test('mergeMetrics drops duplicates (history ∩ live) and restores step order', () => {
  const into: MetricsRecord[] = [];
  const seen = new Set<string>();
  assert.equal(mergeMetrics(into, seen, [m('batch', 1, 5), m('batch', 1, 10)]), 2);
  assert.equal(mergeMetrics(into, seen, [m('batch', 1, 10), m('epoch', 1, 10), m('batch', 1, 1)]), 2);
  assert.deepEqual(
    into.map((r) => `${r.kind}${r.step}`),
    ['batch1', 'batch5', 'batch10', 'epoch10'],
  );
});

const layer = (name: string, sparsity: number, ternary = true): LayerStats => ({
  layer: name,
  type: ternary ? 'TernaryConv2D' : 'Conv2D',
  ternary,
  shape: [3, 3, 1, 4],
  params: 36,
  bits: ternary ? 2 : 32,
  delta: 0.1,
  alpha: 0.2,
  sparsity,
  counts: { neg: 1, zero: 2, pos: 1 },
  branches: [],
});
const layersRec = (epoch: number, layers: LayerStats[]): LayersRecord => ({
  epoch,
  layers,
  summary: { layers: 2, ternaryLayers: 1, params: 72, ternaryParams: 36, fp32Bytes: 288, ternaryBytes: 157, compression: 1.83 },
});

test('sparsitySeries: one series per ternary layer, epochs in order', () => {
  const s = sparsitySeries([layersRec(2, [layer('a', 0.3), layer('fc', 0, false)]), layersRec(1, [layer('a', 0.5)])]);
  assert.deepEqual(s, [{ layer: 'a', series: { x: [1, 2], y: [0.5, 0.3] } }]);
});

test('mergeLayers replaces an epoch already present and keeps epoch order', () => {
  const into: LayersRecord[] = [];
  mergeLayers(into, layersRec(2, [layer('a', 0.1)]));
  mergeLayers(into, layersRec(1, [layer('a', 0.2)]));
  mergeLayers(into, layersRec(2, [layer('a', 0.3)]));
  assert.deepEqual(
    into.map((r) => [r.epoch, r.layers[0].sparsity]),
    [
      [1, 0.2],
      [2, 0.3],
    ],
  );
});

test('buildChartData: runs × curves, validation dashed, smoothing and log per series, aligned', () => {
  const run1 = [m('batch', 1, 1, { progress: 0.5, loss: 4 }), m('epoch', 1, 2, { loss: 2, valLoss: 3 })];
  const run2 = [m('batch', 1, 1, { progress: 0.25, loss: 0 })];
  const curves = [
    { metric: 'loss' as const, suffix: 'train', dashed: false },
    { metric: 'valLoss' as const, suffix: 'val', dashed: true },
  ];
  const d = buildChartData(
    [
      { label: 'A', color: 'red', records: run1 },
      { label: 'B', color: 'blue', records: run2 },
    ],
    curves,
    0.5,
    true,
  );
  assert.deepEqual(d.series, [
    { label: 'A train', color: 'red' },
    { label: 'A val', color: 'red', dash: validationDash },
    { label: 'B train', color: 'blue' },
  ]);
  assert.deepEqual(d.x, [0.25, 0.5, 1]);
  // A train smoothed (w 0.5): 4, (0.5·2 + 1)/0.75 = 8/3; B train 0 is a gap on a log axis.
  close(d.ys[0], [null, 4, 8 / 3]);
  close(d.ys[1], [null, null, 3]);
  close(d.ys[2], [null, null, null]);
});

test('number formats for axes and legends', () => {
  assert.equal(formatChartPercent(0.9166), '91.7%');
  assert.equal(formatChartPercent(0.05), '5.00%');
  assert.equal(formatChartNumber(0.123456), '0.1235');
  assert.equal(formatChartNumber(0.0001), '1e−4');
  assert.equal(formatChartNumber(0), '0');
});

test('percent ticks share the decimals the tick step needs', async () => {
  const { percentTicks } = await import('../../webview/transforms/chartData');
  assert.deepEqual(percentTicks([0, 0.1, 0.2]), ['0%', '10%', '20%']);
  assert.deepEqual(percentTicks([0.2, 0.25, 0.3]), ['20%', '25%', '30%']);
  assert.deepEqual(percentTicks([0.2, 0.205]), ['20.0%', '20.5%']);
  assert.deepEqual(percentTicks([0.001, 0.0015]), ['0.10%', '0.15%']);
});

test('number ticks share decimals (learning rates), tiny steps in exponent form', async () => {
  const { numberTicks } = await import('../../webview/transforms/chartData');
  assert.deepEqual(numberTicks([0, 0.0005, 0.001, 0.0015]), ['0.0000', '0.0005', '0.0010', '0.0015']);
  assert.deepEqual(numberTicks([1, 1.5, 2]), ['1.0', '1.5', '2.0']);
  assert.deepEqual(numberTicks([0, 50, 100]), ['0', '50', '100']);
  assert.deepEqual(numberTicks([0, 0.00001, 0.00002]), ['0', '1e−5', '2e−5']);
  // Negative ticks (a histogram's weights) with the minus sign, not the hyphen.
  assert.deepEqual(numberTicks([-0.2, -0.1, 0, 0.1, 0.2]), ['−0.2', '−0.1', '0.0', '0.1', '0.2']);
});

test('one run: legend labels are just train / val (the run is named once, above the charts)', async () => {
  const { buildChartData } = await import('../../webview/transforms/chartData');
  const rec = { kind: 'epoch' as const, epoch: 1, step: 1, lr: 0.1, loss: 1, top1: 0.5, valLoss: 2, time: 1 };
  const d = buildChartData(
    [{ label: 'A', color: 'red', records: [rec] }],
    [
      { metric: 'loss', suffix: 'train', dashed: false },
      { metric: 'valLoss', suffix: 'val', dashed: true },
      { metric: 'lr', suffix: '', dashed: false },
    ],
    0,
    false,
  );
  assert.deepEqual(
    d.series.map((s) => s.label),
    ['train', 'val', 'A'],
  );
});

test('tick formatters leave unlabelled (null) ticks empty', async () => {
  const { numberTicks, percentTicks } = await import('../../webview/transforms/chartData');
  assert.deepEqual(numberTicks([null, 0.5, null, 1]), ['', '0.5', '', '1.0']);
  assert.deepEqual(percentTicks([0.1, null, 0.2]), ['10%', '', '20%']);
});

test("nearestValue: a run's own value next to the gaps other runs leave in aligned data", async () => {
  const { nearestValue } = await import('../../webview/transforms/align');
  assert.equal(nearestValue([null, 2, null, null, 5], 2), 2);
  assert.equal(nearestValue([null, null, null, null, 5], 2), 5);
  assert.equal(nearestValue([1, null, null], 0), 1);
  assert.equal(nearestValue([null, null], 1), null);
  assert.equal(nearestValue([7, null, null, null], 3, 2), null);
});

test('alignSeries: unsorted input and non-finite x values', () => {
  assert.deepEqual(
    alignSeries([
      { x: [2, 0, 1], y: [12, 10, 11] },
      { x: [NaN, 1], y: [99, 21] },
    ]),
    {
      x: [0, 1, 2],
      ys: [
        [10, 11, 12],
        [null, 21, null],
      ],
    },
  );
});

test('SeriesCache: a run whose records did not change is not recomputed; appended records are', async () => {
  const { SeriesCache, buildChartData } = await import('../../webview/transforms/chartData');
  const cache = new SeriesCache();
  const records: MetricsRecord[] = [m('batch', 1, 1, { progress: 0.5, loss: 2 })];
  const curves = [{ metric: 'loss' as const, suffix: '', dashed: false }];
  const run = { id: '/r', label: 'r', color: 'red', records };
  const first = buildChartData([run], curves, 0, false, cache);
  let computed = 0;
  cache.get('/r\u0000loss\u00000\u0000false', records, () => {
    computed++;
    return { x: [], y: [], present: false };
  });
  assert.equal(computed, 0, 'unchanged records must come from the cache');
  records.push(m('batch', 1, 2, { progress: 1, loss: 1 }));
  const second = buildChartData([run], curves, 0, false, cache);
  assert.deepEqual(first.ys, [[2]]);
  assert.deepEqual(second.ys, [[2, 1]]);
  cache.retain(new Set());
  cache.get('/r\u0000loss\u00000\u0000false', records, () => {
    computed++;
    return { x: [], y: [], present: false };
  });
  assert.equal(computed, 1, 'retain() forgets runs no longer shown');
});

test('IncrementalAligner: appended points give the same result as aligning from scratch', async () => {
  const { IncrementalAligner } = await import('../../webview/transforms/align');
  const aligner = new IncrementalAligner();
  const a = { x: [0, 1, 2], y: [10, 11, 12] as (number | null)[] };
  const b = { x: [0.5, 1], y: [20, 21] as (number | null)[] };
  assert.deepEqual(aligner.align([a, b]), alignSeries([a, b]));
  // b grows (new arrays, same prefix): one new x inside the union, one already there.
  const b2 = { x: [0.5, 1, 1.5, 2], y: [20, 21, 22, 23] as (number | null)[] };
  const fast = aligner.align([a, b2]);
  assert.deepEqual(fast, alignSeries([a, b2]));
  assert.deepEqual(fast.x, [0, 0.5, 1, 1.5, 2]);
  // a changed in its prefix (smoothing changed): from scratch, still equal.
  const a2 = { x: [0, 1, 2], y: [9, 11, 12] as (number | null)[] };
  assert.deepEqual(aligner.align([a2, b2]), alignSeries([a2, b2]));
  // a run removed: from scratch.
  assert.deepEqual(aligner.align([b2]), alignSeries([b2]));
  // a tail that goes back in x: from scratch.
  const b3 = { x: [0.5, 1, 1.5, 2, 0.7], y: [20, 21, 22, 23, 24] as (number | null)[] };
  assert.deepEqual(aligner.align([b3]), alignSeries([b3]));
});

test('tick decimals write the step exactly (0.025 steps are not rounded to 0.03)', async () => {
  const { numberTicks, percentTicks } = await import('../../webview/transforms/chartData');
  assert.deepEqual(numberTicks([0, 0.025, 0.05, 0.075, 0.1]), ['0.000', '0.025', '0.050', '0.075', '0.100']);
  assert.deepEqual(percentTicks([0, 0.025, 0.05]), ['0.0%', '2.5%', '5.0%']);
  assert.deepEqual(numberTicks([0, 0.2, 0.4]), ['0.0', '0.2', '0.4']);
});

test('hover values: a value from a neighbouring point says which x it belongs to', async () => {
  const { hoverValue } = await import('../../webview/transforms/hoverValue');
  const { nearestIndex } = await import('../../webview/transforms/align');
  const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
  // Training every half epoch, validation once per epoch: at x = 1.5 the validation curve has no point.
  const xs = [1, 1.5, 2];
  const val = [0.8, null, 0.9];
  assert.equal(nearestIndex(val, 1), 0);
  assert.equal(hoverValue(xs, val, 0, pct, 'epoch'), '80.0%');
  assert.equal(hoverValue(xs, val, 1, pct, 'epoch'), '80.0% (epoch 1)', 'not shown as if it were the value at epoch 1.5');
  assert.equal(hoverValue(xs, [null, null, 0.9], 0, pct, 'epoch'), '90.0% (epoch 2)');
  assert.equal(hoverValue(xs, [null, null, null], 1, pct, 'epoch'), '–');
  assert.equal(hoverValue(xs, val, null, pct, 'epoch'), '–');
});

test('isFloatLayer: a layer kept in full precision is said to be float (with or without the ternary flag), a ternarized one is not', () => {
  const h = (extra: Partial<WeightHistogram>): WeightHistogram => ({
    layer: 'l',
    min: -1,
    max: 1,
    bins: [1, 2, 1],
    delta: 0,
    alpha: 0,
    counts: { neg: 0, zero: 0, pos: 0 },
    ...extra,
  });
  assert.equal(isFloatLayer(h({ ternary: false })), true);
  assert.equal(isFloatLayer(h({})), true);
  assert.equal(isFloatLayer(h({ ternary: true, delta: 0.1, alpha: 0.3, counts: { neg: 1, zero: 2, pos: 1 } })), false);
  assert.equal(isFloatLayer(h({ delta: 0.1, alpha: 0.3, counts: { neg: 1, zero: 2, pos: 1 } })), false);
});
