import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { TernaryDense } from '../../server/core/layers';
import { ternarizeBranches } from '../../server/core/quantizer';
import { buildModel, convertToTernary } from '../../server/models';
import { layerStats, modelSummary, weightHistograms, formatLayerTable, binValues } from '../../server/stats';

before(async () => {
  await tf.setBackend('cpu');
});

const W = [0.8, -0.2, 0.2, 0.1, -0.5, 0.0, -0.19, 0.3];

function tinyModel(): tfl.LayersModel {
  const model = tfl.sequential({
    layers: [new TernaryDense({ units: 2, inputShape: [4], tex: 4, name: 'tern' }), tfl.layers.dense({ units: 1, name: 'head' })],
  });
  model.getLayer('tern').setWeights([tf.tensor2d(W, [4, 2]), tf.tensor1d([0.5, -0.5])]);
  return model;
}

test('layerStats: hand-computed Δ, α, counts and sparsity per REL branch; float layers marked', () => {
  const [tern, head] = layerStats(tinyModel());
  assert.equal(tern.layer, 'tern');
  assert.equal(tern.type, 'TernaryDense');
  assert.equal(tern.ternary, true);
  assert.deepEqual(tern.shape, [4, 2]);
  assert.equal(tern.params, 10);
  assert.equal(tern.bits, 4); // nested codes c ∈ [−4, 4]: ⌈log2 9⌉ bits, as model.tern packs them
  // max|W| = 0.8 → Δ = 0.04, 0.08, 0.12, 0.16. |W| = 0.1 is large for the first two only.
  const expected = [
    { factor: 0.05, delta: 0.04, alpha: 2.29 / 7, counts: { neg: 3, zero: 1, pos: 4 } },
    { factor: 0.1, delta: 0.08, alpha: 2.29 / 7, counts: { neg: 3, zero: 1, pos: 4 } },
    { factor: 0.15, delta: 0.12, alpha: 2.19 / 6, counts: { neg: 3, zero: 2, pos: 3 } },
    { factor: 0.2, delta: 0.16, alpha: 2.19 / 6, counts: { neg: 3, zero: 2, pos: 3 } },
  ];
  assert.equal(tern.branches.length, 4);
  tern.branches.forEach((b, k) => {
    assert.equal(b.factor, expected[k].factor);
    assert.ok(Math.abs(b.delta - expected[k].delta) < 1e-7, `delta ${k}`);
    assert.ok(Math.abs(b.alpha - expected[k].alpha) < 1e-6, `alpha ${k}`);
    assert.deepEqual(b.counts, expected[k].counts);
    assert.equal(b.sparsity, expected[k].counts.zero / 8);
  });
  assert.equal(tern.delta, tern.branches[0].delta);
  assert.equal(tern.alpha, tern.branches[0].alpha);
  assert.equal(tern.sparsity, 1 / 8);
  // Σ_k T_k: 4α₁ for 0.8, 0.2, 0.2, −0.5, 0.3 (and −0.2, −0.19 negated), 2α₁ for 0.1 (branches 1–2 only), 0 for 0.
  const a1 = 2.29 / 7;
  const a3 = 2.19 / 6;
  const big = 2 * a1 + 2 * a3;
  const approx = [big, -big, big, 2 * a1, -big, 0, -big, big];
  const err = Math.sqrt(W.reduce((s, w, i) => s + (w - approx[i]) ** 2, 0) / W.reduce((s, w) => s + w * w, 0));
  assert.ok(Math.abs(tern.relError! - err) < 1e-6, `relError ${tern.relError} vs ${err}`);
  assert.equal(tern.threshold, 'fixed');
  assert.deepEqual(head, {
    layer: 'head',
    type: 'Dense',
    ternary: false,
    shape: [2, 1],
    params: 3,
    bits: 32,
    delta: 0,
    alpha: 0,
    sparsity: 0,
    counts: { neg: 0, zero: 0, pos: 0 },
    branches: [],
    relError: 0,
  });
});

test('layerStats with optimal thresholds: the least-squares Δ and α, and its relative error', () => {
  const model = tfl.sequential({ layers: [new TernaryDense({ units: 2, inputShape: [4], threshold: 'optimal', name: 'tern' })] });
  model.getLayer('tern').setWeights([tf.tensor2d(W, [4, 2]), tf.tensor1d([0, 0])]);
  const [tern] = layerStats(model);
  // |W| sorted: 0.8 0.5 0.3 | 0.2 0.2 0.19 0.1 0. S²/k: 0.64, 0.845, 0.8533 (k = 3, the best), —
  // (k = 4 splits the two 0.2), 0.8, 0.799, 0.749. So Δ = 0.3, α = 1.6 / 3.
  assert.equal(tern.threshold, 'optimal');
  assert.ok(Math.abs(tern.delta - 0.3) < 1e-7);
  assert.ok(Math.abs(tern.alpha - 1.6 / 3) < 1e-6);
  assert.deepEqual(tern.counts, { neg: 1, zero: 5, pos: 2 });
  assert.ok(Math.abs(tern.branches[0].factor - 0.3 / 0.8) < 1e-7);
  const sumSq = W.reduce((s, w) => s + w * w, 0);
  assert.ok(Math.abs(tern.relError! - Math.sqrt((sumSq - 1.6 ** 2 / 3) / sumSq)) < 1e-6, String(tern.relError));
});

