import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { Adam, Sgd, type Optimizer } from '../../server/train/optimizers';
import { learningRateAt } from '../../server/train/schedule';
import { newRunId } from '../../server/runs/runId';

// Reference values from PyTorch 2 (python3-torch): w = [1, -2, 0.5], grads [0.5, 0.25, -1]·(k+1)
// for steps k = 0, 1, 2, lr 0.1, weight decay 0.1:
//   torch.optim.SGD(momentum=0.9, nesterov=True)  → [0.2016686, -2.2014005, 1.8988974]
//   torch.optim.SGD(momentum=0.9, nesterov=False) → [0.4717740, -2.1250606, 1.4173995]
//   torch.optim.Adam()                            → [0.7056953, -2.2723112, 0.7918754]
async function run(make: (params: tf.Variable[]) => Optimizer): Promise<number[]> {
  await tf.setBackend('cpu');
  const w = tf.variable(tf.tensor1d([1, -2, 0.5]));
  const opt = make([w]);
  for (let k = 0; k < 3; k++) {
    tf.tidy(() => opt.apply([tf.mul(tf.tensor1d([0.5, 0.25, -1]), k + 1)], 0.1));
  }
  const out = Array.from(await w.data());
  opt.dispose();
  w.dispose();
  return out;
}

function close(actual: number[], expected: number[]): void {
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]!) < 1e-5, `${actual} vs ${expected}`));
}

test('SGD Nesterov with L2 weight decay matches PyTorch', async () => {
  close(await run((p) => new Sgd(p, 0.9, true, 0.1)), [0.2016686, -2.2014005, 1.8988974]);
});

test('SGD momentum (no Nesterov) matches PyTorch', async () => {
  close(await run((p) => new Sgd(p, 0.9, false, 0.1)), [0.471774, -2.1250606, 1.4173995]);
});

test('Adam with L2 weight decay matches PyTorch', async () => {
  close(await run((p) => new Adam(p, 0.1)), [0.7056953, -2.2723112, 0.7918754]);
});

test('optimizer state round-trips: continuing from a restored state equals continuing directly', async () => {
  await tf.setBackend('cpu');
  const grads = (k: number) => [tf.mul(tf.tensor1d([0.5, 0.25, -1]), k + 1)];
  const a = tf.variable(tf.tensor1d([1, -2, 0.5]));
  const optA = new Adam([a], 0.01);
  for (let k = 0; k < 4; k++) tf.tidy(() => optA.apply(grads(k), 0.1));

  const b = tf.variable(tf.tensor1d([1, -2, 0.5]));
  const optB = new Adam([b], 0.01);
  for (let k = 0; k < 2; k++) tf.tidy(() => optB.apply(grads(k), 0.1));
  const saved = await optB.getState();
  const savedW = await b.data();
  optB.dispose();
  const c = tf.variable(tf.tensor1d(savedW));
  const optC = new Adam([c], 0.01);
  optC.setState(saved);
  for (let k = 2; k < 4; k++) tf.tidy(() => optC.apply(grads(k), 0.1));
  assert.deepEqual(Array.from(await c.data()), Array.from(await a.data()));
  assert.throws(() => new Sgd([c], 0.9, true, 0).setState(saved), /holds adam state/);
  optA.dispose();
  optC.dispose();
  tf.dispose([a, b, c]);
});

test('optimizer steps leak no tensors', async () => {
  await tf.setBackend('cpu');
  const w = tf.variable(tf.tensor1d([1, 2]));
  const opt = new Sgd([w], 0.9, true, 1e-4);
  tf.tidy(() => opt.apply([tf.ones([2])], 0.1));
  const after1 = tf.memory().numTensors;
  for (let k = 0; k < 5; k++) tf.tidy(() => opt.apply([tf.ones([2])], 0.1));
  assert.equal(tf.memory().numTensors, after1);
  opt.dispose();
  w.dispose();
});

test('step schedule: lr · Π gammas over schedule[i] ≤ epoch (0-based epochs)', () => {
  const s = [80, 120, 160];
  const g = [0.1, 0.1, 0.5];
  assert.equal(learningRateAt(0, 0.1, s, g), 0.1);
  assert.equal(learningRateAt(79, 0.1, s, g), 0.1);
  assert.equal(learningRateAt(80, 0.1, s, g), 0.1 * 0.1);
  assert.equal(learningRateAt(120, 0.1, s, g), 0.1 * 0.1 * 0.1);
  assert.equal(learningRateAt(199, 0.1, s, g), 0.1 * 0.1 * 0.1 * 0.5);
  assert.equal(learningRateAt(5, 0.05, [6, 9], [0.1, 0.1]), 0.05);
  assert.equal(learningRateAt(6, 0.05, [6, 9], [0.1, 0.1]), 0.05 * 0.1);
});

test('run ids: YYYYMMDD-HHMMSS-xxxx in UTC', () => {
  assert.match(newRunId(new Date(Date.UTC(2026, 10, 26, 9, 5, 3))), /^20261126-090503-[0-9a-f]{4}$/);
});
