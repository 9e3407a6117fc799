import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Dataset } from '../../server/data/dataset';
import { openDataset } from '../../server/data/open';
import { DataError } from '../../server/data/errors';

/**
 * A CIFAR record whose pixel (channel c, row y, col x) in the file's CHW order is
 * (seed + 3·c + 7·y + 11·x) mod 256, so each HWC position has a known value.
 */
function record(labels: number[], seed: number): Buffer {
  const buf = Buffer.alloc(labels.length + 3072);
  labels.forEach((l, i) => (buf[i] = l));
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < 32; y++)
      for (let x = 0; x < 32; x++) buf[labels.length + c * 1024 + y * 32 + x] = (seed + 3 * c + 7 * y + 11 * x) % 256;
  return buf;
}

const pixel = (seed: number, y: number, x: number, c: number) => (seed + 3 * c + 7 * y + 11 * x) % 256;

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'tern-cifar-'));
}

/** CIFAR-10 folder: batch k holds 2 records with labels (2k, 2k+1) mod 10 and seeds 10k, 10k+1. */
function writeCifar10(dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (let k = 1; k <= 5; k++) {
    writeFileSync(
      join(dir, `data_batch_${k}.bin`),
      Buffer.concat([record([(2 * k) % 10], 10 * k), record([(2 * k + 1) % 10], 10 * k + 1)]),
    );
  }
  writeFileSync(join(dir, 'test_batch.bin'), Buffer.concat([record([7], 200), record([3], 201), record([9], 202)]));
  writeFileSync(join(dir, 'batches.meta.txt'), 'airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n');
}

async function first(ds: Dataset, batchSize = 100) {
  for await (const b of ds.batches({ batchSize, shuffle: false, seed: 0, epoch: 0 })) return b;
  throw new Error('no batch');
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

test('CIFAR-10: all five batches in order, CHW → HWC exactly, labels, class names', async () => {
  const dir = tempDir();
  try {
    writeCifar10(dir);
    const train = await openDataset({ format: 'cifar10-bin', path: dir, augment: [] }, 'train', '/');
    assert.equal(train.size, 10);
    assert.deepEqual(train.inputShape, [32, 32, 3]);
    assert.equal(train.numClasses, 10);
    assert.equal(train.classNames?.[9], 'truck');
    const b = await first(train);
    assert.deepEqual([...b.y], [2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    // Image 5 = batch 3, record 1, seed 31. HWC index of (y=4, x=9, c=2):
    const at = 5 * 3072 + (4 * 32 + 9) * 3 + 2;
    assert.ok(Math.abs(b.x[at] - pixel(31, 4, 9, 2) / 255) < 1e-6);
    for (const [y, x, c] of [
      [0, 0, 0],
      [31, 31, 1],
      [17, 3, 2],
    ]) {
      assert.ok(Math.abs(b.x[(y * 32 + x) * 3 + c] - pixel(10, y, x, c) / 255) < 1e-6);
    }
    const testSet = await openDataset({ format: 'cifar10-bin', path: dir, augment: ['crop32pad4', 'hflip'], limitTest: 2 }, 'test', '/');
    assert.equal(testSet.size, 2);
    const t = await first(testSet);
    assert.deepEqual([...t.y], [7, 3]);
    // Evaluation: crop32pad4 is the identity, hflip off.
    assert.ok(Math.abs(t.x[(5 * 32 + 6) * 3 + 1] - pixel(200, 5, 6, 1) / 255) < 1e-6);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('CIFAR-10: limitTrain reads only what it needs; the archive sub-folder is found', async () => {
  const dir = tempDir();
  try {
    writeCifar10(join(dir, 'cifar-10-batches-bin'));
    // Batches after the limit are never read: a broken data_batch_5 goes unnoticed.
    writeFileSync(join(dir, 'cifar-10-batches-bin', 'data_batch_5.bin'), Buffer.alloc(5));
    const ds = await openDataset({ format: 'cifar10-bin', path: dir, augment: [], limitTrain: 3 }, 'train', '/');
    assert.equal(ds.size, 3);
    assert.deepEqual([...(await first(ds)).y], [2, 3, 4]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('CIFAR-100: two label bytes, the fine label is used', async () => {
  const dir = tempDir();
  try {
    writeFileSync(join(dir, 'train.bin'), Buffer.concat([record([3, 87], 1), record([19, 42], 2)]));
    writeFileSync(join(dir, 'test.bin'), record([0, 99], 3));
    const ds = await openDataset({ format: 'cifar100-bin', path: dir, augment: [], normalize: 'cifar100' }, 'train', '/');
    assert.equal(ds.numClasses, 100);
    const b = await first(ds);
    assert.deepEqual([...b.y], [87, 42]);
    const mean = 124.1 / 255;
    const std = 65.4 / 255;
    assert.ok(Math.abs(b.x[3072 + (2 * 32 + 5) * 3 + 1] - (pixel(2, 2, 5, 1) / 255 - mean) / std) < 1e-5);
    assert.deepEqual([...(await first(await openDataset({ format: 'cifar100-bin', path: dir, augment: [] }, 'test', '/'))).y], [99]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('CIFAR bad data: wrong record size, missing files, wrong variant, label out of range', async () => {
  const dir = tempDir();
  const open = (format: 'cifar10-bin' | 'cifar100-bin' = 'cifar10-bin') => openDataset({ format, path: dir, augment: [] }, 'train', '/');
  try {
    await dataError(open(), /missing data_batch_1\.bin, data_batch_2\.bin, data_batch_3\.bin, data_batch_4\.bin, data_batch_5\.bin/);

    writeCifar10(dir);
    const bad = join(dir, 'data_batch_3.bin');
    writeFileSync(bad, record([1], 0).subarray(0, 3000));
    const err = await dataError(
      open(),
      /data_batch_3\.bin: wrong CIFAR record size: 3000 bytes is not a whole number of 3073-byte records/,
      /truncated/,
    );
    assert.equal(err.file, bad);

    // CIFAR-100 records handed to the CIFAR-10 reader: the size says so.
    writeFileSync(bad, Buffer.concat([record([1, 2], 0), record([1, 2], 0), record([1, 2], 0)]));
    await dataError(open(), /3074-byte records: set data.format to "cifar100-bin"/);

    writeFileSync(bad, record([12], 0));
    await dataError(open(), /record 0 has label 12, outside 0\.\.9/);

    await dataError(
      openDataset({ format: 'cifar10-bin', path: 'absent', augment: [] }, 'train', dir),
      /absent: data folder not found \(data\.path "absent", relative to /,
    );

    // CIFAR-10 files in a folder read as CIFAR-100.
    await dataError(open('cifar100-bin'), /missing train\.bin/, /holds cifar10-bin files instead/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
