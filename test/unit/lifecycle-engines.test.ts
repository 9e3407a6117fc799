/**
 * The run lifecycle (server/runs/lifecycle.ts), one table run against both engines (tfjs on wasm;
 * torch on the CPU with one process, skipped without PyTorch), through `tern train` and through
 * the training server:
 *  - while a run trains it is listed as running, and a second writer is refused (CLI and server);
 *  - kill -9 of the process group mid-epoch: the run lists as crashed and resumable, and
 *    `--resume` ends with the records of an uninterrupted run, equal to the last bit;
 *  - cancel leaves a resumable run;
 *  - a damaged config.json is the same error on both engines.
 * Tiny data (8×8 images), a few epochs; every wait is on a condition.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listRuns, readRunInfo } from '../../server/runs';
import { realJobs } from '../../server/rpc/realJobs';
import { readLock } from '../../server/runs/runLock';
import { CancelRequest, ListRunsRequest, TrainRequest, type TrainResult } from '../../shared/protocol';
import type { MetricsRecord } from '../../shared/runRecords';
import { tern } from '../shared/ternCli';
import { torchPython } from '../shared/torchPython';
import { startInMemory, withTimeout } from './protocol-harness';
import { CLASSES, writeSplit } from './trainFixture';

const ROOT = join(__dirname, '..', '..');
const EPOCHS = 5;
const work = mkdtempSync(join(tmpdir(), 'tern-lifecycle-'));
const configPath = join(work, 'life.tern.json');
const runsDir = join(work, 'runs');
mkdirSync(join(work, 'data'));
// 32 steps an epoch: a run is caught mid-epoch, not between two runs.
writeSplit(join(work, 'data'), 'train', 512, 1);
writeSplit(join(work, 'data'), 't10k', 64, 2);
const experiment = (engine: string) => ({
  name: `life-${engine}`,
  engine,
  model: { arch: 'fmnist-cnn', classes: CLASSES },
  data: { format: 'idx', path: 'data', normalize: { mean: [0.4], std: [0.3] }, augment: ['crop8pad1'] },
  train: { epochs: EPOCHS, batchSize: 16, optimizer: 'sgd', lr: 0.05, momentum: 0.9, schedule: [2], gammas: [0.5], seed: 5 },
});
writeFileSync(configPath, JSON.stringify({ experiments: [experiment('tfjs'), experiment('torch')] }));
test.after(() => rmSync(work, { recursive: true, force: true }));

const trainArgs = (engine: string) => ['train', configPath, '--experiment', `life-${engine}`, '--backend', 'wasm'];

/** Waits for `condition` to hold, checking every few milliseconds; fails after `timeoutMs`. */
async function until<T>(what: string, condition: () => T | undefined, timeoutMs = 120_000): Promise<T> {
  return withTimeout(
    new Promise<T>((resolve) => {
      const check = () => {
        const value = condition();
        if (value !== undefined && value !== false) resolve(value);
        else setTimeout(check, 5);
      };
      check();
    }),
    timeoutMs,
    () => what,
  );
}

function records(runDir: string): MetricsRecord[] {
  const path = join(runDir, 'metrics.jsonl');
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as MetricsRecord];
      } catch {
        return [];
      }
    });
}

/** What must equal an uninterrupted run: every record without its clock readings. */
function results(runDir: string): unknown {
  const metrics = records(runDir).map(({ time: _time, imgPerSec: _speed, ...rest }) => rest);
  const layers = readFileSync(join(runDir, 'layers.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  return { metrics, layers };
}

/** The newest run folder of an experiment. */
function newestRun(engine: string): string | undefined {
  const dir = join(runsDir, `life-${engine}`);
  const ids = existsSync(dir) ? readdirSync(dir).sort() : [];
  return ids.length ? join(dir, ids[ids.length - 1]!) : undefined;
}

/** `tern ARGS` in its own process group (as a terminal runs it), for kill -9 of the whole group. */
function ternInGroup(args: string[]): { child: ChildProcess; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'server', 'cli', 'main.ts'), ...args], {
    cwd: ROOT,
    detached: true,
    stdio: 'ignore',
  });
  return { child, exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))) };
}

