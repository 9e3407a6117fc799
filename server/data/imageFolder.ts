/**
 * Image folders, the layout ImageNet users have:
 *
 *   <root>/train/<class>/*.png|jpg|jpeg
 *   <root>/val/<class>/…   (or <root>/test/<class>/…)
 *
 * Classes are the sub-folders of train/, sorted by name (code-point order, the same on every
 * machine). Images are read and decoded batch by batch (the next batch's files are read ahead), so
 * sets larger than memory work; decoded images are kept up to a memory budget (DECODED_CACHE_BYTES),
 * so a small set is decoded once rather than every epoch.
 */
import { readdirSync, statSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import type { Split } from './dataset';
import { decodeImage } from './decode';
import { DataError } from './errors';
import { isDirectory, readFileAsync } from './files';
import { resizeBilinear, type Image } from './resize';
import type { ImageSource } from './batcher';

const IMAGE_EXTENSIONS = /\.(png|jpe?g)$/i;

export interface ImageFolderListing {
  /** The split's folder (…/train, …/val or …/test). */
  dir: string;
  classNames: string[];
  files: string[];
  labels: Int32Array;
}

function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function entries(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    throw new DataError(`${dir}: cannot list the folder (${(err as Error).message}).`, dir);
  }
}

function isDir(parent: string, e: Dirent): boolean {
  return e.isDirectory() || (e.isSymbolicLink() && isDirectory(join(parent, e.name)));
}

function isFile(parent: string, e: Dirent): boolean {
  if (e.isFile()) return true;
  if (!e.isSymbolicLink()) return false;
  try {
    return statSync(join(parent, e.name)).isFile();
  } catch {
    return false;
  }
}

