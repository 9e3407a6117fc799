// The onednn backend recycles kernel outputs (server/backends/onednn/bufferPool.ts). Recycling
// must never let one tensor's values change under another: views, reads kept after dispose and
// the cap on unused memory are checked here, the pool on its own and through the backend.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { BufferPool, POOL_MIN_BYTES } from '../../server/backends/onednn/bufferPool';
import { addonLoadError, ONEDNN_BACKEND, registerOnednnBackend } from '../../server/backends/onednn';
import { loadAddon } from '../../server/backends/onednn/addon';
import { outputPool } from '../../server/backends/onednn/util';

const BIG = (POOL_MIN_BYTES / 4) * 2; // floats: comfortably above the pooling threshold

test('a released array is handed out again for the same length, small ones are never pooled', () => {
  const pool = new BufferPool(1 << 30);
  const a = pool.take(BIG);
  pool.noteHolder(a);
  pool.release(a);
  assert.equal(pool.unusedBytes, BIG * 4);
  assert.equal(pool.take(BIG), a);
  assert.equal(pool.unusedBytes, 0);
  assert.notEqual(pool.take(BIG), a, 'a taken array is not handed out twice');
  const small = pool.take(16);
  pool.noteHolder(small);
  pool.release(small);
  assert.equal(pool.unusedBytes, 0);
  assert.equal(pool.owns(new Float32Array(BIG)), false, 'arrays the pool did not make are never recycled');
});

test('a buffer that a second holder (a view) referenced is never recycled', () => {
  const pool = new BufferPool(1 << 30);
  const a = pool.take(BIG);
  pool.noteHolder(a);
  pool.noteHolder(a.subarray(10, 20));
  pool.release(a);
  assert.equal(pool.unusedBytes, 0);
  assert.notEqual(pool.take(BIG), a);
});

test('the pool keeps at most maxFreeBytes unused', () => {
  const pool = new BufferPool(BIG * 4 * 2);
  const arrays = [pool.take(BIG), pool.take(BIG), pool.take(BIG)];
  for (const a of arrays) {
    pool.noteHolder(a);
    pool.release(a);
  }
  assert.equal(pool.unusedBytes, BIG * 4 * 2);
});

const skip = loadAddon() ? false : `oneDNN addon not available: ${addonLoadError()}`;
before(async () => {
  if (!skip) assert.ok(await registerOnednnBackend(2));
});

test('through the backend: a slice view and a dataSync result outlive their source intact', { skip }, async () => {
  await tf.setBackend(ONEDNN_BACKEND);
  const shape = [4, BIG / 4];
  const source = tf.add(tf.ones(shape), tf.ones(shape)); // an addon kernel output: pooled
  const view = tf.slice(source, [0, 0], [1, shape[1]!]); // contiguous: a subarray of source's buffer
  const read = source.dataSync();
  source.dispose();
  // Kernels of the same size now run; if source's buffer were recycled they would overwrite it.
  const others = [tf.mul(tf.ones(shape), 7), tf.mul(tf.ones(shape), 9)];
  assert.ok(
    view.dataSync().every((v) => v === 2),
    'the view still reads 2',
  );
  assert.ok(
    read.every((v) => v === 2),
    'the array read before dispose still reads 2',
  );
  tf.dispose([view, ...others]);
});

test('through the backend: disposed outputs are reused and reads are copies', { skip }, async () => {
  await tf.setBackend(ONEDNN_BACKEND);
  const shape = [BIG];
  const a = tf.mul(tf.ones(shape), 3);
  const before = outputPool.unusedBytes;
  assert.notEqual(a.dataSync(), a.dataSync(), 'each read is its own copy');
  a.dispose();
  assert.ok(outputPool.unusedBytes >= before + BIG * 4, 'the disposed output went back to the pool');
  const b = tf.mul(tf.ones(shape), 5);
  assert.ok(b.dataSync().every((v) => v === 5));
  b.dispose();
});