/** Processes whose command line mentions `runDir` (the torch ranks, torchrun), gone or not. */
function processesOf(runDir: string): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => {
      try {
        return readFileSync(`/proc/${e}/cmdline`, 'utf8').includes(runDir);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** The damaged-config.json message of each engine, with the run folder's path taken out. */
const damagedMessages = new Map<string, string>();

for (const engine of ['tfjs', 'torch'] as const) {
  test(`run lifecycle on the ${engine} engine`, async (t) => {
    if (engine === 'torch') {
      const found = await torchPython();
      if (!found.python) return t.skip(found.skip);
    }
    let interrupted = '';

    await t.test('CLI: running while it trains, a second writer refused; kill -9 of the group → crashed and resumable', async () => {
      const first = ternInGroup(trainArgs(engine));
      const runDir = await until('a batch record of epoch 2', () => {
        const dir = newestRun(engine);
        return dir && records(dir).some((r) => r.epoch >= 2) ? dir : undefined;
      });
      // Frozen in place (the torch ranks wait for the lifecycle's reply at the epoch's end).
      process.kill(-first.child.pid!, 'SIGSTOP');
      interrupted = runDir;
      assert.equal((await listRuns([runsDir])).find((r) => r.runDir === runDir)?.status, 'running');
      const second = await tern('train', '--resume', runDir, '--backend', 'wasm');
      assert.equal(second.code, 1, second.err);
      assert.match(second.err, new RegExp(`is being written by process ${first.child.pid} .*only one process may train a run`));

      process.kill(-first.child.pid!, 'SIGKILL');
      await first.exited;
      // Nothing of the killed run keeps computing (torch: the ranks see the lifecycle gone).
      await until('the killed run has no processes left', () => processesOf(runDir).length === 0 || undefined);
      const info = await readRunInfo(runDir);
      assert.equal(info?.status, 'crashed');
      assert.equal(info?.resumable, true);
    });

    await t.test('CLI: --resume ends with the records of an uninterrupted run, to the last bit', async () => {
      const resumed = await tern('train', '--resume', interrupted, '--backend', 'wasm');
      assert.equal(resumed.code, 0, resumed.err);
      const whole = await tern(...trainArgs(engine));
      assert.equal(whole.code, 0, whole.err);
      const uninterrupted = newestRun(engine)!;
      assert.notEqual(uninterrupted, interrupted);
      assert.deepEqual(results(interrupted), results(uninterrupted));
      assert.deepEqual(
        records(interrupted)
          .filter((r) => r.kind === 'epoch')
          .map((r) => r.epoch),
        [1, 2, 3, 4, 5],
      );
      assert.equal((await readRunInfo(interrupted))?.status, 'completed');

      writeFileSync(join(uninterrupted, 'config.json'), '{"runId": "20260101-000000-abcd", "experi');
      const damaged = await tern('train', '--resume', uninterrupted, '--backend', 'wasm');
      assert.equal(damaged.code, 1);
      assert.match(damaged.err, /config\.json is damaged \(.*\); the run cannot be resumed without it: start a new run\./);
      damagedMessages.set(engine, damaged.err.split(uninterrupted).join('<run>'));
    });

    await t.test('server: running while it trains, a second writer refused; cancel → resumable', async () => {
      const session = await startInMemory(realJobs(), { backend: 'wasm', metricsRate: 1000 });
      try {
        const from = session.events.events.length;
        const training: Promise<TrainResult> = session.client.sendRequest(TrainRequest.type, {
          configPath,
          experiment: `life-${engine}`,
          epochs: 200,
        });
        const started = await session.events.waitFor('ternary/runStarted', () => true, 120_000, from);
        await session.events.waitFor(
          'ternary/metrics',
          (p: { records: MetricsRecord[] }) => p.records.some((r) => r.epoch >= 2),
          120_000,
          from,
        );
        const listed = await session.client.sendRequest(ListRunsRequest.type, { runsDirs: [runsDir] });
        assert.equal(listed.find((r) => r.runDir === started.runDir)?.status, 'running');
        // The run is a process of its own (server/rpc/detachedTrain.ts), not the server's.
        const holder = readLock(started.runDir)?.holder;
        assert.ok(holder && holder.pid !== process.pid, 'the run is held by a process of its own');
        const second = await tern('train', '--resume', started.runDir, '--backend', 'wasm');
        assert.equal(second.code, 1, second.err);
        assert.match(second.err, new RegExp(`is being written by process ${holder.pid} .*only one process may train a run`));

        assert.deepEqual(await session.client.sendRequest(CancelRequest.type, { runId: started.runId }), { cancelled: true });
        const cancelled = await withTimeout(training, 120_000, () => 'the cancelled run did not answer');
        assert.equal(cancelled.summary.status, 'cancelled', cancelled.summary.reason);
        const after = (await session.client.sendRequest(ListRunsRequest.type, { runsDirs: [runsDir] })).find(
          (r) => r.runDir === started.runDir,
        );
        assert.equal(after?.status, 'cancelled');
        assert.equal(after?.resumable, true);
      } finally {
        session.close();
        // A run is a process of its own: one left training by a failed assertion is ended here.
        for (const run of await listRuns([runsDir])) {
          const holder = run.status === 'running' ? readLock(run.runDir)?.holder : undefined;
          if (holder && holder.pid !== process.pid) process.kill(holder.pid, 'SIGKILL');
        }
      }
    });
  });
}

test('a damaged config.json is the same error on both engines', (t) => {
  if (damagedMessages.size < 2) return t.skip('needs both engines (the torch engine was skipped)');
  assert.equal(damagedMessages.get('torch'), damagedMessages.get('tfjs'));
});
