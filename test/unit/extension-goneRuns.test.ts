import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { folderExists, goneRunDirs, goneRunsMessage } from '../../extension/goneRuns';

test('a deleted run folder is found gone; the others are kept, in order', async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'gone-runs-'));
  try {
    const kept = path.join(root, 'runs', 'tiny', '20261206-110000-aaaa');
    const deleted = path.join(root, 'runs', 'tiny', '20261206-120000-bbbb');
    await mkdir(kept, { recursive: true });
    await mkdir(deleted, { recursive: true });
    assert.deepEqual(await goneRunDirs([kept, deleted], folderExists), []);
    await rm(deleted, { recursive: true });
    assert.deepEqual(await goneRunDirs([kept, deleted], folderExists), [deleted]);
    assert.deepEqual(await goneRunDirs([], folderExists), []);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('a file where the run folder was is not a run folder', async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'gone-runs-'));
  try {
    const file = path.join(root, '20261206-120000-bbbb');
    await writeFile(file, '');
    assert.equal(await folderExists(root), true);
    assert.equal(await folderExists(file), false);
    assert.equal(await folderExists(path.join(root, 'missing')), false);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('the message names each gone folder as the workspace does and what cannot be done', () => {
  const label = (d: string) => path.relative('/ws', d);
  assert.equal(
    goneRunsMessage(['/ws/runs/tiny/20261206-120000-bbbb'], 'export', label),
    'the run folder runs/tiny/20261206-120000-bbbb no longer exists (deleted or moved): nothing to export.',
  );
  assert.equal(
    goneRunsMessage(['/ws/runs/a/1', '/ws/runs/b/2'], 'show', label),
    'the run folders runs/a/1, runs/b/2 no longer exist (deleted or moved): nothing to show.',
  );
});
