/**
 * The round trip of a PyTorch CNN: ONNX in → ternary twin → a few QAT steps → ONNX out
 * (server/formats/onnx/export) → ONNX Runtime gives the outputs our inference gives.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { importOnnx } from '../../server/formats/onnx/import';
import { convertToTernary } from '../../server/models';
import { packModel } from '../../server/formats/packedModel';
import { exportOnnx } from '../../server/formats/onnx/export/toOnnx';
import { runOnnx } from '../../server/formats/onnx/runtime';
import { Rng } from '../../server/data/rng';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'onnx');

before(async () => {
  await tf.setBackend('cpu');
});

function normal(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => rng.normal());
}

/** `steps` SGD steps on random inputs and targets: the latent weights move, so codes and α change. */
function qatSteps(model: LayersModel, inputShape: number[], steps: number): void {
  const optimizer = tf.train.sgd(0.05);
  const outUnits = model.outputs[0].shape[1] as number;
  for (let step = 0; step < steps; step++) {
    tf.tidy(() => {
      const x = tf.tensor(normal(4 * inputShape.reduce((a, b) => a * b, 1), 100 + step), [4, ...inputShape]);
      const target = tf.oneHot(
        tf.tensor1d(
          [0, 1, 2, 3].map((i) => (i + step) % outUnits),
          'int32',
        ),
        outUnits,
      );
      optimizer.minimize(() => tf.losses.meanSquaredError(target, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar);
    });
  }
  optimizer.dispose();
}

function codesOf(model: LayersModel): string {
  return packModel(model)
    .weights.map((w) => (w.kind === 'ternary' ? `${Array.from(w.levels).join(',')}:${w.codes.join('')}` : ''))
    .join('|');
}

for (const [name, nhwc] of [
  ['lenet5', [28, 28, 1]],
  ['resnet20_cifar', [32, 32, 3]],
  ['mobilenet_small', [32, 32, 3]],
  ['pad_shortcut', [16, 16, 3]],
] as const) {
  test(`${name}: ONNX in → ternarize → QAT steps → ONNX out runs in ONNX Runtime with our outputs`, async () => {
    const float = await importOnnx(path.join(FIXTURES, `${name}.onnx`));
    const twin = await convertToTernary(float, {
      method: 'he2019',
      thresholdFactor: 0.05,
      threshold: 'fixed',
      tex: 1,
      firstLast: 'ternary',
    });
    float.dispose();
    const before = codesOf(twin);
    qatSteps(twin, [...nhwc], 3);
    assert.notEqual(codesOf(twin), before, 'the QAT steps changed no ternary code or α');

    const exported = exportOnnx(twin, packModel(twin));
    const batch = [6, ...nhwc];
    const x = normal(
      batch.reduce((a, b) => a * b, 1),
      7,
    );
    const ours = tf.tidy(() => (twin.predict(tf.tensor(x, batch)) as tf.Tensor).dataSync() as Float32Array);
    const ort = await runOnnx(exported.bytes, x, batch, { layout: 'NHWC' });
    assert.equal(ort.data.length, ours.length);
    let diff = 0;
    let scale = 0;
    ours.forEach((v, i) => {
      diff = Math.max(diff, Math.abs(v - ort.data[i]));
      scale = Math.max(scale, Math.abs(v));
    });
    assert.ok(diff / scale <= 1e-5, `max |Δ| ${diff} of max |y| ${scale}`);
    twin.dispose();
  });
}
