import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import type { DataConfig } from '../../shared/experimentConfig';
import { type Batch, type Dataset } from '../../server/data/dataset';
import { openDataset } from '../../server/data/open';
import { DataError } from '../../server/data/errors';
import { imageFolderSource, listImageFolder } from '../../server/data/imageFolder';

type Rgba = [number, number, number, number];

/** A PNG of one colour; `colorType` 0 = gray, 2 = RGB, 6 = RGBA. */
function png(width: number, height: number, rgba: Rgba, colorType: 0 | 2 | 6 = 2): Buffer {
  const p = new PNG({ width, height });
  for (let i = 0; i < width * height; i++) p.data.set(rgba, i * 4);
  return PNG.sync.write(p, { colorType });
}

/** A PNG whose pixel (y, x) is (10y + x, 100 + 10y + x, 200 − x). */
function gradientPng(width: number, height: number): Buffer {
  const p = new PNG({ width, height });
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) p.data.set([10 * y + x, 100 + 10 * y + x, 200 - x, 255], (y * width + x) * 4);
  return PNG.sync.write(p, { colorType: 2 });
}

function jpg(width: number, height: number, rgb: [number, number, number]): Buffer {
  const data = Buffer.alloc(width * height * 4);
  for (let i = 0; i < width * height; i++) data.set([...rgb, 255], i * 4);
  return jpeg.encode({ width, height, data }, 100).data;
}

function put(root: string, rel: string, bytes: Buffer): string {
  const file = join(root, rel);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, bytes);
  return file;
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'tern-imgs-'));
}

const cfg = (path: string, extra: Partial<DataConfig> = {}): DataConfig => ({ format: 'image-folder', path, augment: [], ...extra });

async function all(ds: Dataset, batchSize = 64): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of ds.batches({ batchSize, shuffle: false, seed: 1, epoch: 0 })) out.push(b);
  return out;
}

/** Pixel (y, x, c) of image i of a batch, back in 0..255 (no normalization). */
const px = (b: Batch, shape: number[], i: number, y: number, x: number, c: number) =>
  b.x[i * shape[0] * shape[1] * 3 + (y * shape[1] + x) * 3 + c] * 255;

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

