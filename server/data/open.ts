/** openDataset's body: picks the reader for `data.format` and assembles the pipeline. */
import { resolve } from 'node:path';
import type { DataConfig } from '../../shared/experimentConfig';
import { parseAugmentations, pipelineOutputSize, type Pipeline } from './augment';
import { BatchedDataset, memorySource } from './batcher';
import { loadCifarSplit } from './cifar';
import type { Dataset, Split } from './dataset';
import { DataError } from './errors';
import { isDirectory } from './files';
import { loadIdxSplit } from './idx';
import { decodeFile, imageFolderSource, listImageFolder } from './imageFolder';
import { resolveNormalization } from './normalize';

function checkLimit(name: string, v: number | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!Number.isInteger(v) || v < 1) throw new DataError(`data.${name} must be a positive integer, got ${v}.`);
  return v;
}

function shapeFor(pipeline: Pipeline, h: number, w: number, c: number): [number, number, number] {
  const train = pipelineOutputSize(pipeline.train, h, w);
  const test = pipelineOutputSize(pipeline.eval, h, w);
  if (train[0] !== test[0] || train[1] !== test[1]) {
    throw new DataError(
      `data.augment gives ${train[0]}×${train[1]} images for training but ${test[0]}×${test[1]} for evaluation; ` +
        `add a resize<r>center<c> whose crop matches the training size.`,
    );
  }
  return [train[0], train[1], c];
}

/**
 * The [height, width] every image of an image folder is resized to before the augmentations, or
 * undefined when `rrc` / `resize…center…` fixes the size: `data.imageSize`, else the size of the
 * first training image (its class folder is sorted first).
 */
export async function imageFolderResize(cfg: DataConfig, root: string, pipeline: Pipeline): Promise<[number, number] | undefined> {
  if (pipeline.fixesSize) return undefined;
  const size: [number, number] = cfg.imageSize
    ? [cfg.imageSize[0], cfg.imageSize[1]]
    : await decodeFile(listImageFolder(root, 'train', 1).files[0]).then((first) => [first.height, first.width]);
  if (!(size[0] >= 1 && size[1] >= 1)) throw new DataError(`data.imageSize must hold two positive integers, got [${size.join(', ')}].`);
  return size;
}

/**
 * Opens one split of the data described by `cfg`. `baseDir` is the folder of the config file:
 * relative `cfg.path` is resolved against it. Throws a `DataError` (server/data/errors.ts) with
 * a message naming the file, the problem and what to do, for any missing or malformed data.
 */
export async function openDataset(cfg: DataConfig, split: Split, baseDir: string): Promise<Dataset> {
  const root = resolve(baseDir, cfg.path);
  const limit = checkLimit(split === 'train' ? 'limitTrain' : 'limitTest', split === 'train' ? cfg.limitTrain : cfg.limitTest);
  const pipeline = parseAugmentations(cfg.augment ?? []);
  const common = { split, trainTransforms: pipeline.train, evalTransforms: pipeline.eval };

  switch (cfg.format) {
    case 'idx':
    case 'cifar10-bin':
    case 'cifar100-bin': {
      // IDX also accepts a file prefix; its reader reports missing files itself.
      if (!isDirectory(root) && cfg.format !== 'idx') {
        throw new DataError(`${root}: data folder not found (data.path "${cfg.path}", relative to ${baseDir}).`, root);
      }
      const d = cfg.format === 'idx' ? loadIdxSplit(root, split, limit) : loadCifarSplit(root, split, cfg.format, limit);
      if (cfg.imageSize && (cfg.imageSize[0] !== d.height || cfg.imageSize[1] !== d.width)) {
        throw new DataError(
          `data.imageSize [${cfg.imageSize.join(', ')}] does not match the ${d.height}×${d.width} images of ${root}; ` +
            `remove it (it is for image folders) or add an rrc/resize…center… augmentation.`,
        );
      }
      return new BatchedDataset({
        ...common,
        source: memorySource(d.images, d.labels, d.height, d.width, d.channels),
        inputShape: shapeFor(pipeline, d.height, d.width, d.channels),
        numClasses: d.numClasses,
        classNames: (d as { classNames?: string[] }).classNames,
        description: root,
        affine: resolveNormalization(cfg.normalize, d.channels),
      });
    }
    case 'image-folder': {
      const listing = listImageFolder(root, split, limit);
      const resizeTo = await imageFolderResize(cfg, root, pipeline);
      let inputShape: [number, number, number];
      if (resizeTo === undefined) {
        // rrc / resize…center… sets the size; the shape does not depend on the input's size.
        inputShape = shapeFor(pipeline, 1 << 16, 1 << 16, 3);
        if (cfg.imageSize && (cfg.imageSize[0] !== inputShape[0] || cfg.imageSize[1] !== inputShape[1])) {
          throw new DataError(
            `data.imageSize [${cfg.imageSize.join(', ')}] disagrees with data.augment, which produces ` +
              `${inputShape[0]}×${inputShape[1]} images. Make them match or drop data.imageSize.`,
          );
        }
      } else {
        inputShape = shapeFor(pipeline, resizeTo[0], resizeTo[1], 3);
      }
      return new BatchedDataset({
        ...common,
        source: imageFolderSource(listing, { resizeTo }),
        inputShape,
        numClasses: listing.classNames.length,
        classNames: listing.classNames,
        description: listing.dir,
        affine: resolveNormalization(cfg.normalize, 3),
      });
    }
    default:
      throw new DataError(
        `Unknown data.format "${(cfg as { format: string }).format}": use idx, cifar10-bin, cifar100-bin or image-folder.`,
      );
  }
}
