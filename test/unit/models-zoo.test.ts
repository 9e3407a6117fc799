import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import type { QuantConfig } from '../../shared/experimentConfig';
import { buildModel, convertToTernary, fanIn } from '../../server/models';
import { TernaryConv2D, TernaryDense } from '../../server/core/layers';
import { summedTernaryReference } from '../../server/core/quantizerReference';

const TERN: QuantConfig = { method: 'he2019', thresholdFactor: 0.05, threshold: 'fixed', tex: 1, firstLast: 'ternary' };
const FLOAT: QuantConfig = { method: 'none' };

function trainableParams(model: tfl.LayersModel): number {
  return model.trainableWeights.reduce((sum, w) => sum + w.shape.reduce((a: number, b) => a * (b as number), 1), 0);
}

function kernelClasses(model: tfl.LayersModel): string[] {
  return model.layers.map((l) => l.getClassName()).filter((c) => /Conv2D|Dense/.test(c));
}

before(async () => {
  await tf.setBackend('cpu');
});

test('CIFAR ResNet parameter counts match the paper (≈ 0.27, 0.46, 0.66, 0.85 M)', () => {
  // Exact trainable counts of the PyTorch option-A ResNets (conv + BN γ/β + fc), 10 classes.
  const expected: Record<string, number> = { resnet20: 269722, resnet32: 464154, resnet44: 658586, resnet56: 853018 };
  for (const [arch, count] of Object.entries(expected)) {
    const model = buildModel({ arch, classes: 10, quant: TERN, seed: 1 });
    assert.equal(trainableParams(model), count, arch);
    assert.deepEqual(model.outputs[0].shape, [null, 10]);
    model.dispose();
  }
});

test("ResNet-18 (1000 classes) has torchvision's 11,689,512 trainable parameters", () => {
  const model = buildModel({ arch: 'resnet18', classes: 1000, quant: TERN, seed: 1 });
  assert.equal(trainableParams(model), 11689512);
  assert.deepEqual(model.inputs[0].shape, [null, 224, 224, 3]);
  // 20 convs (incl. 3 downsample 1×1) + fc, all ternary by default.
  assert.deepEqual(new Set(kernelClasses(model)), new Set(['TernaryConv2D', 'TernaryDense']));
  assert.equal(kernelClasses(model).length, 21);
  model.dispose();
});

test('small models: LeNet-5 and fmnist-cnn counts, shapes, and the exact fmnist-cnn layout', () => {
  const lenet = buildModel({ arch: 'lenet5', classes: 10, quant: FLOAT, seed: 1 });
  assert.equal(lenet.countParams(), 61706);
  const fm = buildModel({ arch: 'fmnist-cnn', classes: 10, quant: TERN, seed: 1 });
  // conv 288 + BN 4·32, conv 18432 + BN 4·64, dense 3136·128 + BN 4·128, dense 128·10 + 10
  assert.equal(fm.countParams(), 288 + 128 + 18432 + 256 + 401408 + 512 + 1290);
  assert.deepEqual(
    fm.layers.map((l) => l.getClassName()),
    [
      'InputLayer',
      'TernaryConv2D',
      'BatchNormalization',
      'ReLU',
      'MaxPooling2D',
      'TernaryConv2D',
      'BatchNormalization',
      'ReLU',
      'MaxPooling2D',
      'Flatten',
      'TernaryDense',
      'BatchNormalization',
      'ReLU',
      'TernaryDense',
    ],
  );
  const y = fm.predict(tf.zeros([2, 28, 28, 1])) as tf.Tensor;
  assert.deepEqual(y.shape, [2, 10]);
  lenet.dispose();
  fm.dispose();
});

test('quant settings: none → float layers, firstLast float keeps first conv and last dense float, tex reaches layers', () => {
  assert.deepEqual(
    new Set(kernelClasses(buildModel({ arch: 'resnet20', classes: 10, quant: FLOAT, seed: 1 }))),
    new Set(['Conv2D', 'Dense']),
  );
  const edge = buildModel({ arch: 'resnet20', classes: 10, quant: { ...TERN, firstLast: 'float', tex: 4 }, seed: 1 });
  const classes = kernelClasses(edge);
  assert.equal(classes[0], 'Conv2D');
  assert.equal(classes[classes.length - 1], 'Dense');
  assert.ok(classes.slice(1, -1).every((c) => c === 'TernaryConv2D'));
  assert.equal((edge.getLayer('stage2_block1_conv1') as TernaryConv2D).quant.tex, 4);
  assert.throws(() => buildModel({ arch: 'vgg16', classes: 10, quant: TERN }), /Unknown architecture 'vgg16'. Available: resnet20/);
  assert.throws(
    () => buildModel({ arch: 'resnet20', classes: 10, quant: { ...TERN, method: 'twn', tex: 2 } }),
    /^UserError: Layer '\w+': tex must be 1 with method "twn"/,
  );
});