test('modelSummary: fp32 bytes, the packed codes + a level per branch, compression', () => {
  const summary = modelSummary(tinyModel());
  // kernel 8 weights × 4 bits (t_ex 4, nested) = 4 bytes + 4 levels × 4 = 20; bias 2 + head 3 in float32 = 20.
  assert.deepEqual(summary, {
    layers: 2,
    ternaryLayers: 1,
    params: 13,
    ternaryParams: 8,
    fp32Bytes: 52,
    ternaryBytes: 40,
    compression: 52 / 40,
  });
});

test('ResNet-20 summary: ≈ 16× smaller at t_ex = 1, BN stays float', () => {
  const model = buildModel({
    arch: 'resnet20',
    classes: 10,
    quant: { method: 'he2019', thresholdFactor: 0.05, threshold: 'fixed', tex: 1, firstLast: 'ternary' },
    seed: 1,
  });
  const s = modelSummary(model);
  assert.equal(s.layers, 20);
  assert.equal(s.ternaryLayers, 20);
  assert.equal(s.params, model.countParams());
  // Kernels: 19 convs (267,696) + fc (640); the rest (BN 4·1,376 + fc bias 10) stays float32.
  assert.equal(s.ternaryParams, 267696 + 640);
  // Per layer: ⌈n·2/8⌉ bytes + 4 for α.
  assert.equal(
    s.ternaryBytes,
    layerStats(model).reduce((sum, l) => sum + Math.ceil(l.shape.reduce((a, b) => a * b, 1) / 4) + 4, 0) + (s.params - s.ternaryParams) * 4,
  );
  assert.ok(s.compression > 12 && s.compression < 16, `compression ${s.compression}`);
  model.dispose();
});

test('stats agree with the tfjs quantizer on a ternarized fmnist-cnn (two implementations)', async () => {
  const float = buildModel({ arch: 'fmnist-cnn', classes: 10, quant: { method: 'none' }, seed: 3 });
  const twin = await convertToTernary(float, { method: 'he2019', thresholdFactor: 0.05, threshold: 'fixed', tex: 2, firstLast: 'ternary' });
  const stats = layerStats(twin);
  assert.deepEqual(
    stats.map((s) => s.layer),
    ['conv1', 'conv2', 'fc1', 'fc2'],
  );
  for (const s of stats) {
    const layer = twin.getLayer(s.layer) as TernaryDense;
    const branches = ternarizeBranches(layer.getWeights()[0], layer.quant);
    branches.forEach((b, k) => {
      assert.ok(Math.abs(b.delta.dataSync()[0] - s.branches[k].delta) <= 1e-7 * Math.max(1, s.branches[k].delta), `${s.layer} Δ${k}`);
      assert.ok(Math.abs(b.alpha.dataSync()[0] - s.branches[k].alpha) <= 1e-6 * s.branches[k].alpha, `${s.layer} α${k}`);
      const t = b.ternary.dataSync();
      const alpha = b.alpha.dataSync()[0];
      const counts = { neg: 0, zero: 0, pos: 0 };
      for (const v of t) {
        if (v === 0) counts.zero++;
        else if (v === alpha) counts.pos++;
        else counts.neg++;
      }
      assert.deepEqual(counts, s.branches[k].counts, `${s.layer} counts ${k}`);
    });
    assert.equal(
      s.counts.neg + s.counts.zero + s.counts.pos,
      s.shape.reduce((a, b) => a * b, 1),
    );
  }
});

test('weightHistograms: equal-width bins over [min, max] that count every weight', () => {
  const [tern, head] = weightHistograms(tinyModel(), 4);
  assert.equal(tern.layer, 'tern');
  assert.equal(tern.min, Math.fround(-0.5));
  assert.equal(tern.max, Math.fround(0.8));
  // width 0.325: [-0.5,-0.175) → -0.5, -0.2, -0.19; [-0.175,0.15) → 0.1, 0; [0.15,0.475) → 0.2, 0.3; [0.475,0.8] → 0.8
  assert.deepEqual(tern.bins, [3, 2, 2, 1]);
  assert.deepEqual(tern.counts, { neg: 3, zero: 1, pos: 4 });
  assert.ok(Math.abs(tern.alpha - 2.29 / 7) < 1e-6);
  assert.equal(tern.ternary, true);
  assert.equal(head.ternary, false);
  assert.equal(
    head.bins.reduce((a, b) => a + b, 0),
    2,
  );
  assert.deepEqual(binValues([1, 1, 1], 3), { min: 1, max: 1, bins: [3, 0, 0] });
  assert.throws(() => binValues([1], 0), /bins must be a positive integer/);
});

test('formatLayerTable: one row per layer, a row per extra REL branch, totals', () => {
  const model = tinyModel();
  const stats = layerStats(model);
  const text = formatLayerTable(stats, modelSummary(model, stats));
  const lines = text.split('\n');
  assert.match(lines[0], /^Layer\s+Type\s+Shape\s+Params\s+Bits\s+Δ\s+α\s+Sparsity\s+Rel\. err\s+−α \/ 0 \/ \+α$/);
  assert.match(text, /tern\s+TernaryDense\s+4×2\s+10\s+4\s+0\.04\s+0\.3271\s+12\.5%\s+\d+\.\d%\s+3 \/ 1 \/ 4/);
  assert.match(text, /└ branch 3\s+f = 0\.15\s+0\.12\s+0\.365\s+25\.0%\s+3 \/ 2 \/ 3/);
  assert.match(text, /head\s+Dense\s+2×1\s+3\s+32\s+—\s+—\s+—\s+—\s+float/);
  assert.match(text, /Parameters: 13 \(8 ternary, in 1 of 2 conv\/dense layers\)/);
  assert.match(text, /Size: 52 B in float32 → 40 B with packed ternary kernels \(model\.tern\): 1\.3× smaller/);
});
