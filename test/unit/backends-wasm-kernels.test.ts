// The project's wasm kernels (server/backends/wasm/kernels): the conv gradients against the cpu backend's
// kernels, on random inputs of awkward shapes: relative error max|a−b| / max|b| ≤ 1e-4.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { startWasmBackend } from '../../server/backends/wasm/setupWasm';

type Shape4 = [number, number, number, number];
interface Case {
  x: Shape4;
  filter: Shape4;
  stride: number;
  pad: 'same' | 'valid';
}

/** Deterministic pseudo-random values (mulberry32), identical on every backend. */
function randomValues(count: number, seed: number): Float32Array {
  let state = seed >>> 0;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

function relativeError(actual: Float32Array, expected: Float32Array): number {
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < expected.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(actual[i] - expected[i]));
    maxRef = Math.max(maxRef, Math.abs(expected[i]));
  }
  return maxDiff / maxRef;
}

const cases: Case[] = [];
for (const [x, filter] of [
  [
    [1, 7, 9, 3],
    [3, 3, 3, 5],
  ],
  [
    [1, 7, 9, 1],
    [5, 5, 1, 3],
  ],
  [
    [1, 9, 7, 16],
    [1, 1, 16, 5],
  ],
  [
    [2, 7, 9, 5],
    [3, 3, 5, 16],
  ],
  [
    [1, 8, 8, 3],
    [5, 5, 3, 1],
  ],
  [
    [3, 6, 5, 16],
    [3, 3, 16, 16],
  ],
] as [Shape4, Shape4][]) {
  for (const stride of [1, 2]) for (const pad of ['same', 'valid'] as const) cases.push({ x, filter, stride, pad });
}

/** Both gradient kernels of one case on the current backend. */
function gradients(c: Case, seed: number): { dFilter: Float32Array; dInput: Float32Array; dyShape: number[] } {
  return tf.tidy(() => {
    const x = tf.tensor4d(randomValues(size(c.x), seed), c.x);
    const filter = tf.tensor4d(randomValues(size(c.filter), seed + 1), c.filter);
    const dyShape = tf.conv2d(x, filter, c.stride, c.pad).shape;
    const dy = tf.tensor4d(randomValues(size(dyShape), seed + 2), dyShape);
    const attrs = { strides: c.stride, pad: c.pad, dataFormat: 'NHWC' };
    const dFilter = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: c.filter }) as tf.Tensor;
    const dInput = tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, { ...attrs, inputShape: c.x }) as tf.Tensor;
    assert.deepEqual(dFilter.shape, c.filter);
    assert.deepEqual(dInput.shape, c.x);
    return { dFilter: dFilter.dataSync() as Float32Array, dInput: dInput.dataSync() as Float32Array, dyShape };
  });
}

test('wasm Conv2DBackpropFilter and Conv2DBackpropInput match the cpu backend (rel. error ≤ 1e-4)', async () => {
  await startWasmBackend();
  cases.forEach((c, i) => {
    const label = `x ${c.x} filter ${c.filter} stride ${c.stride} ${c.pad}`;
    // Both backends are started already: setBackend switches at once (its promise is for starting one).
    void tf.setBackend('wasm');
    const wasm = gradients(c, 100 * i);
    void tf.setBackend('cpu');
    const cpu = gradients(c, 100 * i);
    assert.ok(relativeError(wasm.dFilter, cpu.dFilter) <= 1e-4, `filter gradient, ${label}: ${relativeError(wasm.dFilter, cpu.dFilter)}`);
    assert.ok(relativeError(wasm.dInput, cpu.dInput) <= 1e-4, `input gradient, ${label}: ${relativeError(wasm.dInput, cpu.dInput)}`);
  });
  await tf.setBackend('wasm');
});

