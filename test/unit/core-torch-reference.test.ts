/**
 * Third implementation: the reference PyTorch code (Ternarized_Neural_Network's _quanFunc and its
 * t_ex separate branch convs), run once by test/fixtures/core/make_torch_reference.py. Our one conv
 * on Σ T_k must give its output and its latent-weight gradient.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { ternaryWeight } from '../../server/core/quantizer';

interface TorchCase {
  tex: 1 | 2 | 4;
  xShape: number[];
  x: number[];
  kernelShape: number[];
  kernel: number[];
  rShape: number[];
  r: number[];
  output: number[];
  kernelGrad: number[];
}

const fixture = JSON.parse(readFileSync(join(__dirname, '../fixtures/core/torch_reference.json'), 'utf8')) as {
  torch: string;
  cases: TorchCase[];
};

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

before(async () => {
  await tf.setBackend('cpu');
});

for (const c of fixture.cases) {
  test(`t_ex = ${c.tex}: output and dL/dW equal the PyTorch reference (${fixture.torch})`, () => {
    assert.ok(
      c.kernel.some((v) => Math.abs(v) >= 1),
      'the fixture exercises the |W| ≥ 1 clip',
    );
    const x = tf.tensor4d(c.x, c.xShape as [number, number, number, number]);
    const w = tf.tensor4d(c.kernel, c.kernelShape as [number, number, number, number]);
    const r = tf.tensor4d(c.r, c.rShape as [number, number, number, number]);
    const quant = { method: 'he2019' as const, thresholdFactor: 0.05, tex: c.tex };
    // stride 1, 3×3: tfjs 'same' = PyTorch padding 1.
    const forward = (v: tf.Tensor): tf.Tensor => tf.conv2d(x, ternaryWeight(v, quant) as tf.Tensor4D, 1, 'same');
    assert.ok(maxAbsDiff(forward(w).dataSync(), c.output) <= 1e-5, 'output');
    const grad = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(forward(v), r)))(w);
    assert.ok(maxAbsDiff(grad.dataSync(), c.kernelGrad) <= 1e-4, 'gradient');
  });
}
