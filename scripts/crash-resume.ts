/**
 * kill -9 at every checkpoint-commit point of a 3-epoch run, twice in a row at the same point,
 * then `--resume`: the run must resume from the newest intact checkpoint and end with the same
 * metrics as an uninterrupted run. Uses the bundled CLI (`node esbuild.mjs`
 * first) on a tiny synthetic workspace, the wasm backend with one thread (bit-for-bit
 * reproducible), and the test-only hook TERN_FAULT_KILL_AT=<point>@<n> of
 * server/runs/faultInjection.ts, which SIGKILLs the process the n-th time it reaches <point>.
 *
 * For each point and each epoch n it reaches it in: session 1 is killed there; session 2
 * (`--resume`) is killed at the same point the first time it reaches it; session 3 (`--resume`)
 * must complete with the reference's epoch metrics. A kill before the first checkpoint leaves
 * nothing to resume: then `--resume` must say so in one line (exit 1, no stack trace).
 *
 *   node esbuild.mjs && node --import tsx scripts/crash-resume.ts   # one JSON line per case, then a summary
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMMIT_POINTS } from '../server/runs/faultInjection';
import type { MetricsRecord, RunSummary } from '../shared/runRecords';
import { writeTinyWorkspace } from '../test/unit/protocol-harness';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'dist', 'cli.js');
const EPOCHS = 3;

function tern(args: string[], killAt?: string) {
  const env = { ...process.env, TERN_FAULT_KILL_AT: killAt ?? '' };
  const r = spawnSync(process.execPath, [cli, 'train', ...args, '--backend', 'wasm', '--threads', '1', '--json'], {
    env,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: r.status, signal: r.signal, stderr: r.stderr.trim() };
}

/** Epoch records without wall-clock fields, and the summary's metrics. */
function outcome(runDir: string) {
  const epochs = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as MetricsRecord)
    .filter((r) => r.kind === 'epoch')
    .map(({ time: _t, imgPerSec: _i, ...rest }) => rest);
  const summary = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as RunSummary;
  return { epochs, status: summary.status, final: summary.final, best: summary.best };
}

function onlyRun(runsDir: string): string {
  const dir = join(runsDir, 'tiny');
  const runs = readdirSync(dir);
  if (runs.length !== 1) throw new Error(`expected one run in ${dir}, found ${runs.length}`);
  return join(dir, runs[0]!);
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'tern-crash-'));
  const ws = await writeTinyWorkspace(work, EPOCHS);
  const refRuns = join(work, 'ref');
  const ref = tern([ws.configPath, '--runs-dir', refRuns]);
  if (ref.status !== 0) throw new Error(`the reference run failed: ${ref.stderr}`);
  const expected = JSON.stringify(outcome(onlyRun(refRuns)));
  let cases = 0;
  let passed = 0;
  const failures: unknown[] = [];
  for (const point of COMMIT_POINTS) {
    for (let hit = 1; hit <= EPOCHS; hit++) {
      const runsDir = join(work, `${point}-${hit}`);
      const first = tern([ws.configPath, '--runs-dir', runsDir], `${point}@${hit}`);
      if (first.signal !== 'SIGKILL') {
        // The point is reached fewer times than `hit` (model-committed once; best-committed only on improving epochs).
        rmSync(runsDir, { recursive: true, force: true });
        continue;
      }
      cases++;
      const runDir = onlyRun(runsDir);
      const second = tern(['--resume', runDir], `${point}@1`);
      const third = second.status === 1 ? second : tern(['--resume', runDir]);
      let result: Record<string, unknown>;
      if (third.status === 0) {
        const got = JSON.stringify(outcome(runDir));
        result = { point, epoch: hit, secondKill: second.signal === 'SIGKILL', resumed: true, sameAsUninterrupted: got === expected };
        if (got === expected) passed++;
        else failures.push({ point, hit, got: JSON.parse(got), expected: JSON.parse(expected) });
      } else {
        // Only honest when nothing was committed: a one-line message, no stack trace.
        const metrics = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8');
        const epochLines = metrics.split('\n').filter((l) => l.includes('"kind":"epoch"')).length;
        const honest =
          third.status === 1 &&
          !/\n\s+at /.test(third.stderr) &&
          (epochLines === 0
            ? /holds no checkpoint \(the run stopped before its first epoch ended\)/.test(third.stderr)
            : epochLines === 1 &&
              /holds no checkpoint \(the run stopped before the checkpoint of its first epoch was written\)/.test(third.stderr));
        result = { point, epoch: hit, resumed: false, refusedHonestly: honest, message: third.stderr };
        if (honest) passed++;
        else failures.push({ point, hit, stderr: third.stderr, signal: third.signal });
      }
      process.stdout.write(JSON.stringify(result) + '\n');
    }
  }
  process.stdout.write(JSON.stringify({ summary: true, cases, passed, failed: cases - passed, failures }) + '\n');
  rmSync(work, { recursive: true, force: true });
  process.exitCode = cases === passed ? 0 : 1;
}

void main();
