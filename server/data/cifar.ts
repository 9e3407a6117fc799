/**
 * CIFAR binary batches. CIFAR-10: `data_batch_1..5.bin` and `test_batch.bin`, records of 1 label
 * byte + 3072 pixel bytes (1024 red, 1024 green, 1024 blue, rows of 32). CIFAR-100: `train.bin`
 * and `test.bin`, records of 2 label bytes (coarse, fine) + 3072 pixel bytes; the fine label is used.
 * Pixels are converted from the files' CHW to HWC.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Split } from './dataset';
import { DataError } from './errors';
import { isDirectory, readMaybeGzip } from './files';
import type { LabelledImages } from './idx';

const PIXELS = 32 * 32;
const IMAGE_BYTES = 3 * PIXELS;

interface CifarVariant {
  format: 'cifar10-bin' | 'cifar100-bin';
  labelBytes: number;
  classes: number;
  trainFiles: string[];
  testFiles: string[];
  /** The folder name inside the official archive, tried when `data.path` points one level up. */
  archiveFolder: string;
  namesFile: string;
}

const CIFAR10: CifarVariant = {
  format: 'cifar10-bin',
  labelBytes: 1,
  classes: 10,
  trainFiles: [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`),
  testFiles: ['test_batch.bin'],
  archiveFolder: 'cifar-10-batches-bin',
  namesFile: 'batches.meta.txt',
};

const CIFAR100: CifarVariant = {
  format: 'cifar100-bin',
  labelBytes: 2,
  classes: 100,
  trainFiles: ['train.bin'],
  testFiles: ['test.bin'],
  archiveFolder: 'cifar-100-binary',
  namesFile: 'fine_label_names.txt',
};

function resolveFolder(dir: string, v: CifarVariant, files: string[]): string {
  const nested = join(dir, v.archiveFolder);
  if (!existsSync(join(dir, files[0])) && isDirectory(nested) && existsSync(join(nested, files[0]))) return nested;
  return dir;
}

function readClassNames(dir: string, v: CifarVariant): string[] | undefined {
  const file = join(dir, v.namesFile);
  if (!existsSync(file)) return undefined;
  const names = readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  return names.length === v.classes ? names : undefined;
}

/** Reads one split of a CIFAR-10 or CIFAR-100 binary folder. */
export function loadCifarSplit(
  dir: string,
  split: Split,
  format: 'cifar10-bin' | 'cifar100-bin',
  limit?: number,
): LabelledImages & { classNames?: string[] } {
  const v = format === 'cifar10-bin' ? CIFAR10 : CIFAR100;
  const names = split === 'train' ? v.trainFiles : v.testFiles;
  const folder = resolveFolder(dir, v, names);
  const missing = names.filter((n) => !existsSync(join(folder, n)));
  if (missing.length > 0) {
    const other = format === 'cifar10-bin' ? CIFAR100 : CIFAR10;
    const looksLikeOther = [...other.trainFiles, ...other.testFiles].some((n) => existsSync(join(folder, n)));
    throw new DataError(
      `${folder}: missing ${missing.join(', ')} (the ${format} ${split} files: ${names.join(', ')}). ` +
        (looksLikeOther
          ? `The folder holds ${other.format} files instead: set data.format to "${other.format}".`
          : `Download the binary version of CIFAR (${v.archiveFolder}) and point data.path at its folder.`),
      folder,
    );
  }
  const recordBytes = v.labelBytes + IMAGE_BYTES;
  const chunks: Uint8Array[] = [];
  const labelChunks: Int32Array[] = [];
  let count = 0;
  const wanted = limit ?? Infinity;
  for (const name of names) {
    if (count >= wanted) break;
    const file = join(folder, name);
    const buf = readMaybeGzip(file);
    if (buf.length === 0 || buf.length % recordBytes !== 0) {
      const otherBytes = format === 'cifar10-bin' ? IMAGE_BYTES + 2 : IMAGE_BYTES + 1;
      const hint =
        buf.length > 0 && buf.length % otherBytes === 0
          ? ` Its size fits ${otherBytes}-byte records: set data.format to "${format === 'cifar10-bin' ? 'cifar100-bin' : 'cifar10-bin'}".`
          : ' The file is truncated or not a CIFAR binary batch; download it again.';
      throw new DataError(
        `${file}: wrong CIFAR record size: ${buf.length} bytes is not a whole number of ${recordBytes}-byte records ` +
          `(${v.labelBytes} label byte${v.labelBytes > 1 ? 's' : ''} + 3072 pixel bytes).${hint}`,
        file,
      );
    }
    const records = Math.min(buf.length / recordBytes, wanted - count);
    const images = new Uint8Array(records * IMAGE_BYTES);
    const labels = new Int32Array(records);
    for (let r = 0; r < records; r++) {
      const rec = r * recordBytes;
      const label = buf[rec + v.labelBytes - 1];
      if (label >= v.classes) {
        throw new DataError(
          `${file}: record ${r} has label ${label}, outside 0..${v.classes - 1} for ${format}.` +
            (format === 'cifar10-bin'
              ? ' Is this CIFAR-100 data? Then set data.format to "cifar100-bin".'
              : ' The file is corrupt; download it again.'),
          file,
        );
      }
      labels[r] = label;
      const src = rec + v.labelBytes;
      const dst = r * IMAGE_BYTES;
      for (let p = 0; p < PIXELS; p++) {
        images[dst + p * 3] = buf[src + p];
        images[dst + p * 3 + 1] = buf[src + PIXELS + p];
        images[dst + p * 3 + 2] = buf[src + 2 * PIXELS + p];
      }
    }
    chunks.push(images);
    labelChunks.push(labels);
    count += records;
  }
  const images = new Uint8Array(count * IMAGE_BYTES);
  const labels = new Int32Array(count);
  let at = 0;
  for (let i = 0; i < chunks.length; i++) {
    images.set(chunks[i], at * IMAGE_BYTES);
    labels.set(labelChunks[i], at);
    at += labelChunks[i].length;
  }
  return {
    images,
    labels,
    count,
    height: 32,
    width: 32,
    channels: 3,
    numClasses: v.classes,
    classNames: readClassNames(folder, v),
    files: names.map((n) => join(folder, n)),
  };
}
