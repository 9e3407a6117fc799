/**
 * Environment errors are one line naming the path and what to do, never a stack trace: a full
 * disk, a read-only runs folder, a runs folder or --out that is a file, `tern eval` with data that
 * does not fit the model. The file system's refusals are injected (the tests run as root, where
 * permissions do not refuse anything); the file-instead-of-folder cases are real.
 */
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import fsPromises from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { trainWithEngine as train } from '../../server/engines/dispatch';
import { toResponseError } from '../../server/rpc/errors';
import { TernaryErrorCodes } from '../../shared/protocol';
import type { RunSummary } from '../../shared/runRecords';
import { setup, useWasm, userErrorMessage } from './trainFixture';
import { writeIdxSplit } from '../shared/idx';
import { tern } from '../shared/ternCli';

const backend = { name: 'wasm', threads: 1 };

function errno(code: string, path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: simulated, open '${path}'`), { code, path, syscall: 'open' });
}

async function refusal(work: Promise<unknown>): Promise<string> {
  const err = await work.then(
    () => assert.fail('expected a refusal'),
    (e: unknown) => e,
  );
  const message = userErrorMessage(err);
  assert.ok(message, `not a user error (it would print a stack trace): ${String((err as Error)?.stack ?? err)}`);
  return message;
}

test('a runs folder that is a file: refused before training, naming the path', async () => {
  await useWasm();
  const f = setup();
  writeFileSync(f.runsDir, 'not a folder');
  let started = false;
  const message = await refusal(
    train({
      ...f,
      backend,
      listener: {
        onStart: () => {
          started = true;
        },
      },
    }),
  );
  assert.equal(
    message,
    `${f.runsDir} is a file where a folder is needed (ENOTDIR); move the file away or choose another folder for the runs folder (tern train --runs-dir).`,
  );
  assert.equal(started, false);
});

test('a read-only runs folder is reported as read-only (not ENOENT), before training starts', async () => {
  await useWasm();
  const f = setup();
  const writeFile = fsPromises.writeFile;
  const m = mock.method(fsPromises, 'writeFile', async (path: string, ...rest: unknown[]) => {
    if (String(path).startsWith(f.runsDir)) throw errno('EROFS', String(path));
    return (writeFile as (...a: unknown[]) => Promise<void>)(path, ...rest);
  });
  try {
    const err = await train({ ...f, backend }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.equal(
      userErrorMessage(err),
      `${f.runsDir} is on a read-only file system (EROFS); choose another folder for the runs folder (tern train --runs-dir).`,
    );
    assert.equal(toResponseError(err).code, TernaryErrorCodes.FileSystem);
  } finally {
    m.mock.restore();
  }
});

test('the disk fills up while a checkpoint is written: the run fails with one line, summary.json says why', async () => {
  await useWasm();
  const f = setup();
  const open = fsPromises.open;
  const m = mock.method(fsPromises, 'open', async (path: string, ...rest: unknown[]) => {
    if (basename(String(path)) === 'weights.bin' && basename(dirname(String(path))).includes('.tmp-')) throw errno('ENOSPC', String(path));
    return (open as (...a: unknown[]) => Promise<unknown>)(path, ...rest);
  });
  let runDir = '';
  try {
    const message = await refusal(
      train({
        ...f,
        backend,
        listener: {
          onStart: (s) => {
            runDir = s.runDir;
          },
        },
      }),
    );
    assert.match(message, /^The disk holding \/.*weights\.bin is full \(ENOSPC\); free some space, then continue the run with --resume/);
  } finally {
    m.mock.restore();
  }
  const summary = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as RunSummary;
  assert.equal(summary.status, 'failed');
  assert.match(summary.reason ?? '', /is full \(ENOSPC\)/);
});

/** An IDX split of `count` gray `size`×`size` images with labels 0..3 in turn. */
function idxSplit(dir: string, prefix: string, size: number, count: number): void {
  mkdirSync(dir, { recursive: true });
  const labels = Array.from({ length: count }, (_, i) => i % 4);
  writeIdxSplit(dir, prefix, new Uint8Array(count * size * size).fill(90), labels, size);
}

test('tern export / ternarize with an --out that is a file, tern eval with data that does not fit: one line each, exit 1', async () => {
  await useWasm();
  const f = setup();
  const run = await train({ ...f, epochs: 1, backend });
  const root = dirname(f.configPath);
  const outFile = join(root, 'out-is-a-file');
  writeFileSync(outFile, 'x');

  const exported = await tern('export', run.runDir, '--out', outFile);
  assert.equal(exported.code, 1, exported.err);
  assert.match(
    exported.err,
    /^tern export: .*out-is-a-file.* is a file where a folder is needed \(E(EXIST|NOTDIR)\); move the file away or choose another folder for the export \(tern export --out\)\.\n$/,
  );

  const ternarized = await tern('ternarize', join(run.runDir, 'model', 'model.json'), '--out', join(outFile, 'sub'));
  assert.equal(ternarized.code, 1, ternarized.err);
  assert.match(ternarized.err, /^tern ternarize: .*out-is-a-file.* is a file where a folder is needed \(ENOTDIR\); move the file away/);
  assert.doesNotMatch(ternarized.err, /\n\s+at /);

  // 6×6 images for a model trained on 8×8.
  idxSplit(join(root, 'small'), 't10k', 6, 8);
  idxSplit(join(root, 'small'), 'train', 6, 8);
  const small = join(root, 'small.tern.json');
  writeFileSync(
    small,
    JSON.stringify({ experiments: [{ name: 'tiny', model: { arch: 'fmnist-cnn', classes: 4 }, data: { format: 'idx', path: 'small' } }] }),
  );
  const evaluated = await tern('eval', run.runDir, '--config', small, '--backend', 'wasm');
  assert.equal(evaluated.code, 1, evaluated.err);
  assert.match(
    evaluated.err,
    /^tern eval: .*small\.tern\.json: data \(experiment "tiny"\): gives 6×6×1 images \(height×width×channels\) but .*model\.json takes 8×8×1; evaluate with the config the model was trained with/,
  );
  assert.ok(existsSync(run.runDir));
});
