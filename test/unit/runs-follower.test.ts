/**
 * Following a run from its folder (server/runs/runFollower.ts, server/rpc/liveRuns.ts): a run
 * this test writes record by record (a torn line waits for its end; the run ends with its
 * summary; a dead writer ends it as crashed), and through the training server a run that
 * `tern train` trains in a process of its own: it appears as the notifications of a run the
 * server trains, holds the queue while it lives, and `ternary/cancel` with its run id stops it
 * with a signal (cancelled, with its checkpoint).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { followRun } from '../../server/runs/runFollower';
import { acquireRunLock } from '../../server/runs/runLock';
import { realJobs } from '../../server/rpc/realJobs';
import { CancelRequest, FollowRunsRequest, TrainRequest, type TrainResult } from '../../shared/protocol';
import type { MetricsRecord, RunSummary } from '../../shared/runRecords';
import { startInMemory, withTimeout, writeTinyWorkspace, type TinyWorkspace } from './protocol-harness';

const ROOT = join(__dirname, '..', '..');
let dir: string;
let ws: TinyWorkspace;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tern-follow-'));
  ws = await writeTinyWorkspace(join(dir, 'ws'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const batch = (epoch: number, step: number, progress: number): MetricsRecord => ({
  kind: 'batch',
  epoch,
  step,
  progress,
  lr: 0.1,
  loss: 1,
  top1: 0.5,
  time: step,
});
const summary = (status: RunSummary['status'], epochs: number): RunSummary => ({
  runId: 'r1',
  experiment: 'e',
  status,
  epochs,
  final: { top1: 0.5, top5: 1, loss: 1 },
  best: { top1: 0.5, top5: 1, loss: 1, epoch: epochs },
  backend: 'cpu',
  fp32Bytes: 4,
  ternaryBytes: 1,
  compression: 4,
  wallSeconds: 1,
  stepsPerEpoch: 2,
});

/** A run folder as the lifecycle starts one: config.json, the lock (held by `pid`), a running summary. */
async function startedRun(name: string): Promise<string> {
  const runDir = join(dir, name);
  await mkdir(join(runDir, 'histograms'), { recursive: true });
  const experiment = { name: 'e', train: { epochs: 2 } };
  await writeFile(
    join(runDir, 'config.json'),
    JSON.stringify({ runId: 'r1', experiment, backend: 'cpu', threads: 1, versions: {}, seed: 1, startedAt: '' }),
  );
  return runDir;
}

/** Calls of a TrainListener, in order, with a wait for a count. */
function recorder() {
  const calls: { kind: string; value: any }[] = [];
  let wake = () => undefined as void;
  const push = (kind: string) => (value: any) => {
    calls.push({ kind, value });
    wake();
  };
  return {
    calls,
    listener: { onStart: push('start'), onMetrics: push('metrics'), onLayers: push('layers'), onHistograms: push('histograms') },
    async until(predicate: () => boolean): Promise<void> {
      while (!predicate())
        await withTimeout(new Promise<void>((resolve) => (wake = resolve)), 10_000, () => `calls so far: ${JSON.stringify(calls)}`);
    },
  };
}