test('tf.grads of a strided conv on wasm equals the cpu result', async () => {
  await startWasmBackend();
  const run = (): Float32Array[] =>
    tf.tidy(() => {
      const x = tf.tensor4d(randomValues(2 * 9 * 7 * 3, 7), [2, 9, 7, 3]);
      const filter = tf.tensor4d(randomValues(3 * 3 * 3 * 4, 8), [3, 3, 3, 4]);
      const loss = (a: tf.Tensor, b: tf.Tensor): tf.Scalar => tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same')));
      return tf
        .grads(loss)([x, filter])
        .map((g) => g.dataSync() as Float32Array);
    });
  const onWasm = run();
  await tf.setBackend('cpu');
  const onCpu = run();
  await tf.setBackend('wasm');
  assert.ok(relativeError(onWasm[0], onCpu[0]) <= 1e-4);
  assert.ok(relativeError(onWasm[1], onCpu[1]) <= 1e-4);
});

test('the kernels free their intermediates: tensor and backend data counts do not grow', async () => {
  await startWasmBackend();
  const c: Case = { x: [2, 9, 7, 5], filter: [3, 3, 5, 3], stride: 2, pad: 'same' };
  gradients(c, 1);
  const tensors = tf.memory().numTensors;
  const dataIds = tf.engine().backend.numDataIds();
  for (let i = 0; i < 5; i++) gradients(c, 1);
  assert.equal(tf.memory().numTensors, tensors);
  assert.equal(tf.engine().backend.numDataIds(), dataIds);
});

test('wasm Identity shares the buffer and keeps it alive until the last reference goes', async () => {
  await startWasmBackend();
  const dataIds = tf.engine().backend.numDataIds();
  const x = tf.tensor1d([1, 2, 3]);
  const copy = tf.clone(x);
  assert.equal(tf.engine().backend.numDataIds(), dataIds + 1);
  x.dispose();
  assert.deepEqual(Array.from(copy.dataSync()), [1, 2, 3]);
  copy.dispose();
  assert.equal(tf.engine().backend.numDataIds(), dataIds);
});

test('wasm Sum and Mean: per-channel reductions (average pooling) and all others (delegated) match cpu', async () => {
  await startWasmBackend();
  const shape: Shape4 = [3, 5, 7, 6];
  const reductions: [string, (x: tf.Tensor) => tf.Tensor][] = [
    ['sum over N,H,W', (x) => tf.sum(x, [0, 1, 2])],
    ['mean over N,H,W keepDims', (x) => tf.mean(x, [2, 0, 1], true)],
    ['sum over H', (x) => tf.sum(x, 1)],
    ['mean of all', (x) => tf.mean(x)],
    ['sum over N,H,W,C', (x) => tf.sum(x, [0, 1, 2, 3])],
  ];
  for (const [label, reduce] of reductions) {
    const run = (): { values: Float32Array; shape: number[] } =>
      tf.tidy(() => {
        const y = reduce(tf.tensor4d(randomValues(size(shape), 5), shape));
        return { values: y.dataSync() as Float32Array, shape: y.shape };
      });
    await tf.setBackend('wasm');
    const wasm = run();
    await tf.setBackend('cpu');
    const cpu = run();
    assert.deepEqual(wasm.shape, cpu.shape, label);
    assert.ok(relativeError(wasm.values, cpu.values) <= 1e-5, `${label}: ${relativeError(wasm.values, cpu.values)}`);
  }
  await tf.setBackend('wasm');
});

test('wasm Tile: block repetition (fast path) and general tilings (delegated) match cpu', async () => {
  await startWasmBackend();
  const tilings: [number[], number[]][] = [
    [
      [1, 1, 1, 5],
      [2, 3, 4, 1],
    ],
    [
      [1, 1, 2, 3],
      [3, 2, 1, 1],
    ],
    [
      [2, 3],
      [1, 3],
    ],
    [
      [2, 3],
      [3, 1],
    ],
    [
      [1, 4],
      [7, 1],
    ],
  ];
  for (const [shape, reps] of tilings) {
    const run = (): Float32Array => tf.tidy(() => tf.tile(tf.tensor(randomValues(size(shape), 9), shape), reps).dataSync() as Float32Array);
    await tf.setBackend('wasm');
    const wasm = run();
    await tf.setBackend('cpu');
    const cpu = run();
    assert.deepEqual(Array.from(wasm), Array.from(cpu), `tile ${shape} by ${reps}`);
  }
  await tf.setBackend('wasm');
});
