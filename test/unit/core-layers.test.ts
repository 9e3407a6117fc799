import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { TernaryConv2D, TernaryDense, OptionAShortcut } from '../../server/core/layers';
import { ternarizeBranches } from '../../server/core/quantizer';
import { summedTernaryReference, steGradientReference } from '../../server/core/quantizerReference';
import { saveModel } from '../../server/core/modelIO';
import { loadModel } from '../../server/models/loadModel';
import { ModelFileError } from '../../server/core/modelFileError';

function randn(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0;
  const next = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 4294967296;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = scale * Math.sqrt(-2 * Math.log(next())) * Math.cos(2 * Math.PI * next());
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

before(async () => {
  await tf.setBackend('cpu');
});

test('TernaryConv2D computes conv(x, Σ T_k) + bias, and trains the latent kernel with the REL STE gradient', () => {
  for (const tex of [1, 2, 4] as const) {
    const layer = new TernaryConv2D({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', tex, name: `conv_tex${tex}` });
    const x = tf.tensor4d(randn(2 * 7 * 7 * 3, 3), [2, 7, 7, 3]);
    const y = layer.apply(x) as tf.Tensor;
    assert.deepEqual(y.shape, [2, 4, 4, 4]);
    assert.deepEqual(layer.computeOutputShape([null, 7, 7, 3]), [null, 4, 4, 4]);
    const kernel = layer.getWeights()[0];
    const wValues = randn(kernel.size, 5 + tex, 0.7);
    const bias = tf.tensor1d([0.1, -0.2, 0.3, 0]);
    layer.setWeights([tf.tensor4d(wValues, kernel.shape as [number, number, number, number]), bias]);
    const expectedWeight = tf.tensor4d(summedTernaryReference(wValues, layer.quant), [3, 3, 3, 4]);
    const expected = tf.add(tf.conv2d(x, expectedWeight, 2, 'same'), bias);
    assert.ok(maxAbsDiff((layer.apply(x) as tf.Tensor).dataSync(), expected.dataSync()) <= 1e-5, `forward tex ${tex}`);
    // The sum of t_ex separate branch convs (the reference's way) gives the same output.
    let separate: tf.Tensor = bias;
    for (const b of ternarizeBranches(tf.tensor4d(wValues, [3, 3, 3, 4]), layer.quant))
      separate = tf.add(separate, tf.conv2d(x, b.ternary as tf.Tensor4D, 2, 'same'));
    assert.ok(maxAbsDiff((layer.apply(x) as tf.Tensor).dataSync(), separate.dataSync()) <= 1e-5, `separate branches tex ${tex}`);

    const r = tf.tensor4d(randn(2 * 4 * 4 * 4, 9), [2, 4, 4, 4]);
    const kernelVar = layer.trainableWeights[0].read() as tf.Variable;
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(layer.apply(x) as tf.Tensor, r)), [kernelVar]);
    const dT = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, t as tf.Tensor4D, 2, 'same'), r)))(expectedWeight);
    const expectedGrad = steGradientReference(wValues, dT.dataSync(), tex);
    assert.ok(maxAbsDiff(grads[kernelVar.name].dataSync(), expectedGrad) <= 1e-4, `gradient tex ${tex}`);
  }
});

test('TernaryDense computes x·Σ T_k + bias on rank-2 and rank-3 inputs', () => {
  const layer = new TernaryDense({ units: 3, tex: 2, activation: 'relu' });
  const x = tf.tensor2d(randn(5 * 6, 21), [5, 6]);
  layer.apply(x);
  const wValues = randn(18, 22, 0.5);
  layer.setWeights([tf.tensor2d(wValues, [6, 3]), tf.tensor1d([0.5, 0, -0.5])]);
  const expected = tf.relu(
    tf.add(tf.matMul(x, tf.tensor2d(summedTernaryReference(wValues, layer.quant), [6, 3])), tf.tensor1d([0.5, 0, -0.5])),
  );
  assert.ok(maxAbsDiff((layer.apply(x) as tf.Tensor).dataSync(), expected.dataSync()) <= 1e-5);
  const x3 = tf.reshape(x, [5, 1, 6]);
  const y3 = layer.apply(x3) as tf.Tensor;
  assert.deepEqual(y3.shape, [5, 1, 3]);
  assert.ok(maxAbsDiff(y3.dataSync(), expected.dataSync()) <= 1e-5);
});

test('OptionAShortcut subsamples at the conv centres and appends zero channels', () => {
  const layer = new OptionAShortcut({ outChannels: 3 });
  // 4×4, one channel, value = 10·row + col. 'same' stride-2 3×3 convs centre on rows/cols 1 and 3.
  const x = tf.tensor4d(
    Array.from({ length: 16 }, (_, i) => 10 * Math.floor(i / 4) + (i % 4)),
    [1, 4, 4, 1],
  );
  const y = layer.apply(x) as tf.Tensor;
  assert.deepEqual(y.shape, [1, 2, 2, 3]);
  assert.deepEqual(Array.from(y.dataSync()), [11, 0, 0, 13, 0, 0, 31, 0, 0, 33, 0, 0]);
  // Two channels (the fast path views s·C values per cell): value = 100·channel + 10·row + col.
  const x2 = tf.tensor4d(
    Array.from({ length: 32 }, (_, i) => 100 * (i % 2) + 10 * Math.floor(i / 8) + (Math.floor(i / 2) % 4)),
    [1, 4, 4, 2],
  );
  const y2 = new OptionAShortcut({ outChannels: 4 }).apply(x2) as tf.Tensor;
  assert.deepEqual(Array.from(y2.dataSync()), [11, 111, 0, 0, 13, 113, 0, 0, 31, 131, 0, 0, 33, 133, 0, 0]);
  // Odd size 5: 'same' pads one row on top, so centres are rows 0, 2, 4.
  const x5 = tf.tensor4d(
    Array.from({ length: 25 }, (_, i) => 10 * Math.floor(i / 5) + (i % 5)),
    [1, 5, 5, 1],
  );
  const y5 = new OptionAShortcut({ outChannels: 1 }).apply(x5) as tf.Tensor;
  assert.deepEqual(Array.from(y5.dataSync()), [0, 2, 4, 20, 22, 24, 40, 42, 44]);
  const conv = new TernaryConv2D({ filters: 1, kernelSize: 3, strides: 2, padding: 'same' });
  assert.deepEqual((conv.apply(x5) as tf.Tensor).shape, [1, 3, 3, 1]);
});

