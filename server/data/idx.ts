/**
 * IDX files (MNIST, Fashion-MNIST), raw or gzip-compressed. Layout: two zero bytes, a type byte
 * (0x08 = unsigned byte, the only type image data sets use), the number of dimensions, then each
 * dimension as a big-endian uint32, then the data row-major. Images are idx3 (magic 0x00000803:
 * count × rows × cols), labels idx1 (0x00000801: count).
 */
import { basename, join } from 'node:path';
import type { Split } from './dataset';
import { DataError } from './errors';
import { firstExisting, isDirectory, readMaybeGzip } from './files';

export const IDX_IMAGES_MAGIC = 0x00000803;
export const IDX_LABELS_MAGIC = 0x00000801;

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

const TYPE_NAMES: Record<number, string> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'int16',
  0x0c: 'int32',
  0x0d: 'float32',
  0x0e: 'float64',
};

function hex(v: number): string {
  return '0x' + (v >>> 0).toString(16).padStart(8, '0');
}

function describeMagic(magic: number): string {
  if (magic === IDX_IMAGES_MAGIC) return ' (an IDX image file)';
  if (magic === IDX_LABELS_MAGIC) return ' (an IDX label file)';
  return '';
}

/** Parses an IDX buffer and checks its magic number and length. `limit` keeps the first items only. */
export function parseIdx(buf: Uint8Array, file: string, expectedMagic: number, limit?: number): IdxArray {
  const what = expectedMagic === IDX_IMAGES_MAGIC ? 'IDX images (idx3, unsigned bytes)' : 'IDX labels (idx1, unsigned bytes)';
  if (buf.length < 4) {
    throw new DataError(`${file}: truncated: only ${buf.length} bytes, not even an IDX header. Download the file again.`, file);
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const magic = view.getUint32(0, false);
  if (magic !== expectedMagic) {
    const type = buf[2];
    const hint =
      buf[0] === 0 && buf[1] === 0 && buf[2] === 0x08
        ? ' Check that the images and labels files are not swapped.'
        : buf[0] === 0 && buf[1] === 0 && TYPE_NAMES[type]
          ? ` It holds ${TYPE_NAMES[type]} values; only unsigned bytes are supported.`
          : ' This is not an IDX file (or a corrupt one); download it again.';
    throw new DataError(
      `${file}: wrong magic number ${hex(magic)}${describeMagic(magic)}, expected ${hex(expectedMagic)} for ${what}.${hint}`,
      file,
    );
  }
  const ndim = buf[3];
  const headerBytes = 4 + 4 * ndim;
  if (buf.length < headerBytes) {
    throw new DataError(
      `${file}: truncated inside the header (${buf.length} bytes, header needs ${headerBytes}). Download the file again.`,
      file,
    );
  }
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const itemBytes = dims.slice(1).reduce((a, b) => a * b, 1);
  const expected = dims[0] * itemBytes;
  const actual = buf.length - headerBytes;
  if (actual < expected) {
    const have = Math.floor(actual / Math.max(itemBytes, 1));
    throw new DataError(
      `${file}: truncated: the header declares ${dims[0]} items of ${dims.slice(1).join('×') || '1'} bytes ` +
        `(${expected} bytes of data) but only ${actual} bytes follow (${have} complete items). Download the file again.`,
      file,
    );
  }
  if (actual > expected) {
    throw new DataError(
      `${file}: ${actual - expected} bytes more than the header declares (${dims[0]} items); the file is corrupt or not ${what}. Download it again.`,
      file,
    );
  }
  const count = limit === undefined ? dims[0] : Math.min(limit, dims[0]);
  return {
    dims: [count, ...dims.slice(1)],
    data: buf.subarray(headerBytes, headerBytes + count * itemBytes),
  };
}

/**
 * The IDX file for `prefix-kind`: raw or .gz, with `-idx3-ubyte` or `.idx3-ubyte` spelling, inside
 * the folder `dir`, or, when `dir` is not a folder, named `dir` + file name (a file prefix such as
 * `data/fashion-` for `data/fashion-train-images-idx3-ubyte.gz`).
 */
function findIdxFile(dir: string, prefix: string, kind: 'images' | 'labels'): string {
  const suffix = kind === 'images' ? 'idx3-ubyte' : 'idx1-ubyte';
  const names = [`${prefix}-${kind}-${suffix}`, `${prefix}-${kind}.${suffix}`];
  const place = (n: string) => (isDirectory(dir) ? join(dir, n) : dir + n);
  const candidates = names.flatMap((n) => [place(n), place(n) + '.gz']);
  const found = firstExisting(candidates);
  if (!found) {
    throw new DataError(
      `${dir}: no ${prefix === 'train' ? 'training' : 'test'} ${kind} found; expected ${names[0]} or ${names[0]}.gz ` +
        (isDirectory(dir) ? '' : '(data.path is neither a folder nor a prefix of such files) ') +
        `(the MNIST / Fashion-MNIST file names). For Fashion-MNIST on Debian: apt install dataset-fashion-mnist and ` +
        `set data.path to /usr/share/datasets/fashion-mnist.`,
      dir,
    );
  }
  return found;
}

export interface LabelledImages {
  /** count × height × width × channels, HWC per image. */
  images: Uint8Array;
  labels: Int32Array;
  count: number;
  height: number;
  width: number;
  channels: number;
  /** Largest label + 1 over the whole file (before `limit`). */
  numClasses: number;
  files: string[];
}

/** Reads one split of an IDX data folder or file prefix (train-* or t10k-* files). */
export function loadIdxSplit(dir: string, split: Split, limit?: number): LabelledImages {
  const prefix = split === 'train' ? 'train' : 't10k';
  const imagesFile = findIdxFile(dir, prefix, 'images');
  const labelsFile = findIdxFile(dir, prefix, 'labels');
  const images = parseIdx(readMaybeGzip(imagesFile), imagesFile, IDX_IMAGES_MAGIC);
  const labels = parseIdx(readMaybeGzip(labelsFile), labelsFile, IDX_LABELS_MAGIC);
  if (images.dims.length !== 3) {
    throw new DataError(`${imagesFile}: expected 3 dimensions (count, rows, columns), found ${images.dims.length}.`, imagesFile);
  }
  if (images.dims[0] !== labels.dims[0]) {
    throw new DataError(
      `${basename(imagesFile)} holds ${images.dims[0]} images but ${basename(labelsFile)} holds ${labels.dims[0]} labels ` +
        `(in ${dir}). They must match: the files belong to different data sets or one is damaged.`,
      imagesFile,
    );
  }
  let maxLabel = 0;
  for (let i = 0; i < labels.data.length; i++) if (labels.data[i] > maxLabel) maxLabel = labels.data[i];
  const count = limit === undefined ? images.dims[0] : Math.min(limit, images.dims[0]);
  const [, height, width] = images.dims;
  const pixels = height * width;
  return {
    // A copy, so the (possibly 47 MB) decompressed buffer is not kept alive by a view.
    images: images.data.slice(0, count * pixels),
    labels: Int32Array.from(labels.data.subarray(0, count)),
    count,
    height,
    width,
    channels: 1,
    numClasses: maxLabel + 1,
    files: [imagesFile, labelsFile],
  };
}
