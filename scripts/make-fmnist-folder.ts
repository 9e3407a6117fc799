/**
 * Writes Fashion-MNIST as an image folder of PNGs (docs/data.md, `image-folder`) from Debian's
 * dataset-fashion-mnist, for training the same data through the image-folder readers of both
 * engines (BENCHMARKS.md, "Fashion-MNIST image folder"):
 *
 *   node --import tsx scripts/make-fmnist-folder.ts --out DIR [--source DIR] [--limit-train N] [--limit-test M]
 *
 * DIR/train/<k>-<class>/NNNNN.png and DIR/test/<k>-<class>/NNNNN.png: 8-bit grayscale PNGs, one
 * class sub-folder per label (the k- prefix keeps the sorted class order equal to the labels),
 * NNNNN the example's index in the IDX file, so the folder's file order within a class is the IDX
 * file order. Prints one JSON line with the counts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PNG } from 'pngjs';
import { loadIdxSplit } from '../server/data/idx';
import type { Split } from '../server/data/dataset';

/** Fashion-MNIST's label names, in label order (Zalando's README), as folder-safe words. */
const CLASS_FOLDERS = ['tshirt-top', 'trouser', 'pullover', 'dress', 'coat', 'sandal', 'shirt', 'sneaker', 'bag', 'ankle-boot'].map(
  (name, k) => `${k}-${name}`,
);

const { values } = parseArgs({
  options: {
    source: { type: 'string', default: '/usr/share/datasets/fashion-mnist' },
    out: { type: 'string' },
    'limit-train': { type: 'string' },
    'limit-test': { type: 'string' },
  },
});
if (!values.out) {
  process.stderr.write('make-fmnist-folder: --out DIR is required (the folder to write train/ and test/ into).\n');
  process.exit(2);
}

function grayPng(pixels: Uint8Array, height: number, width: number): Buffer {
  const png = new PNG({ width, height, colorType: 0, inputColorType: 0, bitDepth: 8, inputHasAlpha: false });
  png.data = Buffer.from(pixels);
  return PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false });
}

function writeSplit(split: Split, folder: string, limit: number | undefined): number {
  const d = loadIdxSplit(values.source!, split, limit);
  for (const name of CLASS_FOLDERS) mkdirSync(join(values.out!, folder, name), { recursive: true });
  const size = d.height * d.width;
  for (let i = 0; i < d.labels.length; i++) {
    const file = join(values.out!, folder, CLASS_FOLDERS[d.labels[i]!]!, `${String(i).padStart(5, '0')}.png`);
    writeFileSync(file, grayPng(d.images.subarray(i * size, (i + 1) * size), d.height, d.width));
  }
  return d.labels.length;
}

const limit = (v: string | undefined) => (v === undefined ? undefined : Number(v));
const train = writeSplit('train', 'train', limit(values['limit-train']));
const test = writeSplit('test', 'test', limit(values['limit-test']));
process.stdout.write(JSON.stringify({ out: values.out, train, test, classes: CLASS_FOLDERS }) + '\n');
