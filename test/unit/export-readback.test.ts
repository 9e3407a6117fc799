/**
 * Files we write read back with the numbers they were written with: the parity check compares
 * like with like (a feature-map output is NCHW in ONNX Runtime, NHWC in ours), Concatenate exports
 * on every axis the importer takes, `--samples` sets the number of parity inputs for a bare model,
 * and the stats list every conv (depthwise ones kept float included).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { saveModel } from '../../server/core/modelIO';
import { exportModelFiles } from '../../server/export/exportModel';
import { exportModelTarget } from '../../server/export';
import { convertToTernary } from '../../server/models';
import { layerStats, modelSummary } from '../../server/stats';
import { formatLayerTable } from '../../server/stats/format';
import { ExportGraphError } from '../../server/formats/onnx/export/toOnnx';
import { QUANT_DEFAULTS } from '../../shared/quant';

const tmp = () => mkdtempSync(join(tmpdir(), 'tern-readback-'));

test('setup: cpu backend', async () => {
  await tf.setBackend('cpu');
});

/** A small float CNN built from `body` on an 8×8×3 input. */
function model(name: string, body: (x: tfl.SymbolicTensor) => tfl.SymbolicTensor): tfl.LayersModel {
  const input = tfl.input({ shape: [8, 8, 3], name: `${name}_in` });
  return tfl.model({ inputs: input, outputs: body(input), name });
}

const conv = (name: string, filters: number) =>
  tfl.layers.conv2d({
    name,
    filters,
    kernelSize: 3,
    padding: 'same',
    kernelInitializer: 'glorotUniform',
    useBias: true,
    biasInitializer: 'ones',
  });

test('a model whose output is a feature map: model.onnx passes parity (ONNX Runtime NCHW compared as NHWC)', async () => {
  const float = model('segm', (x) => conv('head', 5).apply(conv('stem', 4).apply(x) as tfl.SymbolicTensor) as tfl.SymbolicTensor);
  const ternary = await convertToTernary(float, QUANT_DEFAULTS);
  const summary = await exportModelFiles(ternary, tmp(), { randomSamples: 3 });
  const onnx = summary.parity!.results.find((r) => r.file === 'model.onnx');
  assert.ok(onnx, 'ONNX Runtime ran');
  for (const r of summary.parity!.results) assert.ok(r.ok && r.maxRelDiff <= 1e-5, `${r.file}: relative ${r.maxRelDiff}`);
  ternary.dispose();
  float.dispose();
});

test('Concatenate over height, width and channels exports and passes parity; the batch axis is refused in ONNX terms', async () => {
  for (const axis of [1, 2, 3, -1]) {
    const float = model(`cat${axis < 0 ? 'last' : axis}`, (x) => {
      const a = conv('a', 4).apply(x) as tfl.SymbolicTensor;
      const b = conv('b', 4).apply(x) as tfl.SymbolicTensor;
      const cat = tfl.layers.concatenate({ name: 'cat', axis }).apply([a, b]) as tfl.SymbolicTensor;
      return tfl.layers.dense({ name: 'fc', units: 3 }).apply(tfl.layers.flatten({ name: 'flat' }).apply(cat)) as tfl.SymbolicTensor;
    });
    const summary = await exportModelFiles(float, tmp(), { randomSamples: 2 });
    for (const r of summary.parity!.results) assert.ok(r.ok, `axis ${axis} ${r.file}: relative ${r.maxRelDiff}`);
    float.dispose();
  }
  const batch = model('catbatch', (x) => tfl.layers.concatenate({ name: 'cat0', axis: 0 }).apply([x, x]) as tfl.SymbolicTensor);
  await assert.rejects(
    exportModelFiles(batch, tmp(), { parity: false }),
    (e: Error) => e instanceof ExportGraphError && /Concatenate over axis 0 \(batch\).*any axis but the batch/.test(e.message),
  );
  batch.dispose();
});

test('exportModelTarget on a model without data uses --samples random inputs (not 64)', async () => {
  const float = model(
    'small',
    (x) => tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(conv('c', 4).apply(x)) as tfl.SymbolicTensor,
  );
  const src = tmp();
  await saveModel(float, src);
  const result = await exportModelTarget(join(src, 'model.json'), tmp(), { samples: 8 });
  for (const r of result.model!.parity!.results) assert.equal(r.samples, 8, r.file);
  assert.match(result.model!.parity!.inputs, /^8 random inputs/);
  float.dispose();
});

test('stats count every conv: a depthwise conv kept float is listed as float, and the layer count includes it', async () => {
  const float = model('mobile', (x) => {
    let y = conv('stem', 4).apply(x) as tfl.SymbolicTensor;
    y = tfl.layers.depthwiseConv2d({ name: 'dw', kernelSize: 3, padding: 'same', depthMultiplier: 2 }).apply(y) as tfl.SymbolicTensor;
    y = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(y) as tfl.SymbolicTensor;
    return tfl.layers.dense({ name: 'fc', units: 3 }).apply(y) as tfl.SymbolicTensor;
  });
  const ternary = await convertToTernary(float, QUANT_DEFAULTS);
  const stats = layerStats(ternary);
  assert.deepEqual(
    stats.map((s) => [s.layer, s.type, s.ternary, s.shape]),
    [
      ['stem', 'TernaryConv2D', true, [3, 3, 3, 4]],
      ['dw', 'DepthwiseConv2D', false, [3, 3, 4, 2]],
      ['fc', 'TernaryDense', true, [8, 3]],
    ],
  );
  const summary = modelSummary(ternary, stats);
  assert.equal(summary.layers, 3);
  assert.equal(summary.ternaryLayers, 2);
  // Every parameter is counted once: the depthwise kernel and bias stay float32 in the size.
  assert.equal(summary.params, ternary.countParams());
  assert.match(formatLayerTable(stats, summary), /in 2 of 3 conv\/dense layers/);
  assert.match(formatLayerTable(stats, summary), /^dw\s+DepthwiseConv2D\s+3×3×4×2\s+80\s+32\s+—\s+—\s+—\s+—\s+float$/m);
  ternary.dispose();
  float.dispose();
});