test('serialization round trip: a model with ternary layers saves, loads back and predicts the same', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tern-io-'));
  try {
    const input = tfl.input({ shape: [8, 8, 2] });
    const c = new TernaryConv2D({ filters: 4, kernelSize: 3, padding: 'same', tex: 4, name: 'tconv' }).apply(input) as tfl.SymbolicTensor;
    const s = new OptionAShortcut({ outChannels: 4, stride: 1, name: 'short' }).apply(input) as tfl.SymbolicTensor;
    const sum = tfl.layers.add().apply([c, s]) as tfl.SymbolicTensor;
    const flat = tfl.layers.flatten().apply(tfl.layers.batchNormalization().apply(sum)) as tfl.SymbolicTensor;
    const out = new TernaryDense({ units: 3, method: 'twn', name: 'tdense' }).apply(flat) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: out });
    const x = tf.tensor4d(randn(2 * 8 * 8 * 2, 31), [2, 8, 8, 2]);
    const before = (model.predict(x) as tf.Tensor).dataSync();
    await saveModel(model, dir, { note: 'test' });
    assert.deepEqual(readdirSync(dir).sort(), ['model.json', 'weights.bin']);
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    assert.equal(json.userDefinedMetadata.note, 'test');
    const layerClasses = json.modelTopology.config.layers.map((l: { class_name: string }) => l.class_name);
    assert.ok(layerClasses.includes('TernaryConv2D') && layerClasses.includes('TernaryDense') && layerClasses.includes('OptionAShortcut'));
    const loaded = await loadModel(join(dir, 'model.json'));
    const tconv = loaded.getLayer('tconv') as TernaryConv2D;
    assert.equal(tconv.quant.tex, 4);
    assert.equal((loaded.getLayer('tdense') as TernaryDense).quant.method, 'twn');
    const after = (loaded.predict(x) as tf.Tensor).dataSync();
    assert.ok(maxAbsDiff(before, after) === 0, 'same outputs');
    // A folder works too.
    assert.equal((await loadModel(dir)).layers.length, model.layers.length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('loadModel errors say what is wrong', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tern-io-'));
  try {
    await assert.rejects(loadModel(join(dir, 'missing.json')), (e: unknown) => e instanceof ModelFileError && /not found/.test(e.message));
    writeFileSync(join(dir, 'graph.json'), JSON.stringify({ format: 'graph-model', modelTopology: { node: [] }, weightsManifest: [] }));
    await assert.rejects(loadModel(join(dir, 'graph.json')), /not a tfjs LayersModel/);
    writeFileSync(join(dir, 'bad.json'), '{ nope');
    await assert.rejects(loadModel(join(dir, 'bad.json')), /not valid JSON/);
    writeFileSync(
      join(dir, 'odd.json'),
      JSON.stringify({
        format: 'layers-model',
        modelTopology: {
          class_name: 'Sequential',
          config: { name: 's', layers: [{ class_name: 'FancyConv', config: { name: 'f', batch_input_shape: [null, 2] } }] },
        },
        weightsManifest: [],
      }),
    );
    await assert.rejects(loadModel(join(dir, 'odd.json')), /layer class 'FancyConv'/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('training steps through ternary layers keep the tensor count constant', () => {
  const input = tfl.input({ shape: [6, 6, 2] });
  const c = new TernaryConv2D({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', tex: 2 }).apply(input) as tfl.SymbolicTensor;
  const s = new OptionAShortcut({ outChannels: 4 }).apply(input) as tfl.SymbolicTensor;
  const flat = tfl.layers.flatten().apply(tfl.layers.add().apply([c, s])) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: new TernaryDense({ units: 3 }).apply(flat) as tfl.SymbolicTensor });
  const x = tf.tensor4d(randn(4 * 6 * 6 * 2, 41), [4, 6, 6, 2]);
  const y = tf.oneHot(tf.tensor1d([0, 1, 2, 0], 'int32'), 3);
  const optimizer = tf.train.sgd(0.1);
  const step = (): number =>
    tf.tidy(() => {
      const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
      const { value, grads } = tf.variableGrads(
        () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
        vars,
      );
      optimizer.applyGradients(grads);
      return value.dataSync()[0];
    });
  const first = step();
  const before = tf.memory().numTensors;
  let last = first;
  for (let i = 0; i < 5; i++) last = step();
  assert.equal(tf.memory().numTensors, before);
  assert.ok(Number.isFinite(last));
});
