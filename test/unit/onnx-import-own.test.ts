/**
 * Our own model.onnx imports back as the ternary model it was exported from (docs/onnx-import.md):
 * INT2, INT4 and INT8 codes are read, the layers its metadata lists come back as TernaryConv2D /
 * TernaryDense with their names, Δ, α and counts, and the model predicts what the exported one did.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type * as tfl from '@tensorflow/tfjs-layers';
import { loadModel } from '../../server/models/loadModel';
import { exportModelFiles, randomInputs } from '../../server/export/exportModel';
import { buildModel } from '../../server/models';
import { layerStats } from '../../server/stats';
import { run as stats } from '../../server/cli/commands/stats';

test('setup: cpu backend', async () => {
  await tf.setBackend('cpu');
});

const predict = (model: tfl.LayersModel, x: Float32Array, n: number): Float32Array =>
  tf.tidy(() =>
    Float32Array.from((model.predict(tf.tensor(x, [n, ...(model.inputs[0].shape.slice(1) as number[])])) as tf.Tensor).dataSync()),
  );

for (const [arch, tex] of [
  ['fmnist-cnn', 1],
  ['lenet5', 2],
  ['resnet20', 4],
] as const) {
  test(`${arch}, t_ex ${tex}: model.onnx (smallest codes and INT8) imports as the ternary model, same layers, Δ, α, counts and outputs`, async () => {
    const model = buildModel({
      arch,
      classes: 10,
      quant: { method: 'he2019', thresholdFactor: 0.05, threshold: 'fixed', tex, firstLast: 'float' },
      seed: 11,
    });
    const want = layerStats(model);
    const inputs = randomInputs(model, 2, 5);
    const logits = predict(model, inputs.x, inputs.n);
    for (const codes of ['smallest', 'int8'] as const) {
      const dir = mkdtempSync(join(tmpdir(), 'tern-own-onnx-'));
      await exportModelFiles(model, dir, { parity: false, onnxCodes: codes });
      const back = await loadModel(join(dir, 'model.onnx'));
      try {
        const got = layerStats(back);
        assert.deepEqual(
          got.map((s) => [s.layer, s.type, s.ternary, s.shape]),
          want.map((s) => [s.layer, s.type, s.ternary, s.shape]),
          `${codes}: layers`,
        );
        want.forEach((w, i) =>
          w.branches.forEach((b, k) => {
            const g = got[i].branches[k];
            assert.equal(g.delta, b.delta, `${codes} ${w.layer} Δ_${k + 1}`);
            assert.ok(Math.abs(g.alpha - b.alpha) <= 1e-6 * b.alpha, `${codes} ${w.layer} α_${k + 1}`);
            assert.deepEqual(g.counts, b.counts, `${codes} ${w.layer} counts`);
          }),
        );
        const out = predict(back, inputs.x, inputs.n);
        let diff = 0;
        let max = 0;
        for (let i = 0; i < out.length; i++) {
          diff = Math.max(diff, Math.abs(out[i] - logits[i]));
          max = Math.max(max, Math.abs(logits[i]));
        }
        assert.ok(diff <= 1e-5 * max, `${codes}: max |Δ logit| ${diff} of ${max}`);
      } finally {
        back.dispose();
      }
    }
    model.dispose();
  });
}

test('tern stats model.onnx lists its ternary layers as ternary', async () => {
  const model = buildModel({
    arch: 'fmnist-cnn',
    classes: 10,
    quant: { method: 'he2019', thresholdFactor: 0.05, threshold: 'fixed', tex: 1, firstLast: 'ternary' },
    seed: 3,
  });
  const dir = mkdtempSync(join(tmpdir(), 'tern-own-onnx-'));
  await exportModelFiles(model, dir, { parity: false });
  const out = new PassThrough();
  let text = '';
  out.on('data', (d) => (text += String(d)));
  assert.equal(await stats([join(dir, 'model.onnx'), '--json'], { out, err: new PassThrough() }), 0);
  const rows = text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { layer?: string; ternary?: boolean; summary?: { ternaryLayers: number; layers: number } });
  const layers = rows.filter((r) => r.layer !== undefined);
  assert.deepEqual(
    layers.map((r) => [r.layer, r.ternary]),
    layerStats(model).map((s) => [s.layer, true]),
  );
  assert.equal(rows[rows.length - 1].summary?.ternaryLayers, layers.length);
  model.dispose();
});
