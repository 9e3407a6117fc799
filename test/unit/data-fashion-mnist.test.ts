import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Batch, type Dataset } from '../../server/data/dataset';
import { openDataset } from '../../server/data/open';

const DEBIAN = '/usr/share/datasets/fashion-mnist';
const SUBSET = join(__dirname, '..', '..', 'examples', 'data', 'fashion-mnist-subset');
const debianMissing = existsSync(join(DEBIAN, 'train-images-idx3-ubyte.gz'))
  ? false
  : `Debian's Fashion-MNIST is not installed (${DEBIAN}); apt-get install dataset-fashion-mnist to run this test`;

async function everything(ds: Dataset): Promise<{ x: Uint8Array; y: Int32Array }> {
  const pixels = ds.inputShape[0] * ds.inputShape[1] * ds.inputShape[2];
  const x = new Uint8Array(ds.size * pixels);
  const y = new Int32Array(ds.size);
  let at = 0;
  for await (const b of ds.batches({ batchSize: 1000, shuffle: false, seed: 0, epoch: 0 }) as AsyncIterable<Batch>) {
    for (let i = 0; i < b.x.length; i++) x[at * pixels + i] = Math.round(b.x[i] * 255);
    y.set(b.y, at);
    at += b.n;
  }
  return { x, y };
}

test('real Fashion-MNIST (Debian): 60000 / 10000 examples, first labels, first image', { skip: debianMissing }, async (t) => {
  const t0 = performance.now();
  const train = await openDataset({ format: 'idx', path: DEBIAN, augment: [] }, 'train', '/');
  const openMs = performance.now() - t0;
  const test_ = await openDataset({ format: 'idx', path: DEBIAN, augment: [] }, 'test', '/');
  assert.equal(train.size, 60000);
  assert.equal(test_.size, 10000);
  assert.deepEqual(train.inputShape, [28, 28, 1]);
  assert.equal(train.numClasses, 10);
  const [first] = await firstBatch(train, 10);
  assert.deepEqual([...first.y], [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]);
  // First image: pixel sum 76247, centre pixel (14, 14) = 217 (read with Python's gzip module).
  let sum = 0;
  for (let i = 0; i < 784; i++) sum += Math.round(first.x[i] * 255);
  assert.equal(sum, 76247);
  assert.equal(Math.round(first.x[14 * 28 + 14] * 255), 217);
  const [tb] = await firstBatch(test_, 10);
  assert.deepEqual([...tb.y], [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]);
  t.diagnostic(`opened 60000 Fashion-MNIST training images (.gz) in ${openMs.toFixed(0)} ms`);
});

async function firstBatch(ds: Dataset, batchSize: number): Promise<Batch[]> {
  for await (const b of ds.batches({ batchSize, shuffle: false, seed: 0, epoch: 0 })) return [b];
  throw new Error('empty');
}

test('embedded subset: 6000 / 1000 examples, 600 / 100 per class', async () => {
  const train = await openDataset({ format: 'idx', path: SUBSET, augment: [], normalize: 'fmnist' }, 'train', '/');
  const test_ = await openDataset({ format: 'idx', path: SUBSET, augment: [], normalize: 'fmnist' }, 'test', '/');
  assert.equal(train.size, 6000);
  assert.equal(test_.size, 1000);
  for (const [ds, per] of [
    [train, 600],
    [test_, 100],
  ] as const) {
    const { y } = await everything(await openDataset({ format: 'idx', path: SUBSET, augment: [] }, ds.split, '/'));
    const counts = new Array(10).fill(0);
    for (const l of y) counts[l]++;
    assert.deepEqual(counts, new Array(10).fill(per));
  }
});

test(
  'embedded subset = the first 600 / 100 examples of each class of the Debian files, in file order',
  { skip: debianMissing },
  async () => {
    for (const [split, per] of [
      ['train', 600],
      ['test', 100],
    ] as const) {
      const full = await everything(await openDataset({ format: 'idx', path: DEBIAN, augment: [] }, split, '/'));
      const sub = await everything(await openDataset({ format: 'idx', path: SUBSET, augment: [] }, split, '/'));
      const taken = new Array(10).fill(0);
      const chosen: number[] = [];
      full.y.forEach((l, i) => {
        if (taken[l] < per) {
          taken[l]++;
          chosen.push(i);
        }
      });
      assert.equal(chosen.length, sub.y.length);
      const expectedX = new Uint8Array(chosen.length * 784);
      chosen.forEach((src, k) => expectedX.set(full.x.subarray(src * 784, (src + 1) * 784), k * 784));
      assert.deepEqual(
        [...sub.y],
        chosen.map((src) => full.y[src]),
      );
      assert.ok(Buffer.from(sub.x).equals(Buffer.from(expectedX)), `${split}: subset images differ from the Debian originals`);
    }
  },
);
