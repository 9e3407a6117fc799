// The project's FusedBatchNorm gradient (server/backends/gradients) against tfjs-core's own, on a
// BatchNormalization layer in training mode (where mean and variance depend on x).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { registerFastGradients, restoreOriginalGradients } from '../../server/backends/gradients';
import { fusedBatchNormGradConfig } from '../../server/backends/gradients/fusedBatchNormGrad';
import { startWasmBackend } from '../../server/backends/wasm/setupWasm';

function maxRelativeError(actual: Float32Array, expected: Float32Array): number {
  let diff = 0;
  let ref = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    ref = Math.max(ref, Math.abs(expected[i]));
  }
  return diff / ref;
}

test("BatchNorm training gradients (x, γ, β) equal tfjs-core's, without leaking tensors", async () => {
  await tf.setBackend('cpu');
  const bn = tfl.layers.batchNormalization({ axis: -1, gammaInitializer: 'randomNormal', betaInitializer: 'randomNormal' });
  const x = tf.randomNormal([3, 5, 7, 4], 1, 2, 'float32', 11);
  const weightOfOutput = tf.randomNormal([3, 5, 7, 4], 0, 1, 'float32', 12);
  bn.apply(x, { training: true });
  const gradients = (): Float32Array[] =>
    tf.tidy(() => {
      const loss = (input: tf.Tensor): tf.Scalar => tf.sum(tf.mul(bn.apply(input, { training: true }) as tf.Tensor, weightOfOutput));
      const { grads } = tf.variableGrads(() => loss(x));
      const dx = tf.grad(loss)(x);
      return [dx, ...bn.trainableWeights.map((w) => grads[(w.read() as tf.Variable).name]!)].map((t) => t.dataSync() as Float32Array);
    });
  restoreOriginalGradients();
  const expected = gradients();
  registerFastGradients();
  assert.equal(tf.getGradient('FusedBatchNorm'), fusedBatchNormGradConfig);
  const before = tf.memory().numTensors;
  const actual = gradients();
  assert.equal(tf.memory().numTensors, before);
  assert.equal(actual.length, 3);
  actual.forEach((values, i) =>
    assert.ok(maxRelativeError(values, expected[i]!) <= 1e-5, `gradient ${i}: ${maxRelativeError(values, expected[i]!)}`),
  );
});

test("on wasm (project kernels + gradients, incl. the per-channel Mean gradient) BatchNorm gradients equal cpu with tfjs-core's", async () => {
  const bnGradients = (): Float32Array[] =>
    tf.tidy(() => {
      const bn = tfl.layers.batchNormalization({ axis: -1, gammaInitializer: 'ones', betaInitializer: 'zeros' });
      const x = tf.tensor4d(
        Float32Array.from({ length: 2 * 4 * 3 * 5 }, (_, i) => Math.sin(i * 1.7) * 3 + 1),
        [2, 4, 3, 5],
      );
      const w = tf.tensor4d(
        Float32Array.from({ length: 2 * 4 * 3 * 5 }, (_, i) => Math.cos(i * 0.9)),
        [2, 4, 3, 5],
      );
      const loss = (input: tf.Tensor): tf.Scalar => tf.sum(tf.mul(bn.apply(input, { training: true }) as tf.Tensor, w));
      return [tf.grad(loss)(x).dataSync() as Float32Array];
    });
  await tf.setBackend('cpu');
  restoreOriginalGradients();
  const expected = bnGradients();
  await startWasmBackend();
  registerFastGradients();
  const actual = bnGradients();
  assert.ok(maxRelativeError(actual[0]!, expected[0]!) <= 1e-4, `dx: ${maxRelativeError(actual[0]!, expected[0]!)}`);
});
