/**
 * Turns a source of labelled images into the Dataset of dataset.ts: orders the examples (a seeded
 * permutation per epoch), runs the augmentation pipeline and writes normalized NHWC batches.
 * In-memory readers (IDX, CIFAR) and streamed image folders share it; they differ only in `load`.
 */
import type { Transform } from './augment';
import type { Batch, BatchOptions, Dataset, Split } from './dataset';
import { DataError } from './errors';
import { writeNormalized, type PixelAffine } from './normalize';
import type { Image } from './resize';
import { Rng, RngStream, deriveSeed, permutation } from './rng';

/** Where the images come from. `load` may be async (files read and decoded per batch). */
export interface ImageSource {
  readonly size: number;
  /** Label of every example, in source order. */
  readonly labels: Int32Array;
  /** The images at `indices`, HWC with values 0..255, in the same order. */
  load(indices: Int32Array): Image[] | Promise<Image[]>;
  /** A hint that `indices` will be loaded next (lets a streamed source start reading files). */
  prefetch?(indices: Int32Array): void;
}

export interface BatchedDatasetInit {
  split: Split;
  source: ImageSource;
  inputShape: [number, number, number];
  numClasses: number;
  classNames?: string[];
  description: string;
  trainTransforms: Transform[];
  evalTransforms: Transform[];
  affine: PixelAffine;
}

export class BatchedDataset implements Dataset {
  readonly split: Split;
  readonly size: number;
  readonly inputShape: [number, number, number];
  readonly numClasses: number;
  readonly classNames?: string[];
  readonly source: string;
  private readonly images: ImageSource;
  private readonly init: BatchedDatasetInit;

  constructor(init: BatchedDatasetInit) {
    this.init = init;
    this.split = init.split;
    this.images = init.source;
    this.size = init.source.size;
    this.inputShape = init.inputShape;
    this.numClasses = init.numClasses;
    this.classNames = init.classNames;
    this.source = init.description;
  }

  batchCount(batchSize: number, dropRemainder = false): number {
    checkBatchSize(batchSize);
    return dropRemainder ? Math.floor(this.size / batchSize) : Math.ceil(this.size / batchSize);
  }

  /** The example order of one epoch: identity, or a permutation drawn from (seed, epoch). */
  order(opts: Pick<BatchOptions, 'shuffle' | 'seed' | 'epoch'>): Int32Array {
    if (!opts.shuffle) {
      const identity = new Int32Array(this.size);
      for (let i = 0; i < this.size; i++) identity[i] = i;
      return identity;
    }
    return permutation(this.size, new Rng(deriveSeed(opts.seed, RngStream.shuffle, opts.epoch)));
  }

  async *batches(opts: BatchOptions): AsyncGenerator<Batch> {
    const { batchSize } = opts;
    const count = this.batchCount(batchSize, opts.dropRemainder);
    const augment = opts.augment ?? this.split === 'train';
    const transforms = augment ? this.init.trainTransforms : this.init.evalTransforms;
    // One augmentation stream per epoch, consumed in batch order: same seed + epoch, same images.
    const rng = new Rng(deriveSeed(opts.seed, RngStream.augment, opts.epoch));
    const order = this.order(opts);
    const [h, w, c] = this.inputShape;
    const imageFloats = h * w * c;
    for (let b = 0; b < count; b++) {
      const indices = order.subarray(b * batchSize, Math.min((b + 1) * batchSize, this.size));
      if (b + 1 < count) this.images.prefetch?.(order.subarray((b + 1) * batchSize, Math.min((b + 2) * batchSize, this.size)));
      const n = indices.length;
      const loaded = await this.images.load(indices);
      const x = new Float32Array(n * imageFloats);
      const y = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        let img = loaded[i];
        for (const t of transforms) img = t.apply(img, rng);
        if (img.height !== h || img.width !== w || img.channels !== c) {
          throw new DataError(
            `${this.source}: example ${indices[i]} came out of the augmentations as ${img.height}×${img.width}×${img.channels}, ` +
              `expected ${h}×${w}×${c}. Check data.augment and data.imageSize.`,
          );
        }
        writeNormalized(img.data, c, this.init.affine, x, i * imageFloats);
        y[i] = this.images.labels[indices[i]];
      }
      yield { x, y, n };
    }
  }
}

function checkBatchSize(batchSize: number): void {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
}

/** A source over images held in memory as one HWC uint8 array (IDX, CIFAR). */
export function memorySource(images: Uint8Array, labels: Int32Array, height: number, width: number, channels: number): ImageSource {
  const bytes = height * width * channels;
  return {
    size: labels.length,
    labels,
    load(indices) {
      const out = new Array<Image>(indices.length);
      for (let i = 0; i < indices.length; i++) {
        const at = indices[i] * bytes;
        out[i] = { height, width, channels, data: images.subarray(at, at + bytes) };
      }
      return out;
    },
  };
}
