// Twenty training steps of a ternary ResNet-20 (the zoo model, option-A shortcuts, BatchNorm in
// training mode, SGD with Nesterov momentum and weight decay) from the same initial weights on
// the cpu backend and on onednn reach the same loss (≤ 1e-3). Small input (8×8×3, batch 4) so
// the cpu side stays fast; the layers, kernels and graph are those of the full-size model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import type { TrainConfig } from '../../shared/experimentConfig';
import { buildModel } from '../../server/models';
import { createOptimizer } from '../../server/train/optimizers';
import { makeTrainStep } from '../../server/train/step';
import { addonLoadError, ONEDNN_BACKEND, registerOnednnBackend } from '../../server/backends/onednn';
import { loadAddon } from '../../server/backends/onednn/addon';

const skip = loadAddon() ? false : `oneDNN addon not available: ${addonLoadError()}`;
if (skip) process.stdout.write(`# SKIPPED onednn training test: ${skip}\n`);

const STEPS = 20;
const BATCH = 4;
const INPUT = [8, 8, 3];
const CLASSES = 10;
const RECIPE: TrainConfig = {
  epochs: 1,
  batchSize: BATCH,
  optimizer: 'sgd',
  lr: 0.02,
  momentum: 0.9,
  nesterov: true,
  weightDecay: 3e-4,
  schedule: [],
  gammas: [],
  seed: 0,
};

/** A fixed batch (mulberry32): uniform(−1, 1) pixels and labels. */
function fixedBatch(seed: number): { x: Float32Array; y: Int32Array; n: number } {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const x = new Float32Array(BATCH * INPUT[0]! * INPUT[1]! * INPUT[2]!).map(() => next() * 2 - 1);
  const y = new Int32Array(BATCH).map(() => Math.floor(next() * CLASSES));
  return { x, y, n: BATCH };
}

async function losses(backend: string): Promise<number[]> {
  await tf.setBackend(backend);
  const model = buildModel({
    arch: 'resnet20',
    classes: CLASSES,
    inputShape: INPUT,
    seed: 7,
    quant: { method: 'he2019', thresholdFactor: 0.05, threshold: 'fixed', tex: 1, firstLast: 'ternary' },
  });
  const params = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const optimizer = createOptimizer(RECIPE, params);
  const step = makeTrainStep(model, optimizer, params, CLASSES);
  const batch = fixedBatch(3);
  const result: number[] = [];
  try {
    for (let i = 0; i < STEPS; i++) result.push((await step(batch, RECIPE.lr)).loss);
  } finally {
    optimizer.dispose();
    model.dispose();
  }
  return result;
}

test('20 ResNet-20 training steps reach the same loss on onednn as on cpu (≤ 1e-3)', { skip }, async () => {
  assert.ok(await registerOnednnBackend(2));
  const expected = await losses('cpu');
  const actual = await losses(ONEDNN_BACKEND);
  // The model must really learn the batch, or equal losses would prove little.
  assert.ok(expected[STEPS - 1]! < expected[0]! - 0.1, `the cpu loss fell from ${expected[0]} to ${expected[STEPS - 1]}`);
  actual.forEach((loss, i) => {
    assert.ok(Math.abs(loss - expected[i]!) <= 1e-3, `step ${i + 1}: onednn loss ${loss} vs cpu ${expected[i]}`);
  });
});
