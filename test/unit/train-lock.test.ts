/**
 * One writer per run folder, and runs whose process died are reported as crashed and resumable
 * instead of running forever.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRunInfo } from '../../server/runs';
import { toResponseError } from '../../server/rpc/errors';
import { TernaryErrorCodes } from '../../shared/protocol';
import { trainWithEngine as train } from '../../server/engines/dispatch';
import type { MetricsRecord, RunSummary } from '../../shared/runRecords';
import { setup, useWasm, userErrorMessage } from './trainFixture';

const backend = { name: 'wasm', threads: 1 };

/** The pid of a process that has exited (pids are not reused that fast). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

test('a second writer of a run (a second --resume while it trains) is refused, naming the process; the first is not disturbed', async () => {
  await useWasm();
  const fixture = setup();
  const first = await train({ ...fixture, epochs: 1, backend });
  let refusal: unknown;
  let secondTried = false;
  const resumed = await train({
    ...fixture,
    resumeDir: first.runDir,
    epochs: 3,
    backend,
    listener: {
      onMetrics: (r: MetricsRecord) => {
        if (secondTried || r.kind !== 'batch' || r.epoch !== 2) return;
        secondTried = true;
        void train({ ...fixture, resumeDir: first.runDir, epochs: 3, backend }).then(
          () => {
            refusal = 'it ran';
          },
          (err: unknown) => {
            refusal = err;
          },
        );
      },
    },
  });
  assert.equal(resumed.summary.status, 'completed');
  assert.ok(secondTried);
  const message = userErrorMessage(refusal);
  assert.ok(message, `the second writer was not refused as a user error: ${String(refusal)}`);
  assert.match(message, new RegExp(`is being written by process ${process.pid} on ${hostname()} .*only one process may train a run`));
  assert.equal(toResponseError(refusal).code, TernaryErrorCodes.RunLocked);
  // metrics.jsonl holds one run: each epoch line once, in order.
  const epochs = readFileSync(join(first.runDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as MetricsRecord)
    .filter((r) => r.kind === 'epoch')
    .map((r) => r.epoch);
  assert.deepEqual(epochs, [1, 2, 3]);
});

/** A run folder as a trainer leaves it, with summary status `status` and the lock `lock`. */
function runFolder(status: RunSummary['status'], lock?: { pid: number; host: string; ageMs?: number }, checkpoint = true): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'tern-lock-')), 'runs', 'tiny', '20260101-000000-abcd');
  mkdirSync(join(dir, 'checkpoints', 'last'), { recursive: true });
  if (checkpoint) writeFileSync(join(dir, 'checkpoints', 'last', 'checkpoint.json'), '{}');
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({
      runId: '20260101-000000-abcd',
      experiment: { name: 'tiny', train: { epochs: 3 } },
      startedAt: '2026-01-01T00:00:00Z',
    }),
  );
  writeFileSync(join(dir, 'summary.json'), JSON.stringify({ runId: 'x', experiment: 'tiny', status, epochs: 1, best: { top1: 0.5 } }));
  if (lock) {
    writeFileSync(join(dir, '.lock'), JSON.stringify({ pid: lock.pid, host: lock.host, startedAt: '2026-01-01T00:00:00Z' }));
    const t = (Date.now() - (lock.ageMs ?? 0)) / 1000;
    utimesSync(join(dir, '.lock'), t, t);
  }
  return dir;
}

test('a run whose process died is listed as crashed and resumable, not running forever', async () => {
  const dead = await readRunInfo(runFolder('running', { pid: deadPid(), host: hostname() }));
  assert.equal(dead?.status, 'crashed');
  assert.equal(dead?.resumable, true);
  // No lock at all (killed before a version with locks, or the lock was deleted).
  assert.equal((await readRunInfo(runFolder('running')))?.status, 'crashed');
  // Another host's lock: alive while its heartbeat is fresh, crashed once it is stale.
  assert.equal((await readRunInfo(runFolder('running', { pid: 1, host: 'elsewhere', ageMs: 1000 })))?.status, 'running');
  assert.equal((await readRunInfo(runFolder('running', { pid: 1, host: 'elsewhere', ageMs: 3_600_000 })))?.status, 'crashed');
  // A live holder: running, not resumable.
  const live = await readRunInfo(runFolder('running', { pid: process.pid, host: hostname() }));
  assert.equal(live?.status, 'running');
  assert.equal(live?.resumable, undefined);
  // Cancelled with a checkpoint: resumable; crashed before any checkpoint: not.
  assert.equal((await readRunInfo(runFolder('cancelled')))?.resumable, true);
  assert.equal((await readRunInfo(runFolder('running', undefined, false)))?.resumable, undefined);
});

test("resuming a crashed run takes over the dead process's lock", async () => {
  await useWasm();
  const fixture = setup();
  const first = await train({ ...fixture, epochs: 1, backend });
  writeFileSync(join(first.runDir, '.lock'), JSON.stringify({ pid: deadPid(), host: hostname(), startedAt: '2026-01-01T00:00:00Z' }));
  const resumed = await train({ ...fixture, resumeDir: first.runDir, epochs: 2, backend });
  assert.equal(resumed.summary.status, 'completed');
  assert.equal((await readRunInfo(first.runDir))?.status, 'completed');
});
