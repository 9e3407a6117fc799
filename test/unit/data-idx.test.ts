import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { type Batch, type Dataset } from '../../server/data/dataset';
import { openDataset } from '../../server/data/open';
import { DataError } from '../../server/data/errors';
import { idxFile as idx } from '../shared/idx';

/** n images of 2×3 whose pixel p of image i is 10·i + p; labels i % 3. */
function writeSet(dir: string, prefix: 'train' | 't10k', n: number, gz: boolean): void {
  mkdirSync(dir, { recursive: true });
  const pixels: number[] = [];
  for (let i = 0; i < n; i++) for (let p = 0; p < 6; p++) pixels.push(10 * i + p);
  const labels = Array.from({ length: n }, (_, i) => i % 3);
  const z = (b: Buffer) => (gz ? gzipSync(b) : b);
  const ext = gz ? '.gz' : '';
  writeFileSync(join(dir, `${prefix}-images-idx3-ubyte${ext}`), z(idx(0x803, [n, 2, 3], pixels)));
  writeFileSync(join(dir, `${prefix}-labels-idx1-ubyte${ext}`), z(idx(0x801, [n], labels)));
}

async function all(ds: Dataset, opts: Partial<Parameters<Dataset['batches']>[0]> = {}): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of ds.batches({ batchSize: 4, shuffle: false, seed: 1, epoch: 0, ...opts })) out.push(b);
  return out;
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'tern-idx-'));
}

async function dataError(p: Promise<unknown>, ...patterns: RegExp[]): Promise<DataError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof DataError, `expected a DataError, got ${String(err)}`);
    for (const re of patterns) assert.match(err.message, re);
    return err;
  }
  assert.fail('expected a DataError');
}

