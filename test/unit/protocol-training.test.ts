/**
 * The training server with the real trainer, over in-memory streams: a tiny run (synthetic 8×8
 * IDX data, fmnist-cnn, 2 epochs) whose notifications match the run folder byte for byte, a
 * cancelled run that keeps its checkpoint, queueing, config and data errors, and tensors that
 * return to their count after each of three runs.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { realJobs } from '../../server/rpc/realJobs';
import {
  CancelRequest,
  EvaluateRequest,
  ExportRequest,
  ListRunsRequest,
  StatsRequest,
  TernarizeRequest,
  RunHistoryRequest,
  ServerStatsRequest,
  TernaryErrorCodes,
  TrainRequest,
  type TrainResult,
} from '../../shared/protocol';
import { rejection, startInMemory, withTimeout, writeTinyWorkspace, type TinyWorkspace } from './protocol-harness';

let ws: TinyWorkspace;
let session: Awaited<ReturnType<typeof startInMemory>>;
/** Tensors alive after the first completed run; every later job must leave the same count. */
let tensorsAfterFirstRun: number | undefined;

before(async () => {
  ws = await writeTinyWorkspace(await mkdtemp(join(tmpdir(), 'tern-protocol-')));
  session = await startInMemory(realJobs(), { backend: 'wasm', metricsRate: 1000 });
});

after(async () => {
  session?.close();
  if (ws) await rm(ws.dir, { recursive: true, force: true });
});

const jsonLines = async (file: string) =>
  (await readFile(file, 'utf8'))
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
const json = async (file: string) => JSON.parse(await readFile(file, 'utf8'));

test('initialize reports the wasm backend and the tfjs versions', () => {
  assert.equal(session.info.backend, 'wasm');
  assert.equal(session.info.versions.tfjsCore, tf.version_core);
});

test('a tiny run: started → metrics → layer stats → histograms → … → ended, equal to the files on disk', async () => {
  const from = session.events.events.length;
  const result: TrainResult = await session.client.sendRequest(TrainRequest.type, { configPath: ws.configPath });
  tensorsAfterFirstRun = tf.memory().numTensors;
  const events = session.events.events.slice(from).filter((e) => e.method.startsWith('ternary/'));
  // The server follows the run from its folder (server/runs/runFollower.ts): a read may find both
  // epochs' lines at once on a busy machine, so the order asserted is each epoch's — its epoch line,
  // then its layer stats, then its histograms — between the start and the end.
  assert.equal(events[0]?.method, 'ternary/runStarted');
  assert.equal(events[events.length - 1]?.method, 'ternary/runEnded');
  for (const epoch of [1, 2]) {
    const epochLine = events.findIndex(
      (e) =>
        e.method === 'ternary/metrics' &&
        e.params.records.some((r: { kind: string; epoch: number }) => r.kind === 'epoch' && r.epoch === epoch),
    );
    const layers = events.findIndex((e) => e.method === 'ternary/layerStats' && e.params.record.epoch === epoch);
    const histograms = events.findIndex((e) => e.method === 'ternary/histograms' && e.params.record.epoch === epoch);
    assert.ok(epochLine > 0 && epochLine < layers && layers < histograms, `epoch ${epoch}: ${events.map((e) => e.method).join(', ')}`);
  }
  const params = (method: string) => events.filter((e) => e.method === method).map((e) => e.params);

  const [started] = params('ternary/runStarted');
  assert.equal(started.runDir, result.runDir);
  assert.equal(started.experiment, 'tiny');
  assert.equal(started.epochs, 2);
  assert.equal(started.stepsPerEpoch, 4); // 64 images / batch 16
  assert.equal(started.backend, 'wasm');
  assert.equal(started.configPath, ws.configPath);

  assert.deepEqual(
    params('ternary/metrics').flatMap((p) => p.records),
    await jsonLines(join(result.runDir, 'metrics.jsonl')),
  );
  assert.deepEqual(
    params('ternary/layerStats').map((p) => p.record),
    await jsonLines(join(result.runDir, 'layers.jsonl')),
  );
  assert.deepEqual(
    params('ternary/histograms').map((p) => p.record),
    [await json(join(result.runDir, 'histograms', 'epoch-001.json')), await json(join(result.runDir, 'histograms', 'epoch-002.json'))],
  );
  const summary = await json(join(result.runDir, 'summary.json'));
  const [ended] = params('ternary/runEnded');
  assert.equal(ended.status, 'completed');
  assert.deepEqual(ended.summary, summary);
  assert.deepEqual(result.summary, summary);
  assert.ok(existsSync(join(result.runDir, 'model', 'model.json')));

  // The same run through the read requests.
  const runs = await session.client.sendRequest(ListRunsRequest.type, { runsDirs: [join(ws.dir, 'runs')] });
  const listed = runs.find((r) => r.runDir === result.runDir);
  assert.equal(listed?.status, 'completed');
  assert.equal(listed?.epoch, 2);
  const history = await session.client.sendRequest(RunHistoryRequest.type, { runDir: result.runDir, histograms: true });
  assert.deepEqual(history.metrics, await jsonLines(join(result.runDir, 'metrics.jsonl')));
  assert.equal(history.histograms.length, 2);
  assert.deepEqual(history.summary, summary);
});

