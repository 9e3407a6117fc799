// The backend ladder (server/backends/ladder.ts, docs/architecture.md) and the shared --backend/--threads options.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { BackendUnavailableError, describeBackend, initBackend } from '../../server/backends/ladder';
import { backendOptionsFromArgs, BackendArgsError } from '../../server/backends/options';

const installed = (name: string): boolean => {
  try {
    createRequire(__filename).resolve(name);
    return true;
  } catch {
    return false;
  }
};

test('backendOptionsFromArgs takes --backend/--threads in both spellings and leaves the rest in order', () => {
  const parsed = backendOptionsFromArgs(['cfg.tern.json', '--backend', 'wasm', '--epochs', '3', '--threads=2']);
  assert.deepEqual(parsed.options, { backend: 'wasm', threads: 2 });
  assert.deepEqual(parsed.rest, ['cfg.tern.json', '--epochs', '3']);
  assert.deepEqual(backendOptionsFromArgs([]).options, { backend: 'auto', threads: undefined });
  assert.throws(() => backendOptionsFromArgs(['--backend', 'gpu']), BackendArgsError);
  assert.throws(() => backendOptionsFromArgs(['--threads', '0']), BackendArgsError);
  assert.throws(() => backendOptionsFromArgs(['--threads']), BackendArgsError);
});

test(
  'a named backend that is not installed fails with what, why and what is available',
  { skip: installed('@tensorflow/tfjs-node') },
  async () => {
    await assert.rejects(initBackend({ backend: 'tensorflow' }), (err: unknown) => {
      assert.ok(err instanceof BackendUnavailableError);
      assert.match(err.message, /backend 'tensorflow' is not available/);
      assert.match(err.message, /@tensorflow\/tfjs-node is not installed/);
      assert.match(err.message, /Available here: .*wasm, cpu/);
      return true;
    });
  },
);

test('cpu starts on request and is described with its thread count', async () => {
  const info = await initBackend({ backend: 'cpu' });
  assert.equal(info.name, 'cpu');
  assert.equal(tf.getBackend(), 'cpu');
  assert.deepEqual(info.tried, [{ name: 'cpu' }]);
  assert.equal(describeBackend(), 'backend: cpu (1 thread)');
});

test('auto walks the ladder in order and stops at the first backend that starts', async () => {
  const info = await initBackend({ backend: 'auto', threads: 2 });
  const order = ['tensorflow-gpu', 'tensorflow', 'onednn', 'wasm', 'cpu'];
  assert.deepEqual(
    info.tried.map((t) => t.name),
    order.slice(0, info.tried.length),
  );
  assert.equal(info.tried.at(-1)?.name, info.name);
  assert.equal(info.tried.at(-1)?.error, undefined);
  for (const skipped of info.tried.slice(0, -1)) assert.ok(skipped.error && skipped.error.length > 0);
  assert.ok(['onednn', 'wasm'].includes(info.name) || info.name.startsWith('tensorflow'), `auto fell through to ${info.name}`);
});

test("wasm starts on request, single-threaded in Node, with the project's conv gradient kernel", async () => {
  const info = await initBackend({ backend: 'wasm', threads: 2 });
  // tfjs-backend-wasm runs single-threaded in Node whatever we ask for (see setupWasm.ts).
  assert.equal(tf.getBackend(), 'wasm');
  assert.equal(describeBackend(info), 'backend: wasm (simd, 1 thread)');
  // ∂/∂w Σ conv(ones 4×4, w 3×3, valid) = 4 for every tap (each tap sees 2×2 output positions).
  const grad = tf.grad((w: tf.Tensor) => tf.sum(tf.conv2d(tf.ones([1, 4, 4, 1]) as tf.Tensor4D, w as tf.Tensor4D, 1, 'valid')));
  assert.deepEqual(Array.from(grad(tf.ones([3, 3, 1, 1])).dataSync()), [4, 4, 4, 4, 4, 4, 4, 4, 4]);
});
