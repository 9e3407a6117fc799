/**
 * One job layer (server/jobs/) for the CLI and the server: the same command through `tern` and
 * through the server's jobs writes the same files and refuses the same things; errors cross by
 * their code (shared/userError.ts, shared/protocol.ts), never by their class name.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import { saveModel } from '../../server/core/modelIO';
import { realJobs } from '../../server/rpc/realJobs';
import { toResponseError } from '../../server/rpc/errors';
import { ParityError } from '../../server/export';
import { trainWithEngine } from '../../server/engines/dispatch';
import { TernaryErrorCodes, USER_ERROR_PROTOCOL_CODES, USER_MISTAKE_CODES } from '../../shared/protocol';
import { QUANT_DEFAULTS } from '../../shared/quant';
import type { ModelExportSummary } from '../../shared/exportSummary';
import { setup, useWasm } from './trainFixture';
import { tern } from '../shared/ternCli';

const tmp = () => mkdtempSync(join(tmpdir(), 'tern-jobs-'));
const metadataOf = (dir: string) =>
  (JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as { userDefinedMetadata: unknown }).userDefinedMetadata;

test('ternarize through tern and through the server: the same model.json, the source recorded by its absolute path', async () => {
  await useWasm();
  const input = tfl.input({ shape: [6, 6, 1] });
  const conv = tfl.layers.conv2d({ name: 'c', filters: 2, kernelSize: 3 }).apply(input) as tfl.SymbolicTensor;
  const dir = tmp();
  await saveModel(tfl.model({ inputs: input, outputs: tfl.layers.flatten().apply(conv) as tfl.SymbolicTensor }), join(dir, 'float'));
  const source = join(dir, 'float', 'model.json');

  const cli = await tern('ternarize', source, '--out', join(dir, 'cli'));
  assert.equal(cli.code, 0, cli.err);
  // A path relative to the server's working directory, as a client may send.
  await realJobs().ternarize(
    { modelPath: relative(process.cwd(), source), outDir: join(dir, 'server'), ...QUANT_DEFAULTS },
    new AbortController().signal,
  );
  assert.deepEqual(metadataOf(join(dir, 'server')), metadataOf(join(dir, 'cli')));
  // Ternarize takes no activation setting (a ternarized model computes on float inputs until trained with int8).
  const { activations: _float, ...ternarizeDefaults } = QUANT_DEFAULTS;
  assert.deepEqual(metadataOf(join(dir, 'cli')), { ternarizedFrom: source, quant: ternarizeDefaults });
  assert.deepEqual(readFileSync(join(dir, 'server', 'weights.bin')), readFileSync(join(dir, 'cli', 'weights.bin')));
});

test('tern train --resume with a config of two experiments and no --experiment continues the run’s own experiment', async () => {
  await useWasm();
  const f = setup({ epochs: 1 });
  const first = await trainWithEngine({ ...f, backend: { name: 'wasm', threads: 1 } });
  const config = JSON.parse(readFileSync(f.configPath, 'utf8')) as { experiments: { name: string }[] };
  config.experiments.push({ ...config.experiments[0]!, name: 'other' });
  writeFileSync(f.configPath, JSON.stringify(config));
  const resumed = await tern('train', f.configPath, '--resume', first.runDir, '--epochs', '2', '--backend', 'wasm', '--json');
  assert.equal(resumed.code, 0, resumed.err);
  const summary = JSON.parse(resumed.out.trim().split('\n').at(-1)!) as { runDir: string; epochs: number; status: string };
  assert.deepEqual([summary.runDir, summary.epochs, summary.status], [first.runDir, 2, 'completed']);
});

test('a parity failure answers ExportFailed with the figures in its data, read by code', () => {
  const summary = { files: [], parity: { inputs: 'random', results: [], tolerance: 1e-4 } } as unknown as ModelExportSummary;
  const error = toResponseError(new ParityError('Exported model differs from our inference.', summary));
  assert.equal(error.code, TernaryErrorCodes.ExportFailed);
  assert.deepEqual(error.data, { model: summary });
});

test('the user-mistake codes: every UserError code but a missing backend and a cancellation, and a loss that ran away', () => {
  for (const code of [
    TernaryErrorCodes.InvalidConfig,
    TernaryErrorCodes.BadData,
    TernaryErrorCodes.NonFiniteLoss,
    TernaryErrorCodes.NotFound,
    TernaryErrorCodes.Busy,
    TernaryErrorCodes.ExportFailed,
    TernaryErrorCodes.RunLocked,
    TernaryErrorCodes.FileSystem,
    TernaryErrorCodes.EngineUnavailable,
    -32602,
  ]) {
    assert.ok(USER_MISTAKE_CODES.has(code), `${code} is the user's to fix`);
  }
  assert.equal(USER_MISTAKE_CODES.has(-32603), false);
  assert.equal(USER_MISTAKE_CODES.has(-32800), false);
  assert.equal(USER_ERROR_PROTOCOL_CODES.exportFailed, TernaryErrorCodes.ExportFailed);
});
