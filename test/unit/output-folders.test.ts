/**
 * The output folders of the commands that write (`tern train`, `tern export`, `tern ternarize`,
 * the server's `ternary/train`, `ternary/export` and `ternary/ternarize`, and the extension's New
 * Experiment Config; `tern eval` and `tern stats` write nothing): a file-system refusal is
 * `fileSystem` naming the folder — one line from the CLI (exit 1, no stack trace), −32008
 * FileSystem from the server, one sentence from the extension — and
 * a write killed mid-way leaves nothing the next write into the folder keeps. Refusals are
 * injected (the tests run as root, where permission bits refuse nothing), the way Node meets a
 * read-only file system: `mkdir -p` says ENOENT there, a plain mkdir and every write say EROFS.
 */
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import fsPromises from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import { saveModel } from '../../server/core/modelIO';
import { convertToTernary } from '../../server/models';
import { exportModelTarget } from '../../server/export';
import { realJobs } from '../../server/rpc/realJobs';
import { toResponseError } from '../../server/rpc/errors';
import { trainWithEngine as train } from '../../server/engines/dispatch';
import { command as exportCommand } from '../../server/cli/commands/export';
import { command as trainCommand } from '../../server/cli/commands/train';
import { writeNewConfigFile } from '../../extension/configFileWrite';
import { run as ternarize } from '../../server/cli/commands/ternarize';
import { TernaryErrorCodes } from '../../shared/protocol';
import { QUANT_DEFAULTS } from '../../shared/quant';
import { setup, useWasm } from './trainFixture';

const tmp = () => mkdtempSync(join(tmpdir(), 'tern-out-'));