test('evaluate, stats, ternarize and export of real runs agree with the run files', async () => {
  const run: TrainResult = await session.client.sendRequest(TrainRequest.type, { configPath: ws.configPath, epochs: 1 });
  const summary = await json(join(run.runDir, 'summary.json'));
  const [layers] = await jsonLines(join(run.runDir, 'layers.jsonl'));

  // The final model on the test split is what the last epoch's validation measured.
  const evaluation = await session.client.sendRequest(EvaluateRequest.type, { target: run.runDir, configPath: ws.configPath });
  assert.equal(evaluation.examples, 32);
  assert.equal(evaluation.top1, summary.final.top1);
  assert.ok(Math.abs(evaluation.loss - summary.final.loss) < 1e-6, `${evaluation.loss} vs ${summary.final.loss}`);

  // Stats of the saved model = the stats recorded after the last epoch.
  const stats = await session.client.sendRequest(StatsRequest.type, { target: run.runDir });
  assert.deepEqual(stats.layers, layers.layers);
  assert.deepEqual(stats.summary, layers.summary);

  // Ternarize a float run's model; the answer describes the model written to outDir.
  const float: TrainResult = await session.client.sendRequest(TrainRequest.type, { configPath: ws.floatConfigPath, epochs: 1 });
  const outDir = join(ws.dir, 'ternarized');
  const ternarized = await session.client.sendRequest(TernarizeRequest.type, {
    modelPath: join(float.runDir, 'model', 'model.json'),
    outDir,
    tex: 2,
  });
  assert.equal(ternarized.outDir, outDir);
  // It says what it wrote, the sizes of files that exist (float32 latent weights, not the packed size).
  assert.deepEqual(
    ternarized.files,
    ['model.json', 'weights.bin'].map((f) => ({ path: f, bytes: statSync(join(outDir, f)).size })),
  );
  assert.ok(ternarized.files[1].bytes >= 4 * ternarized.summary.params);
  const restated = await session.client.sendRequest(StatsRequest.type, { target: join(outDir, 'model.json') });
  assert.deepEqual(restated.layers, ternarized.layers);
  assert.equal(ternarized.summary.ternaryLayers, 4);
  assert.ok(ternarized.layers.every((l) => l.branches.length === 2));

  const exported = await session.client.sendRequest(ExportRequest.type, { runDir: run.runDir, outDir: join(ws.dir, 'export') });
  for (const file of ['metrics.csv', 'layers.csv', 'report.md', 'model.onnx', 'model.tern', 'tfjs/model.json', 'tfjs/weights.bin']) {
    assert.ok(exported.files.includes(file), `${file} in ${exported.files.join(', ')}`);
    assert.ok(existsSync(join(ws.dir, 'export', file)));
  }
  // The parity check ran on the experiment's test images, every exported file within tolerance.
  assert.match(exported.model?.parity?.inputs ?? '', /^first 32 test images of /);
  assert.deepEqual(
    exported.model?.parity?.results.map((r) => [r.file, r.ok, r.top1Agreement]),
    [
      ['model.onnx', true, 1],
      ['tfjs/', true, 1],
      ['model.tern', true, 1],
    ],
  );
  const missing = await rejection(session.client.sendRequest(StatsRequest.type, { target: join(ws.dir, 'nope', 'model.json') }));
  assert.equal(missing.code, TernaryErrorCodes.NotFound);

  // A model that is not a run exports too (the exported model.tern): the model files and report.md.
  const again = await session.client.sendRequest(ExportRequest.type, {
    modelPath: join(ws.dir, 'export', 'model.tern'),
    outDir: join(ws.dir, 'export-of-tern'),
  });
  assert.deepEqual(
    again.model?.parity?.results.map((r) => [r.file, r.ok]),
    [
      ['model.onnx', true],
      ['tfjs/', true],
      ['model.tern', true],
    ],
  );
  for (const file of ['model.onnx', 'model.tern', 'tfjs/model.json', 'report.md']) assert.ok(again.files.includes(file), file);
  assert.ok(!again.files.includes('metrics.csv'), 'no run files for a model');
  for (const params of [{}, { runDir: run.runDir, modelPath: join(ws.dir, 'export', 'model.tern') }]) {
    const refused = await rejection(session.client.sendRequest(ExportRequest.type, { ...params, outDir: join(ws.dir, 'x') }));
    assert.equal(refused.code, -32602);
    assert.match(refused.message, /exactly one of "runDir" .* and "modelPath"/);
  }
  const noModel = await rejection(
    session.client.sendRequest(ExportRequest.type, { modelPath: join(ws.dir, 'nope.tern'), outDir: join(ws.dir, 'x') }),
  );
  assert.equal(noModel.code, TernaryErrorCodes.NotFound);
});