test('seeded Kaiming normal: same seed same weights, std = √(2 / fan_in), zero biases', () => {
  const a = buildModel({ arch: 'resnet20', classes: 10, quant: TERN, seed: 42 });
  const b = buildModel({ arch: 'resnet20', classes: 10, quant: TERN, seed: 42 });
  const c = buildModel({ arch: 'resnet20', classes: 10, quant: TERN, seed: 43 });
  const wa = a.getWeights().map((w) => w.dataSync());
  const wb = b.getWeights().map((w) => w.dataSync());
  assert.deepEqual(wa, wb);
  assert.notDeepEqual(a.getLayer('conv1').getWeights()[0].dataSync(), c.getLayer('conv1').getWeights()[0].dataSync());
  const kernel = a.getLayer('stage3_block2_conv1').getWeights()[0];
  const values = Array.from(kernel.dataSync());
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const std = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length);
  const expected = Math.sqrt(2 / fanIn(kernel.shape));
  assert.ok(Math.abs(std / expected - 1) < 0.02, `std ${std} vs ${expected}`);
  // Untruncated: some draws beyond 2σ (a truncated normal has none).
  assert.ok(values.some((v) => Math.abs(v) > 2.5 * expected));
  assert.deepEqual(Array.from(a.getLayer('fc').getWeights()[1].dataSync()), new Array(10).fill(0));
  for (const m of [a, b, c]) m.dispose();
});

/** Predictions of `float` with every kernel replaced by Σ T_k (JS reference): what the twin must compute. */
function referencePredict(float: tfl.LayersModel, twin: tfl.LayersModel, x: tf.Tensor): Float32Array {
  for (const layer of twin.layers) {
    if (!(layer instanceof TernaryConv2D || layer instanceof TernaryDense)) continue;
    const target = float.getLayer(layer.name);
    const [kernel, ...rest] = target.getWeights();
    const summed = summedTernaryReference(kernel.dataSync(), layer.quant);
    target.setWeights([tf.tensor(summed, kernel.shape), ...rest]);
  }
  return (float.predict(x) as tf.Tensor).dataSync() as Float32Array;
}

test('convertToTernary: functional ResNet-20 twin keeps the float weights as latent weights and computes with Σ T_k', async () => {
  const float = buildModel({ arch: 'resnet20', classes: 10, quant: FLOAT, seed: 7 });
  const twin = await convertToTernary(float, { ...TERN, tex: 2 });
  assert.deepEqual(new Set(kernelClasses(twin)), new Set(['TernaryConv2D', 'TernaryDense']));
  assert.equal(twin.countParams(), float.countParams());
  assert.deepEqual(
    twin.getLayer('stage1_block1_conv1').getWeights()[0].dataSync(),
    float.getLayer('stage1_block1_conv1').getWeights()[0].dataSync(),
  );
  const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 3);
  const got = (twin.predict(x) as tf.Tensor).dataSync();
  const want = referencePredict(float, twin, x);
  // Untrained BN leaves logits of size ~1e4 with heavy cancellation; compare relative to their scale
  // (α differs from the float64 reference in the last bit, which 20 layers amplify a little).
  let maxDiff = 0;
  let scale = 0;
  for (let i = 0; i < got.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  assert.ok(maxDiff / scale < 1e-4, `max difference ${maxDiff} at scale ${scale}`);
  // The twin owns its weights: disposing the float model (as the trainer does) leaves it intact.
  float.dispose();
  assert.deepEqual((twin.predict(x) as tf.Tensor).dataSync(), got);
});

test('convertToTernary: a Sequential with a nested Sequential, firstLast float, and errors', async () => {
  const inner = tfl.sequential({
    name: 'inner',
    layers: [tfl.layers.dense({ units: 6, inputShape: [5], name: 'inner_dense', activation: 'relu' })],
  });
  const outer = tfl.sequential({
    name: 'outer',
    layers: [
      tfl.layers.dense({ units: 5, inputShape: [4], name: 'first' }),
      inner,
      tfl.layers.dense({ units: 3, name: 'middle' }),
      tfl.layers.dense({ units: 2, name: 'last' }),
    ],
  });
  const twin = await convertToTernary(outer, { ...TERN, firstLast: 'float' });
  assert.equal(twin.getLayer('first').getClassName(), 'Dense');
  assert.equal(twin.getLayer('middle').getClassName(), 'TernaryDense');
  assert.equal(twin.getLayer('last').getClassName(), 'Dense');
  const nested = twin.getLayer('inner') as tfl.LayersModel;
  assert.equal(nested.getLayer('inner_dense').getClassName(), 'TernaryDense');
  assert.deepEqual(nested.getLayer('inner_dense').getWeights()[0].dataSync(), inner.getLayer('inner_dense').getWeights()[0].dataSync());
  // Re-quantizing a ternary model changes its settings.
  const again = await convertToTernary(twin, { ...TERN, method: 'twn' });
  assert.equal((again.getLayer('first') as TernaryDense).quant.method, 'twn');
  const dilated = tfl.sequential({
    layers: [tfl.layers.conv2d({ filters: 2, kernelSize: 3, dilationRate: 2, inputShape: [8, 8, 1], name: 'dil' })],
  });
  await assert.rejects(convertToTernary(dilated, TERN), /Layer 'dil': dilated Conv2D/);
  const noKernels = tfl.sequential({ layers: [tfl.layers.flatten({ inputShape: [2, 2] })] });
  await assert.rejects(convertToTernary(noKernels, TERN), /nothing to ternarize/);
});