function classFolders(dir: string): string[] {
  return entries(dir)
    .filter((e) => isDir(dir, e) && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort(byCodePoint);
}

/** The folder of a split: train/ for training, val/ (or test/) for evaluation. */
export function splitFolder(root: string, split: Split): string {
  if (!isDirectory(root)) {
    throw new DataError(
      `${root}: data folder not found. Set data.path to a folder holding train/<class>/ and val/<class>/ sub-folders.`,
      root,
    );
  }
  const names = split === 'train' ? ['train'] : ['val', 'test'];
  for (const n of names) if (isDirectory(join(root, n))) return join(root, n);
  throw new DataError(
    `${root}: no ${names.join('/ or ')}/ folder. An image-folder data set needs ${root}/train/<class>/*.png|jpg ` +
      `and ${root}/val/<class>/… (or test/) for evaluation.`,
    root,
  );
}

/**
 * Lists the images of a split. `limit` keeps a class-balanced subset: the first files of each
 * class in turn (taking the first N files would otherwise drop whole classes).
 */
export function listImageFolder(root: string, split: Split, limit?: number): ImageFolderListing {
  const dir = splitFolder(root, split);
  const trainDir = isDirectory(join(root, 'train')) ? join(root, 'train') : dir;
  const classNames = classFolders(trainDir);
  if (classNames.length === 0) {
    throw new DataError(
      `${trainDir}: no class folders. Put each class's images in a sub-folder named after the class, e.g. ${trainDir}/cat/001.jpg.`,
      trainDir,
    );
  }
  const present = classFolders(dir);
  const unknown = present.filter((c) => !classNames.includes(c));
  if (unknown.length > 0) {
    throw new DataError(
      `${dir}: class folder(s) ${unknown.map((c) => `"${c}"`).join(', ')} do not exist in ${trainDir}. ` +
        `Evaluation classes must be training classes; rename or remove them.`,
      join(dir, unknown[0]),
    );
  }
  const perClass: string[][] = [];
  for (const name of classNames) {
    const classDir = join(dir, name);
    if (!present.includes(name)) {
      perClass.push([]);
      continue;
    }
    const files = entries(classDir)
      .filter((e) => isFile(classDir, e) && IMAGE_EXTENSIONS.test(e.name) && !e.name.startsWith('.'))
      .map((e) => e.name)
      .sort(byCodePoint)
      .map((f) => join(classDir, f));
    if (files.length === 0) {
      throw new DataError(
        `${classDir}: empty class folder: no .png, .jpg or .jpeg files. Add images of class "${name}" or remove the folder.`,
        classDir,
      );
    }
    perClass.push(files);
  }
  const total = perClass.reduce((a, f) => a + f.length, 0);
  if (total === 0) throw new DataError(`${dir}: no images found in the class folders.`, dir);
  const keep = perClass.map(() => 0);
  if (limit === undefined || limit >= total) perClass.forEach((f, k) => (keep[k] = f.length));
  else {
    // Round-robin over classes until `limit` files are taken.
    let taken = 0;
    while (taken < limit) {
      for (let k = 0; k < perClass.length && taken < limit; k++) {
        if (keep[k] < perClass[k].length) {
          keep[k]++;
          taken++;
        }
      }
    }
  }
  const files: string[] = [];
  const labels: number[] = [];
  perClass.forEach((f, k) => {
    for (let i = 0; i < keep[k]; i++) {
      files.push(f[i]);
      labels.push(k);
    }
  });
  return { dir, classNames, files, labels: Int32Array.from(labels) };
}

/**
 * Bytes of decoded images one split keeps in memory (docs/data.md): a set that fits — Fashion-MNIST's
 * 60 000 28×28 RGB images are 141 MB, CIFAR's 50 000 32×32 154 MB — is decoded once, in its first
 * epoch, instead of every epoch; the images past the budget are read and decoded batch by batch.
 */
export const DECODED_CACHE_BYTES = 256 * 2 ** 20;

export interface ImageFolderSourceOptions {
  /** Resize every decoded image to this [height, width] before the augmentations (no size-fixing op). */
  resizeTo?: [number, number];
  /** Bytes of decoded images to keep (default DECODED_CACHE_BYTES; 0 keeps none). */
  cacheBytes?: number;
}

/**
 * A streamed source: reads and decodes only the files of the requested batch, and keeps decoded
 * images (after `resizeTo`) while they fit in `cacheBytes`. The transforms copy, never write into,
 * the image they get (server/data/augment.ts), so a kept image serves every epoch unchanged.
 */
export function imageFolderSource(listing: ImageFolderListing, opts: ImageFolderSourceOptions = {}): ImageSource {
  const decoded = new Map<number, Image>();
  let cacheLeft = opts.cacheBytes ?? DECODED_CACHE_BYTES;
  const pending = new Map<number, Promise<Buffer>>();
  const read = (index: number): Promise<Buffer> => {
    const p = readFileAsync(listing.files[index]);
    p.catch(() => undefined); // reported when the batch awaits it
    return p;
  };
  return {
    size: listing.files.length,
    labels: listing.labels,
    prefetch(indices) {
      for (const i of indices) if (!decoded.has(i) && !pending.has(i)) pending.set(i, read(i));
    },
    async load(indices) {
      const buffers = await Promise.all(
        Array.from(indices, (i): Promise<Buffer | undefined> => {
          if (decoded.has(i)) return Promise.resolve(undefined);
          const p = pending.get(i) ?? read(i);
          pending.delete(i);
          return p;
        }),
      );
      return buffers.map((buf, k) => {
        const index = indices[k];
        const kept = decoded.get(index);
        if (kept) return kept;
        let img: Image = decodeImage(buf!, listing.files[index]);
        const to = opts.resizeTo;
        if (to && (img.height !== to[0] || img.width !== to[1])) img = resizeBilinear(img, to[0], to[1]);
        if (img.data.byteLength <= cacheLeft) {
          decoded.set(index, img);
          cacheLeft -= img.data.byteLength;
        }
        return img;
      });
    },
  };
}

/** Decodes one file now (used to take the image size from the first training image). */
export async function decodeFile(file: string): Promise<Image> {
  return decodeImage(await readFileAsync(file), file);
}