test('cancel mid-run: the run ends as cancelled, its checkpoint stays; a queued run then goes', async () => {
  const from = session.events.events.length;
  const long = session.client.sendRequest(TrainRequest.type, { configPath: ws.configPath, epochs: 200 });
  const started = await session.events.waitFor('ternary/runStarted', () => true, 30_000, from);
  // After epoch 1's histograms the trainer writes its checkpoint before the next batch.
  await session.events.waitFor('ternary/histograms', (p) => p.runId === started.runId, 30_000, from);
  const queuedRun = session.client.sendRequest(TrainRequest.type, { configPath: ws.configPath, epochs: 1 });
  const queued = await session.events.waitFor('ternary/queued', () => true, 10_000, from);
  assert.equal(queued.position, 1);
  assert.deepEqual(await session.client.sendRequest(CancelRequest.type, { runId: started.runId }), { cancelled: true });
  const cancelled = await withTimeout(long, 30_000, () => 'the cancelled run did not answer');
  assert.equal(cancelled.summary.status, 'cancelled');
  assert.ok(cancelled.summary.epochs >= 1 && cancelled.summary.epochs < 200, `epochs ${cancelled.summary.epochs}`);
  assert.match(cancelled.summary.reason ?? '', /Cancelled/);
  assert.equal((await json(join(cancelled.runDir, 'summary.json'))).status, 'cancelled');
  assert.ok(existsSync(join(cancelled.runDir, 'checkpoints', 'last')), 'the last checkpoint stays');
  const ended = await session.events.waitFor('ternary/runEnded', (p) => p.runId === started.runId, 10_000, from);
  assert.equal(ended.status, 'cancelled');
  const next = await withTimeout(queuedRun, 60_000, () => 'the queued run did not run');
  assert.equal(next.summary.status, 'completed');
  assert.equal(next.summary.epochs, 1);
});

test('a bad config names the property; missing data names the folder; the server keeps serving', async () => {
  const bad = await rejection(session.client.sendRequest(TrainRequest.type, { configPath: ws.badConfigPath }));
  assert.equal(bad.code, TernaryErrorCodes.InvalidConfig);
  assert.equal(bad.data.path, ws.badConfigPath);
  assert.equal(bad.data.property, 'experiments[0].train.lr');
  assert.equal(typeof bad.data.line, 'number');
  const noData = await rejection(session.client.sendRequest(TrainRequest.type, { configPath: ws.missingDataConfigPath }));
  assert.equal(noData.code, TernaryErrorCodes.BadData);
  assert.match(noData.data.file, /no-such-folder/);
  const missingRun = await rejection(session.client.sendRequest(RunHistoryRequest.type, { runDir: join(ws.dir, 'runs', 'nope') }));
  assert.equal(missingRun.code, TernaryErrorCodes.NotFound);
  const stats = await session.client.sendRequest(ServerStatsRequest.type, {});
  assert.equal(stats.running, undefined);
});

test('a loss that becomes NaN/Infinity ends the run as failed, with the reason, in runEnded and the answer', async () => {
  const from = session.events.events.length;
  const result: TrainResult = await session.client.sendRequest(TrainRequest.type, { configPath: ws.divergingConfigPath });
  assert.equal(result.summary.status, 'failed');
  assert.match(result.summary.reason ?? '', /Training loss became (NaN|Infinity)/);
  const ended = await session.events.waitFor('ternary/runEnded', (p) => p.runId === result.summary.runId, 10_000, from);
  assert.equal(ended.status, 'failed');
  assert.equal(ended.reason, result.summary.reason);
  assert.deepEqual(ended.summary, await json(join(result.runDir, 'summary.json')));
});

test('tensors return to their count after each of three consecutive runs (and after the jobs above)', async () => {
  const baseline = (await session.client.sendRequest(ServerStatsRequest.type, {})).numTensors;
  assert.equal(baseline, tf.memory().numTensors);
  // Cancelled, failed and refused runs, evaluate, stats, ternarize and export left nothing behind.
  assert.equal(baseline, tensorsAfterFirstRun);
  for (let i = 0; i < 3; i++) {
    const result = await session.client.sendRequest(TrainRequest.type, { configPath: ws.configPath, epochs: 1 });
    assert.equal(result.summary.status, 'completed');
    const after = (await session.client.sendRequest(ServerStatsRequest.type, {})).numTensors;
    assert.equal(after, baseline, `run ${i + 1} left ${after - baseline} tensors`);
  }
});