function errno(code: string, syscall: string, path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: simulated, ${syscall} '${path}'`), { code, path, syscall });
}

/** Makes `root` read-only as Node sees a read-only mount; returns the undo. */
function readOnly(root: string): () => void {
  const under = (p: unknown) => {
    const abs = resolve(String(p));
    return abs === root || abs.startsWith(root + sep);
  };
  const { mkdir, writeFile, open } = fsPromises;
  const mocks = [
    mock.method(fsPromises, 'mkdir', async (p: string, options?: { recursive?: boolean }) => {
      if (under(p) && !existsSync(p)) throw errno(options?.recursive ? 'ENOENT' : 'EROFS', 'mkdir', p);
      return mkdir(p, options);
    }),
    mock.method(fsPromises, 'writeFile', async (p: string, ...rest: unknown[]) => {
      if (under(p)) throw errno('EROFS', 'open', p);
      return (writeFile as (...a: unknown[]) => Promise<void>)(p, ...rest);
    }),
    mock.method(fsPromises, 'open', async (p: string, flags?: string, ...rest: unknown[]) => {
      if (under(p) && flags !== undefined && flags !== 'r') throw errno('EROFS', 'open', p);
      return (open as (...a: unknown[]) => Promise<unknown>)(p, flags, ...rest);
    }),
  ];
  return () => mocks.forEach((m) => m.mock.restore());
}

/** What a command writes to stderr while `work` runs. */
async function stderrOf(work: () => Promise<number>): Promise<{ code: number; err: string }> {
  let err = '';
  const m = mock.method(process.stderr, 'write', (chunk: string | Uint8Array) => {
    err += String(chunk);
    return true;
  });
  try {
    const code = await work();
    return { code, err };
  } finally {
    m.mock.restore();
  }
}

let modelJson = '';

test('fixture: a small ternary model', async () => {
  await useWasm();
  const input = tfl.input({ shape: [8, 8, 1] });
  const conv = tfl.layers.conv2d({ name: 'c', filters: 4, kernelSize: 3 }).apply(input) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({ name: 'fc', units: 4 }).apply(tfl.layers.flatten().apply(conv)) as tfl.SymbolicTensor;
  const model = await convertToTernary(tfl.model({ inputs: input, outputs: out }), QUANT_DEFAULTS);
  const dir = tmp();
  await saveModel(model, dir);
  modelJson = join(dir, 'model.json');
});

test('tern export and tern ternarize into a read-only folder: one line naming the folder, exit 1', async () => {
  const ro = tmp();
  const undo = readOnly(ro);
  try {
    const exported = await stderrOf(() => exportCommand.run([modelJson, '--out', join(ro, 'out'), '--no-parity', '--backend', 'wasm']));
    assert.equal(exported.code, 1, exported.err);
    assert.equal(
      exported.err,
      `tern export: ${join(ro, 'out')} is on a read-only file system (EROFS); choose another folder for the export (tern export --out).\n`,
    );
    const ternarized = await stderrOf(() =>
      ternarize([modelJson, '--out', join(ro, 'twin')], { out: process.stdout, err: process.stderr }),
    );
    assert.equal(ternarized.code, 1, ternarized.err);
    assert.equal(
      ternarized.err,
      `tern ternarize: ${join(ro, 'twin')} is on a read-only file system (EROFS); choose another folder for the ternary model (--out).\n`,
    );
  } finally {
    undo();
  }
});

test('tern train with a read-only runs folder: one line naming the folder, exit 1', async () => {
  const f = setup({ epochs: 1 });
  const ro = tmp();
  const undo = readOnly(ro);
  try {
    const runsDir = join(ro, 'runs');
    const trained = await stderrOf(() => trainCommand.run([f.configPath, '--runs-dir', runsDir, '--backend', 'wasm']));
    assert.equal(trained.code, 1, trained.err);
    assert.equal(
      trained.err,
      `tern train: ${runsDir} is on a read-only file system (EROFS); choose another folder for the runs folder (tern train --runs-dir).\n`,
    );
  } finally {
    undo();
  }
});

test('the server: ternary/train with a runs folder that is a file answers −32008 FileSystem naming it', async () => {
  // The server trains in a process of its own (server/rpc/detachedTrain.ts), out of reach of the
  // mocks above: a file where the runs folder should be is a refusal every process meets.
  const f = setup({ epochs: 1 });
  const runsDir = join(tmp(), 'runs-is-a-file');
  writeFileSync(runsDir, 'x');
  const err = await realJobs()
    .train({ configPath: f.configPath, runsDir }, {}, new AbortController().signal)
    .then(
      () => assert.fail('expected a refusal'),
      (e: unknown) => e,
    );
  const response = toResponseError(err);
  assert.equal(response.code, TernaryErrorCodes.FileSystem, response.message);
  assert.equal((response.data as { path?: string }).path, runsDir);
  assert.match(response.message, /is a file where a folder is needed/);
});

test('New Experiment Config into a read-only folder: one sentence naming the file; a name taken meanwhile is kept', async () => {
  const ro = tmp();
  const undo = readOnly(ro);
  try {
    const file = join(ro, 'new.tern.json');
    assert.equal(
      await writeNewConfigFile(file, '{}'),
      `${file} is on a read-only file system (EROFS); choose another folder for the new config.`,
    );
  } finally {
    undo();
  }
  const dir = tmp();
  writeFileSync(join(dir, 'taken.tern.json'), 'mine');
  assert.match((await writeNewConfigFile(join(dir, 'taken.tern.json'), '{}')) ?? '', /taken\.tern\.json exists already/);
  assert.equal(readFileSync(join(dir, 'taken.tern.json'), 'utf8'), 'mine');
});

test('the server: ternary/export and ternary/ternarize into a read-only folder answer −32008 FileSystem with the path', async () => {
  const f = setup({ epochs: 1 });
  const run = await train({ ...f, backend: { name: 'wasm', threads: 1 } });
  const jobs = realJobs();
  const ro = tmp();
  const undo = readOnly(ro);
  try {
    for (const [job, out] of [
      [
        () => jobs.export({ runDir: run.runDir, outDir: join(ro, 'export'), parity: false }, new AbortController().signal, () => undefined),
        'export',
      ],
      [() => jobs.ternarize({ modelPath: modelJson, outDir: join(ro, 'twin'), ...QUANT_DEFAULTS }, new AbortController().signal), 'twin'],
    ] as const) {
      const err = await (job as () => Promise<unknown>)().then(
        () => assert.fail('expected a refusal'),
        (e: unknown) => e,
      );
      const response = toResponseError(err);
      assert.equal(response.code, TernaryErrorCodes.FileSystem, response.message);
      assert.deepEqual(response.data, { path: join(ro, out), code: 'EROFS' });
      assert.match(response.message, /is on a read-only file system \(EROFS\)/);
    }
  } finally {
    undo();
  }
});

test('a write killed mid-way: the next export into the folder removes its temporary files, not a live writer’s', async () => {
  const out = tmp();
  mkdirSync(join(out, 'tfjs'));
  // The pid of a process that has ended, as after kill -9.
  const dead = spawnSync(process.execPath, ['-e', '']).pid;
  const stale = [`.model.onnx.tmp-${dead}-0`, `.report.md.tmp-${dead}-3`, join('tfjs', `.weights.bin.tmp-${dead}-1`)];
  for (const name of stale) writeFileSync(join(out, name), 'partial');
  const live = `.model.tern.tmp-${process.pid}-999`;
  writeFileSync(join(out, live), 'being written');
  await exportModelTarget(modelJson, out, { parity: false });
  const left = [...readdirSync(out), ...readdirSync(join(out, 'tfjs')).map((n) => join('tfjs', n))].filter((n) => n.includes('.tmp-'));
  assert.deepEqual(left, [live]);
});