for (const gz of [false, true]) {
  test(`IDX ${gz ? '.gz' : 'raw'}: shapes, exact pixel values, labels, batches, limit`, async () => {
    const dir = tempDir();
    try {
      writeSet(dir, 'train', 10, gz);
      writeSet(dir, 't10k', 5, gz);
      const train = await openDataset({ format: 'idx', path: dir, augment: [] }, 'train', '/');
      assert.equal(train.size, 10);
      assert.deepEqual(train.inputShape, [2, 3, 1]);
      assert.equal(train.numClasses, 3);
      const batches = await all(train);
      assert.deepEqual(
        batches.map((b) => b.n),
        [4, 4, 2],
      );
      assert.equal(batches[2].x.length, 2 * 6);
      // image 9 (last), pixel 5 → 95 / 255
      assert.ok(Math.abs(batches[2].x[11] - 95 / 255) < 1e-6);
      assert.ok(Math.abs(batches[0].x[6] - 10 / 255) < 1e-6);
      assert.deepEqual([...batches[1].y], [1, 2, 0, 1]);
      assert.deepEqual(
        (await all(train, { dropRemainder: true })).map((b) => b.n),
        [4, 4],
      );
      assert.equal(train.batchCount(4), 3);
      assert.equal(train.batchCount(4, true), 2);

      const test_ = await openDataset({ format: 'idx', path: dir, augment: [], limitTest: 3 }, 'test', '/');
      assert.equal(test_.size, 3);
      assert.deepEqual([...(await all(test_))[0].y], [0, 1, 2]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('IDX paths are relative to baseDir; limitTrain keeps the first N in file order', async () => {
  const base = tempDir();
  try {
    writeSet(join(base, 'data', 'fm'), 'train', 10, true);
    const ds = await openDataset({ format: 'idx', path: 'data/fm', augment: [], limitTrain: 5 }, 'train', base);
    assert.equal(ds.size, 5);
    const [b] = await all(ds, { batchSize: 5 });
    assert.deepEqual([...b.y], [0, 1, 2, 0, 1]);
    assert.ok(Math.abs(b.x[4 * 6] - 40 / 255) < 1e-6);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('IDX data.path may be a file prefix', async () => {
  const base = tempDir();
  try {
    writeSet(join(base, 'tmp'), 'train', 4, true);
    for (const kind of ['images-idx3', 'labels-idx1']) {
      writeFileSync(join(base, `fashion-train-${kind}-ubyte.gz`), readFileSync(join(base, 'tmp', `train-${kind}-ubyte.gz`)));
    }
    const ds = await openDataset({ format: 'idx', path: 'fashion-', augment: [] }, 'train', base);
    assert.equal(ds.size, 4);
    assert.deepEqual([...(await all(ds))[0].y], [0, 1, 2, 0]);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('IDX normalization: fmnist preset and explicit mean/std', async () => {
  const dir = tempDir();
  try {
    writeSet(dir, 'train', 2, false);
    const ds = await openDataset({ format: 'idx', path: dir, augment: [], normalize: 'fmnist' }, 'train', '/');
    const [b] = await all(ds);
    // pixel 13 (image 1, p 3): (13/255 − 0.2860) / 0.3530
    assert.ok(Math.abs(b.x[9] - (13 / 255 - 0.286) / 0.353) < 1e-5);
    const ex = await openDataset({ format: 'idx', path: dir, augment: [], normalize: { mean: [0.5], std: [0.25] } }, 'train', '/');
    const [c] = await all(ex);
    assert.ok(Math.abs(c.x[0] - (0 - 0.5) / 0.25) < 1e-6);
    await dataError(
      openDataset({ format: 'idx', path: dir, augment: [], normalize: 'cifar10' }, 'train', '/'),
      /3 mean and 3 std values, but the images have 1 channel/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('IDX bad data: wrong magic, swapped files, truncated, extra bytes, count mismatch, missing, corrupt gzip', async () => {
  const dir = tempDir();
  const open = () => openDataset({ format: 'idx', path: dir, augment: [] }, 'train', '/');
  const images = join(dir, 'train-images-idx3-ubyte');
  const labels = join(dir, 'train-labels-idx1-ubyte');
  try {
    // Missing files.
    await dataError(
      open(),
      /no training images found; expected train-images-idx3-ubyte or train-images-idx3-ubyte\.gz/,
      /dataset-fashion-mnist/,
    );

    // Wrong magic (not an IDX file at all).
    writeSet(dir, 'train', 3, false);
    writeFileSync(images, Buffer.from('<html>404 not found</html>'));
    let err = await dataError(open(), /train-images-idx3-ubyte: wrong magic number 0x3c68746d, expected 0x00000803/, /not an IDX file/);
    assert.equal(err.file, images);

    // Images and labels swapped.
    writeSet(dir, 'train', 3, false);
    writeFileSync(images, idx(0x801, [3], [0, 1, 2]));
    await dataError(open(), /wrong magic number 0x00000801 \(an IDX label file\), expected 0x00000803/, /swapped/);

    // Truncated: header promises 3 images of 2×3 (18 bytes), 10 present.
    writeSet(dir, 'train', 3, false);
    writeFileSync(images, idx(0x803, [3, 2, 3], new Uint8Array(10)));
    err = await dataError(
      open(),
      /truncated: the header declares 3 items of 2×3 bytes \(18 bytes of data\) but only 10 bytes follow \(1 complete items\)/,
    );
    assert.equal(err.file, images);

    // Truncated inside the header.
    writeFileSync(images, Buffer.from([0, 0, 8, 3, 0, 0]));
    await dataError(open(), /truncated inside the header/);

    // Extra bytes.
    writeFileSync(images, idx(0x803, [3, 2, 3], new Uint8Array(19)));
    await dataError(open(), /1 bytes more than the header declares/);

    // Count mismatch.
    writeSet(dir, 'train', 3, false);
    writeFileSync(labels, idx(0x801, [2], [0, 1]));
    await dataError(open(), /train-images-idx3-ubyte holds 3 images but train-labels-idx1-ubyte holds 2 labels/);

    // Corrupt gzip (truncated .gz).
    rmSync(images);
    writeSet(dir, 'train', 3, false);
    rmSync(images);
    const gz = gzipSync(idx(0x803, [3, 2, 3], new Uint8Array(18)));
    writeFileSync(images + '.gz', gz.subarray(0, gz.length - 8));
    await dataError(open(), /train-images-idx3-ubyte\.gz: the gzip data is corrupt or truncated/);

    // A path that is neither a folder nor a file prefix.
    await dataError(
      openDataset({ format: 'idx', path: 'nope', augment: [] }, 'train', dir),
      /nope: no training images found.*neither a folder nor a prefix/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
