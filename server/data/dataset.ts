/**
 * The dataset contract the trainer codes against: a split of labelled images that hands out
 * batches as plain typed arrays (NHWC float32, normalized; int32 labels). No tfjs here: the
 * trainer turns each batch into tensors, so readers stay testable and cheap.
 *
 * Determinism: `batches()` with the same `seed` and `epoch` yields the same examples in the same
 * order with the same augmentation, whatever happened before (no hidden global state), which is
 * what makes `--resume` end with the same metrics as an uninterrupted run.
 *
 * `openDataset` (open.ts) opens one; this module holds only the contract, so the readers that
 * implement it import it without an import cycle.
 */

export type Split = 'train' | 'test';

/** One batch. `x` holds `n` images NHWC (`n·h·w·c` floats), `y` their class indices. */
export interface Batch {
  x: Float32Array;
  y: Int32Array;
  /** Images in this batch (the last batch may be short unless `dropRemainder`). */
  n: number;
}

export interface BatchOptions {
  batchSize: number;
  /** Shuffle the order (a permutation drawn from `seed` and `epoch`). */
  shuffle: boolean;
  seed: number;
  /** Epoch number (any integer); with `seed` it fixes the order and the augmentation draws. */
  epoch: number;
  /**
   * Apply the random training augmentations of `data.augment` (crop with padding, flips,
   * random-resized-crop). Default: true for the train split, false for the test split. When
   * false, each augmentation is replaced by its deterministic evaluation counterpart, so the
   * image shape is the same either way (see docs/data.md).
   */
  augment?: boolean;
  /** Drop a last, short batch. Default false. */
  dropRemainder?: boolean;
}

export interface Dataset {
  readonly split: Split;
  /** Number of examples (after `limitTrain`/`limitTest`). */
  readonly size: number;
  /** Shape of one image as fed to the network: [height, width, channels]. */
  readonly inputShape: [number, number, number];
  /** Number of classes (largest label + 1 for IDX; 10 / 100 for CIFAR; class folders for images). */
  readonly numClasses: number;
  /** Class names when the data has them (image folders, CIFAR meta files). */
  readonly classNames?: string[];
  /** Where the data came from, for logs (e.g. the folder). */
  readonly source: string;
  /** Number of batches `batches()` will yield for these options. */
  batchCount(batchSize: number, dropRemainder?: boolean): number;
  /** The batches of one pass over the split. Each batch owns fresh arrays (safe to hand to tfjs). */
  batches(opts: BatchOptions): AsyncIterable<Batch>;
}
