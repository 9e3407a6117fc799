/**
 * IDX files as Fashion-MNIST ships them (server/data/idx.ts reads them), for the tests that build
 * small datasets of their own.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Magic numbers of unsigned-byte IDX files: labels (1 dimension) and images (3 dimensions). */
export const IDX_LABELS = 0x801;
export const IDX_IMAGES = 0x803;

/** An IDX file: the magic number, each dimension as a big-endian uint32, then the payload bytes. */
export function idxFile(magic: number, dims: number[], payload: Uint8Array | readonly number[]): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(payload)]);
}

/**
 * Writes one split into `dir`: `<prefix>-images-idx3-ubyte` (labels.length images of
 * height×width bytes) and `<prefix>-labels-idx1-ubyte`.
 */
export function writeIdxSplit(
  dir: string,
  prefix: string,
  images: Uint8Array,
  labels: Uint8Array | readonly number[],
  height: number,
  width = height,
): void {
  writeFileSync(join(dir, `${prefix}-images-idx3-ubyte`), idxFile(IDX_IMAGES, [labels.length, height, width], images));
  writeFileSync(join(dir, `${prefix}-labels-idx1-ubyte`), idxFile(IDX_LABELS, [labels.length], labels));
}

/**
 * A two-class 6×6 data set a CNN learns in one epoch (class 0: left half bright, class 1: right
 * half), 32 training and 16 test images, written into `dir` as IDX files.
 */
export function writeTwoClassIdx(dir: string): void {
  for (const [prefix, count] of [
    ['train', 32],
    ['t10k', 16],
  ] as const) {
    const images = new Uint8Array(count * 36);
    const labels = new Uint8Array(count);
    for (let n = 0; n < count; n++) {
      labels[n] = n % 2;
      for (let p = 0; p < 36; p++) images[n * 36 + p] = p % 6 < 3 === (n % 2 === 0) ? 200 : 20;
    }
    writeIdxSplit(dir, prefix, images, labels, 6);
  }
}
