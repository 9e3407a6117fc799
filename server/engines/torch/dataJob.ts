/**
 * The data section of a torch-engine job, resolved here so that the Python side
 * (engines/torch/ternary_torch/data.py) restates none of the rules server/data/ owns: the
 * normalization preset becomes mean/std, `data.augment` becomes the training and evaluation
 * transform lists of server/data/augment.ts (an `rrc` with its derived evaluation resize, a
 * `resize…center…` that `rrc` makes evaluation-only), the image-folder resize of
 * server/data/open.ts is computed, and image folders are listed by server/data/imageFolder.ts
 * into the job folder (classes, labels and file order are that listing's; Python only decodes).
 */
import { writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import type { TorchDataJob } from '../../../shared/engineProtocol';
import type { DataConfig } from '../../../shared/experimentConfig';
import { parseAugmentations } from '../../data/augment';
import { listImageFolder } from '../../data/imageFolder';
import { NORMALIZATION_PRESETS } from '../../data/normalize';
import { imageFolderResize } from '../../data/open';

/** data.normalize resolved to mean/std lists (the presets of server/data/normalize.ts). */
function normalization(cfg: DataConfig): { mean: number[]; std: number[] } {
  const n = cfg.normalize;
  if (n === undefined) return NORMALIZATION_PRESETS.none!;
  if (typeof n === 'string') return NORMALIZATION_PRESETS[n]!;
  return n;
}

/** Resolves `cfg` (paths relative to `baseDir`) for data.py; image-folder listings are written to `jobDir`. */
export async function torchDataJob(cfg: DataConfig, baseDir: string, jobDir: string): Promise<TorchDataJob> {
  const path = resolve(baseDir, cfg.path);
  const pipeline = parseAugmentations(cfg.augment ?? []);
  const job: TorchDataJob = {
    format: cfg.format,
    path,
    ...(cfg.limitTrain !== undefined ? { limitTrain: cfg.limitTrain } : {}),
    ...(cfg.limitTest !== undefined ? { limitTest: cfg.limitTest } : {}),
    ...normalization(cfg),
    transforms: { train: pipeline.train.map((t) => t.name), eval: pipeline.eval.map((t) => t.name) },
  };
  if (cfg.format !== 'image-folder') return job;
  const resizeTo = await imageFolderResize(cfg, path, pipeline);
  if (resizeTo) job.resizeTo = resizeTo;
  const listings = { train: join(jobDir, 'data-train.json'), test: join(jobDir, 'data-test.json') };
  for (const split of ['train', 'test'] as const) {
    const listing = listImageFolder(path, split, split === 'train' ? cfg.limitTrain : cfg.limitTest);
    const record = {
      dir: listing.dir,
      classNames: listing.classNames,
      files: listing.files.map((f) => relative(listing.dir, f)),
      labels: Array.from(listing.labels),
    };
    await writeFile(listings[split], JSON.stringify(record) + '\n');
  }
  job.listings = listings;
  return job;
}
