/**
 * The torch engine's data: server/engines/torch/dataJob.ts hands data.py the listing of
 * server/data/imageFolder.ts (same classes, labels and file order), the resolved transform lists
 * of server/data/augment.ts and the normalization's mean/std. data.py's own tests
 * (engines/torch/tests/test_data.py: sharding, file order, every transform, workers changing
 * nothing, decoding) run with the package's other unit tests (engines-torch-package.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { listImageFolder } from '../../server/data/imageFolder';
import { NORMALIZATION_PRESETS } from '../../server/data/normalize';
import { torchDataJob } from '../../server/engines/torch/dataJob';
import { writeSyntheticImageFolder } from '../shared/imageFolder';

const root = join(__dirname, '..', '..');

test('an image folder: the listing of imageFolder.ts, the resolved transforms and mean/std', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tern-torch-data-'));
  try {
    writeSyntheticImageFolder(join(dir, 'set'), { classes: 3, trainPerClass: 4, testPerClass: 2, size: [12, 16] });
    const job = await torchDataJob(
      { format: 'image-folder', path: 'set', augment: ['rrc8', 'hflip'], normalize: 'imagenet', limitTrain: 7 },
      dir,
      dir,
    );
    assert.deepEqual(job.transforms, { train: ['rrc8', 'hflip'], eval: ['resize9center8'] });
    assert.deepEqual({ mean: job.mean, std: job.std }, NORMALIZATION_PRESETS.imagenet);
    assert.equal(job.resizeTo, undefined, 'rrc fixes the size');
    for (const split of ['train', 'test'] as const) {
      const written = JSON.parse(readFileSync(job.listings![split], 'utf8')) as { dir: string; files: string[]; labels: number[] };
      const ours = listImageFolder(join(dir, 'set'), split, split === 'train' ? 7 : undefined);
      assert.equal(written.dir, ours.dir);
      assert.deepEqual(
        written.files,
        ours.files.map((f) => relative(ours.dir, f)),
      );
      assert.deepEqual(written.labels, Array.from(ours.labels));
    }

    const sized = await torchDataJob({ format: 'image-folder', path: join(dir, 'set'), augment: ['crop10pad1', 'hflip'] }, dir, dir);
    assert.deepEqual(sized.resizeTo, [12, 16], 'no rrc / resize…center…: the first training image gives the size');
    assert.deepEqual(sized.transforms, { train: ['crop10pad1', 'hflip'], eval: ['crop10pad1'] });
    assert.deepEqual({ mean: sized.mean, std: sized.std }, NORMALIZATION_PRESETS.none);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('IDX: no listing, limits and path passed on', async () => {
  const job = await torchDataJob(
    { format: 'idx', path: 'data/fashion-mnist-subset', augment: ['resize32center28'], normalize: 'fmnist', limitTest: 5 },
    join(root, 'examples'),
    tmpdir(),
  );
  assert.equal(job.path, join(root, 'examples', 'data', 'fashion-mnist-subset'));
  assert.equal(job.limitTest, 5);
  assert.equal(job.listings, undefined);
  assert.deepEqual(job.transforms, { train: ['resize32center28'], eval: ['resize32center28'] });
});
