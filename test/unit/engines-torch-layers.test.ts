/**
 * The torch engine's own BatchNorm and dense layer (engines/torch/ternary_torch/graph.py,
 * linear.py) compute what tfjs's do: a BatchNormalization training step (output, moving mean and
 * the moving variance from the biased batch variance) on NHWC and [N, C] inputs, and a dense
 * layer's output and gradients (dx, dW, db). The values here come from tfjs-layers on the cpu
 * backend; engines/torch/tests/check_layers.py recomputes them in PyTorch (≤ 1e-5 relative).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { layers } from '@tensorflow/tfjs-layers';
import { torchPython } from '../shared/torchPython';

const root = join(__dirname, '..', '..');

/** Seeded values in [lo, hi). */
function values(count: number, seed: number, lo = -1, hi = 1): number[] {
  let s = seed >>> 0;
  return Array.from({ length: count }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + ((hi - lo) * s) / 2 ** 32;
  });
}

function batchNormCase(shape: number[], seed: number) {
  const channels = shape[shape.length - 1]!;
  const size = shape.reduce((a, b) => a * b, 1);
  const x = values(size, seed, -2, 3);
  const gamma = values(channels, seed + 1, 0.5, 1.5);
  const beta = values(channels, seed + 2);
  const movingMean = values(channels, seed + 3);
  const movingVariance = values(channels, seed + 4, 0.1, 2);
  const momentum = 0.9;
  const epsilon = 1e-3;
  const layer = layers.batchNormalization({ momentum, epsilon });
  layer.build(shape);
  layer.setWeights([tf.tensor1d(gamma), tf.tensor1d(beta), tf.tensor1d(movingMean), tf.tensor1d(movingVariance)]);
  const y = layer.apply(tf.tensor(x, shape), { training: true }) as tf.Tensor;
  const [, , mm, mv] = layer.getWeights();
  const out = {
    shape,
    x,
    gamma,
    beta,
    moving_mean: movingMean,
    moving_variance: movingVariance,
    momentum,
    epsilon,
    y: Array.from(y.dataSync()),
    movingMeanAfter: Array.from(mm!.dataSync()),
    movingVarianceAfter: Array.from(mv!.dataSync()),
  };
  tf.dispose([y, ...layer.weights.map((w) => w.read())]);
  return out;
}

function denseCase(n: number, inputs: number, outputs: number, seed: number) {
  const x = values(n * inputs, seed);
  const kernel = values(inputs * outputs, seed + 1, -0.2, 0.2);
  const bias = values(outputs, seed + 2);
  const dy = values(n * outputs, seed + 3);
  return tf.tidy(() => {
    const dyT = tf.tensor2d(dy, [n, outputs]);
    const f = (a: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.add(tf.matMul(a, w), b), dyT));
    const args = [tf.tensor2d(x, [n, inputs]), tf.tensor2d(kernel, [inputs, outputs]), tf.tensor1d(bias)] as const;
    const y = tf.add(tf.matMul(args[0], args[1]), args[2]);
    const [dx, dW, db] = tf.grads(f as (...t: tf.Tensor[]) => tf.Tensor)([...args]);
    return {
      n,
      in: inputs,
      out: outputs,
      x,
      kernel,
      bias,
      dy,
      y: Array.from(y.dataSync()),
      dx: Array.from(dx!.dataSync()),
      dW: Array.from(dW!.dataSync()),
      db: Array.from(db!.dataSync()),
    };
  });
}

test('torch engine BatchNorm (training step) and dense layer = tfjs-layers (≤ 1e-5 relative)', async (t) => {
  const found = await torchPython();
  if (!found.python) return t.skip(found.skip);
  await tf.setBackend('cpu');
  const dir = mkdtempSync(join(tmpdir(), 'tern-torch-layers-'));
  try {
    const path = join(dir, 'tfjs.json');
    writeFileSync(
      path,
      JSON.stringify({
        batchNorm: [batchNormCase([8, 5, 5, 3], 11), batchNormCase([32, 6], 21), batchNormCase([2, 1, 1, 4], 31)],
        // fmnist-cnn's fc1 shape (3136 → 128) at a DDP half batch, and a small odd one.
        dense: [denseCase(64, 3136, 128, 41), denseCase(3, 7, 5, 51)],
      }),
    );
    let out: string;
    try {
      out = execFileSync(found.python.path, [join(root, 'engines', 'torch', 'tests', 'check_layers.py'), path], { encoding: 'utf8' });
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string };
      assert.fail(`check_layers.py failed: ${e.stdout ?? ''} ${e.stderr ?? ''}`);
    }
    const result = JSON.parse(out.trim().split('\n').pop()!) as Record<string, number | boolean>;
    t.diagnostic(JSON.stringify(result));
    for (const key of ['bnOutput', 'bnMovingMean', 'bnMovingVariance', 'denseOutput', 'denseGradX', 'denseGradW', 'denseGradB']) {
      assert.equal(typeof result[key], 'number', `${key} was checked`);
      assert.ok((result[key] as number) <= 1e-5, `${key} differs by ${result[key]} (relative)`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