test('image folders: sorted classes, exact PNG pixels, gray and alpha to RGB, JPEG, val/ split', async () => {
  const root = tempDir();
  try {
    put(root, 'train/cat/b.png', png(4, 4, [10, 20, 30, 255]));
    put(root, 'train/cat/a.png', gradientPng(4, 4));
    put(root, 'train/ant/x.PNG', png(4, 4, [77, 77, 77, 255], 0));
    put(root, 'train/bee/1.jpg', jpg(4, 4, [200, 40, 90]));
    put(root, 'train/bee/2.png', png(4, 4, [5, 6, 7, 0], 6)); // fully transparent: alpha dropped, colour kept
    put(root, 'train/bee/notes.txt', Buffer.from('ignored'));
    put(root, 'val/cat/c.jpeg', jpg(4, 4, [0, 255, 0]));
    const train = await openDataset(cfg(root, { imageSize: [4, 4] }), 'train', '/');
    assert.deepEqual(train.classNames, ['ant', 'bee', 'cat']);
    assert.equal(train.numClasses, 3);
    assert.equal(train.size, 5);
    assert.deepEqual(train.inputShape, [4, 4, 3]);
    const [b] = await all(train);
    const s = [4, 4];
    assert.deepEqual([...b.y], [0, 1, 1, 2, 2]);
    // ant/x.PNG (gray 77) → 77 in every channel.
    for (let c = 0; c < 3; c++) assert.ok(Math.abs(px(b, s, 0, 2, 3, c) - 77) < 1e-3);
    // bee/1.jpg ≈ (200, 40, 90) (JPEG is lossy).
    [200, 40, 90].forEach((v, c) => assert.ok(Math.abs(px(b, s, 1, 1, 1, c) - v) <= 3, `jpeg channel ${c}: ${px(b, s, 1, 1, 1, c)}`));
    // bee/2.png: RGB of a transparent pixel.
    [5, 6, 7].forEach((v, c) => assert.ok(Math.abs(px(b, s, 2, 0, 0, c) - v) < 1e-3));
    // cat/a.png (sorted before b.png): pixel (2, 3) = (23, 123, 197).
    [23, 123, 197].forEach((v, c) => assert.ok(Math.abs(px(b, s, 3, 2, 3, c) - v) < 1e-3));
    [10, 20, 30].forEach((v, c) => assert.ok(Math.abs(px(b, s, 4, 3, 3, c) - v) < 1e-3));

    const val = await openDataset(cfg(root, { imageSize: [4, 4] }), 'test', '/');
    assert.deepEqual(val.classNames, ['ant', 'bee', 'cat']);
    assert.equal(val.size, 1);
    assert.deepEqual([...(await all(val))[0].y], [2]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('image folders are streamed: opening decodes nothing, a batch decodes only its own files', async () => {
  const root = tempDir();
  try {
    for (let i = 0; i < 10; i++) put(root, `train/${i % 2 ? 'odd' : 'even'}/${i}.png`, png(3, 3, [i, i, i, 255]));
    // One file that cannot be decoded: only a batch that contains it may fail.
    const corrupt = put(root, 'train/odd/9.png', Buffer.from('not a png'));
    const listing = listImageFolder(root, 'train');
    const source = imageFolderSource(listing);
    const bad = listing.files.indexOf(corrupt);
    const good = listing.files
      .map((_, i) => i)
      .filter((i) => i !== bad)
      .slice(0, 4);
    assert.equal((await source.load(Int32Array.from(good))).length, 4, 'a batch without the corrupt file decodes');
    await assert.rejects(async () => source.load(Int32Array.from([bad])), /9\.png/);

    const ds = await openDataset(cfg(root, { imageSize: [3, 3] }), 'train', '/');
    assert.equal(ds.size, 10, 'opening reads the listing, not the images');
    const served: number[] = [];
    await assert.rejects(async () => {
      for await (const b of ds.batches({ batchSize: 4, shuffle: true, seed: 2, epoch: 0 })) served.push(b.n);
    }, /9\.png/);
    assert.ok(served.every((n) => n === 4) && served.length < 3, `batches before the corrupt one are served whole: ${served.join(', ')}`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('image folders keep decoded images up to the budget: a kept image is not read again, the others are', async () => {
  const root = tempDir();
  try {
    for (let i = 0; i < 4; i++) put(root, `train/c/${i}.png`, png(3, 2, [i, 2 * i, 3 * i, 255]));
    const listing = listImageFolder(root, 'train');
    // 3×2 RGB = 18 bytes an image: a budget of 40 keeps the first two decoded.
    const source = imageFolderSource(listing, { cacheBytes: 40 });
    const first = await source.load(Int32Array.from([0, 1, 2, 3]));
    for (const file of listing.files) rmSync(file);
    const again = await source.load(Int32Array.from([1, 0]));
    assert.deepEqual(
      again.map((img) => [...img.data]),
      [first[1], first[0]].map((img) => [...img.data]),
      'the kept images, unchanged, without their files',
    );
    assert.deepEqual([...again[0].data.subarray(0, 3)], [1, 2, 3]);
    await assert.rejects(async () => source.load(Int32Array.from([2])), /2\.png/, 'past the budget: read again');
    await assert.rejects(async () => imageFolderSource(listing, { cacheBytes: 0 }).load(Int32Array.from([0])), /0\.png/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('image folders: resize to imageSize, size from the first image, rrc pipeline, test/ split, balanced limit', async () => {
  const root = tempDir();
  try {
    put(root, 'train/a/1.png', gradientPng(6, 8)); // 8 rows × 6 columns
    put(root, 'train/a/2.png', gradientPng(3, 5));
    put(root, 'train/a/3.png', gradientPng(3, 5));
    put(root, 'train/b/1.png', gradientPng(10, 10));
    put(root, 'train/c/1.png', gradientPng(7, 7));
    put(root, 'test/b/9.png', gradientPng(2, 2));
    const sized = await openDataset(cfg(root, { imageSize: [4, 5] }), 'train', '/');
    assert.deepEqual(sized.inputShape, [4, 5, 3]);
    for (const b of await all(sized)) assert.equal(b.x.length, b.n * 4 * 5 * 3);
    const natural = await openDataset(cfg(root), 'train', '/');
    assert.deepEqual(natural.inputShape, [8, 6, 3]);
    const rrc = await openDataset(cfg(root, { augment: ['rrc4', 'hflip'], normalize: 'imagenet' }), 'train', '/');
    assert.deepEqual(rrc.inputShape, [4, 4, 3]);
    for await (const b of rrc.batches({ batchSize: 2, shuffle: true, seed: 1, epoch: 3 })) assert.equal(b.x.length, b.n * 48);
    const evalSet = await openDataset(cfg(root, { augment: ['rrc4', 'hflip'] }), 'test', '/');
    assert.equal(evalSet.source, join(root, 'test'));
    assert.equal((await all(evalSet))[0].x.length, 48);
    // limit 4 over classes a (3 files), b (1), c (1): round-robin takes a1, b1, c1, a2.
    const limited = await openDataset(cfg(root, { imageSize: [2, 2], limitTrain: 4 }), 'train', '/');
    assert.deepEqual([...(await all(limited))[0].y], [0, 0, 1, 2]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('image folder bad data: empty class, corrupt image, not an image, missing folders, unknown class, size clash', async () => {
  const root = tempDir();
  const open = (split: 'train' | 'test' = 'train', extra: Partial<DataConfig> = {}) =>
    openDataset(cfg(root, { imageSize: [4, 4], ...extra }), split, '/');
  const firstBatch = async (ds: Dataset) => {
    for await (const b of ds.batches({ batchSize: 8, shuffle: false, seed: 0, epoch: 0 })) return b;
  };
  try {
    await dataError(open(), /no train\/ folder/);
    put(root, 'train/dog/1.png', png(4, 4, [1, 2, 3, 255]));
    mkdirSync(join(root, 'train', 'cat'));
    put(root, 'train/cat/readme.txt', Buffer.from('no images here'));
    const err = await dataError(
      open(),
      /train\/cat: empty class folder: no \.png, \.jpg or \.jpeg files/,
      /Add images of class "cat" or remove the folder/,
    );
    assert.equal(err.file, join(root, 'train', 'cat'));

    const corrupt = put(root, 'train/cat/broken.png', png(4, 4, [9, 9, 9, 255]).subarray(0, 40));
    const ds = await open();
    const e2 = await dataError(firstBatch(ds), /broken\.png: unreadable image: .*corrupt or truncated; replace or remove it/);
    assert.equal(e2.file, corrupt);

    writeFileSync(corrupt, Buffer.from('GIF89a...'));
    await dataError(firstBatch(await open()), /broken\.png: unreadable image: not a PNG or JPEG file \(it starts with bytes 47 49 46 38\)/);

    const badJpeg = jpg(4, 4, [1, 2, 3]);
    writeFileSync(corrupt, badJpeg.subarray(0, 30));
    await dataError(firstBatch(await open()), /broken\.png: unreadable image/);
    rmSync(corrupt);

    await dataError(open('test'), /no val\/ or test\/ folder/);
    put(root, 'val/wolf/1.png', png(4, 4, [1, 2, 3, 255]));
    await dataError(open('test'), /class folder\(s\) "wolf" do not exist in .*train/);

    put(root, 'train/cat/1.png', png(4, 4, [1, 2, 3, 255]));
    await dataError(
      open('train', { augment: ['rrc8'] }),
      /data\.imageSize \[4, 4\] disagrees with data\.augment, which produces 8×8 images/,
    );
    await dataError(openDataset(cfg(join(root, 'nowhere')), 'train', '/'), /nowhere: data folder not found/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