test('a run written record by record: announced once training started, a torn line waits for its end, the summary ends it', async () => {
  const runDir = await startedRun('written');
  const lock = await acquireRunLock(runDir);
  const rec = recorder();
  const end = followRun(runDir, rec.listener, { pollMs: 50 });
  await writeFile(join(runDir, 'summary.json'), JSON.stringify(summary('running', 0)));
  await rec.until(() => rec.calls.length === 1);
  assert.deepEqual(rec.calls[0], {
    kind: 'start',
    value: { runId: 'r1', runDir, experiment: 'e', epochs: 2, epoch: 0, stepsPerEpoch: 2, backend: 'cpu' },
  });

  const metrics = join(runDir, 'metrics.jsonl');
  const line = JSON.stringify(batch(1, 1, 0.5));
  await appendFile(metrics, line.slice(0, 20));
  await appendFile(metrics, line.slice(20) + '\n' + JSON.stringify(batch(1, 2, 1)).slice(0, 10));
  await rec.until(() => rec.calls.length === 2);
  assert.deepEqual(rec.calls[1], { kind: 'metrics', value: batch(1, 1, 0.5) });

  const epoch: MetricsRecord = { ...batch(1, 2, 1), kind: 'epoch', valTop1: 0.5 };
  await appendFile(metrics, JSON.stringify(batch(1, 2, 1)).slice(10) + '\n' + JSON.stringify(epoch) + '\n');
  await appendFile(join(runDir, 'layers.jsonl'), JSON.stringify({ epoch: 1, layers: [], summary: {} }) + '\n');
  await writeFile(join(runDir, 'histograms', 'epoch-001.json'), JSON.stringify({ epoch: 1, histograms: [] }));
  await writeFile(join(runDir, 'summary.json'), JSON.stringify(summary('completed', 1)));
  await lock.release();
  const ended = await withTimeout(end, 10_000, () => 'the follower did not end');
  assert.equal(ended?.summary.status, 'completed');
  assert.deepEqual(
    rec.calls.map((c) => c.kind),
    ['start', 'metrics', 'metrics', 'metrics', 'layers', 'histograms'],
  );
  assert.deepEqual(rec.calls[3]!.value, epoch);
});

test('a new run that ends between the summary read and the lock check is still announced and passed on in full', async () => {
  const runDir = await startedRun('raced');
  await writeFile(join(runDir, 'summary.json'), JSON.stringify(summary('running', 0)));
  await appendFile(join(runDir, 'metrics.jsonl'), JSON.stringify(batch(1, 1, 0.5)) + '\n');
  const rec = recorder();
  // The writer's lock is already gone when the follower looks (no .lock), and asking whether its
  // process is still starting is the moment it writes its final summary and exits.
  let exited = false;
  const starting = (): boolean => {
    if (!exited) {
      exited = true;
      writeFileSync(join(runDir, 'summary.json'), JSON.stringify(summary('completed', 1)));
    }
    return false;
  };
  const ended = await withTimeout(
    followRun(runDir, rec.listener, { pollMs: 50, replay: true, writer: { pid: process.pid, starting } }),
    10_000,
    () => 'the follower did not end',
  );
  assert.equal(ended?.started, true);
  assert.equal(ended?.summary.status, 'completed');
  assert.deepEqual(
    rec.calls.map((c) => c.kind),
    ['start', 'metrics'],
  );
});

test('a run whose writer died while it said running ends as crashed', async () => {
  const runDir = await startedRun('crashed');
  const dead = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => dead.on('exit', resolve));
  await writeFile(join(runDir, 'summary.json'), JSON.stringify(summary('running', 0)));
  await writeFile(join(runDir, '.lock'), JSON.stringify({ pid: process.pid, host: hostname(), startedAt: new Date(0).toISOString() }));
  const rec = recorder();
  const end = followRun(runDir, rec.listener, { pollMs: 50 });
  await rec.until(() => rec.calls.length === 1);
  await writeFile(join(runDir, '.lock'), JSON.stringify({ pid: dead.pid, host: hostname(), startedAt: new Date(0).toISOString() }));
  const ended = await withTimeout(end, 10_000, () => 'the follower did not end');
  assert.equal(ended?.summary.status, 'crashed');
});

test('a run tern train trains in a process of its own: followed live, it holds the queue, ternary/cancel stops it by a signal', async () => {
  const session = await startInMemory(realJobs(), { backend: 'wasm', metricsRate: 1000 });
  try {
    const runsDir = join(ws.dir, 'runs');
    // As in a terminal: its own process group, its output not ours.
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(ROOT, 'server', 'cli', 'main.ts'),
        'train',
        ws.configPath,
        '--epochs',
        '40',
        '--backend',
        'wasm',
        '--threads',
        '1',
      ],
      { cwd: ROOT, detached: true, stdio: 'ignore' },
    );
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const { following } = await session.client.sendRequest(FollowRunsRequest.type, { runsDirs: [runsDir] });
    assert.ok(following.length <= 1);
    const started = await session.events.waitFor('ternary/runStarted', () => true, 60_000);
    assert.equal(started.configPath, ws.configPath);
    assert.equal(started.stepsPerEpoch, 4);
    await session.events.waitFor('ternary/layerStats', (p) => p.runId === started.runId, 60_000);
    await session.events.waitFor('ternary/histograms', (p) => p.runId === started.runId, 60_000);

    // The live run is the queue's running job: a train request waits behind it.
    const from = session.events.events.length;
    const queued = session.client.sendRequest(TrainRequest.type, { configPath: ws.floatConfigPath });
    const position = await session.events.waitFor('ternary/queued', () => true, 10_000, from);
    assert.equal(position.position, 1);

    const { cancelled } = await session.client.sendRequest(CancelRequest.type, { runId: started.runId });
    assert.equal(cancelled, true);
    const ended = await session.events.waitFor('ternary/runEnded', (p) => p.runId === started.runId, 60_000);
    assert.equal(ended.status, 'cancelled');
    assert.equal(await exited, 130);
    const onDisk = JSON.parse(await readFile(join(started.runDir, 'summary.json'), 'utf8')) as RunSummary;
    assert.deepEqual(ended.summary, onDisk);
    assert.ok(onDisk.epochs >= 1);
    assert.ok(existsSync(join(started.runDir, 'checkpoints', 'last')));
    const metrics = session.events
      .of('ternary/metrics')
      .filter((p) => p.runId === started.runId)
      .flatMap((p) => p.records);
    // From the epoch it was found in (what came before is its history, ternary/runHistory) to its last.
    const epochs = metrics.filter((r: MetricsRecord) => r.kind === 'epoch').map((r: MetricsRecord) => r.epoch);
    assert.ok(epochs.length >= 1);
    assert.deepEqual(
      epochs,
      Array.from({ length: epochs.length }, (_, i) => onDisk.epochs - epochs.length + 1 + i),
    );

    const result: TrainResult = await queued;
    assert.equal(result.summary.status, 'completed');

    // Resumed through the server: the run goes on from its checkpoint; its standing, then its new epochs.
    const before = session.events.events.length;
    const resumed: TrainResult = await session.client.sendRequest(TrainRequest.type, {
      configPath: ws.configPath,
      resumeDir: started.runDir,
      epochs: onDisk.epochs + 1,
    });
    assert.equal(resumed.summary.status, 'completed');
    assert.equal(resumed.summary.epochs, onDisk.epochs + 1);
    const after = session.events.events
      .slice(before)
      .filter((e) => e.method === 'ternary/metrics' && e.params.runId === started.runId)
      .flatMap((e) => e.params.records as MetricsRecord[])
      .filter((r) => r.kind === 'epoch')
      .map((r) => r.epoch);
    assert.deepEqual(after, [onDisk.epochs, onDisk.epochs + 1]);
  } finally {
    session.close();
  }
});

test('a run the server started outlives the server (window reload); the next server follows it until it is stopped', async () => {
  const first = await startInMemory(realJobs(), { backend: 'wasm', metricsRate: 1000 });
  // Long enough to be training still when the next server looks, however busy the machine.
  const answer = first.client.sendRequest(TrainRequest.type, { configPath: ws.configPath, epochs: 1000 });
  answer.catch(() => undefined);
  const started = await first.events.waitFor('ternary/runStarted', () => true, 60_000);
  await first.events.waitFor('ternary/layerStats', (p) => p.runId === started.runId, 60_000);
  first.close();

  const second = await startInMemory(realJobs(), { backend: 'wasm', metricsRate: 1000 });
  try {
    await second.client.sendRequest(FollowRunsRequest.type, { runsDirs: [join(ws.dir, 'runs')] });
    const again = await second.events.waitFor('ternary/runStarted', () => true, 60_000);
    assert.equal(again.runDir, started.runDir);
    const { cancelled } = await second.client.sendRequest(CancelRequest.type, { runId: started.runId });
    assert.equal(cancelled, true);
    const ended = await second.events.waitFor('ternary/runEnded', (p) => p.runId === started.runId, 120_000);
    assert.equal(ended.status, 'cancelled');
    const onDisk = JSON.parse(await readFile(join(started.runDir, 'summary.json'), 'utf8')) as RunSummary;
    assert.deepEqual(ended.summary, onDisk);
    assert.ok(onDisk.epochs >= 1 && onDisk.epochs < 1000);
  } finally {
    second.close();
  }
});
