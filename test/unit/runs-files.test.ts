import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultRunsDir, listRuns, readRunHistory } from '../../server/runs';
import { DEFAULT_RUNS_FOLDER } from '../../shared/runsFolder';

function makeRun(root: string, experiment: string, runId: string, opts: { summary?: object; epochs: number; startedAt: string }): string {
  const dir = join(root, experiment, runId);
  mkdirSync(join(dir, 'histograms'), { recursive: true });
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({
      runId,
      experiment: { name: experiment, train: { epochs: opts.epochs } },
      backend: 'cpu',
      threads: 1,
      versions: {},
      seed: 1,
      startedAt: opts.startedAt,
    }),
  );
  if (opts.summary) writeFileSync(join(dir, 'summary.json'), JSON.stringify(opts.summary));
  return dir;
}

test('listRuns: finished and running runs, newest first; non-runs and missing roots ignored', async () => {
  const root = mkdtempSync(join(tmpdir(), 'tern-runs-'));
  makeRun(root, 'a', '20260101-000000-aaaa', {
    epochs: 3,
    startedAt: '2026-01-01T00:00:00Z',
    summary: { status: 'completed', epochs: 3, best: { top1: 0.9, top5: 1, loss: 0.3, epoch: 2 } },
  });
  const running = makeRun(root, 'b', '20260102-000000-bbbb', { epochs: 5, startedAt: '2026-01-02T00:00:00Z' });
  appendFileSync(
    join(running, 'metrics.jsonl'),
    JSON.stringify({ kind: 'batch', epoch: 1, step: 1, lr: 0.1, loss: 2, top1: 0.1, time: 1 }) + '\n',
  );
  appendFileSync(
    join(running, 'metrics.jsonl'),
    JSON.stringify({ kind: 'epoch', epoch: 1, step: 2, lr: 0.1, loss: 2, top1: 0.1, valTop1: 0.55, time: 2 }) + '\n',
  );
  appendFileSync(join(running, 'metrics.jsonl'), '{"kind":"batch","epo'); // torn line, being written
  // Held by a live process (this one), as a training run holds its folder's lock.
  writeFileSync(join(running, '.lock'), JSON.stringify({ pid: process.pid, host: hostname(), startedAt: '2026-01-02T00:00:00Z' }));
  mkdirSync(join(root, 'a', 'not-a-run'), { recursive: true });
  const runs = await listRuns([root, join(root, 'missing')]);
  assert.deepEqual(
    runs.map((r) => [r.runId, r.experiment, r.status, r.epoch, r.epochs, r.bestTop1]),
    [
      ['20260102-000000-bbbb', 'b', 'running', 1, 5, 0.55],
      ['20260101-000000-aaaa', 'a', 'completed', 3, 3, 0.9],
    ],
  );
});

test('readRunHistory: records, partial last line skipped, histograms on request', async () => {
  const root = mkdtempSync(join(tmpdir(), 'tern-runs-'));
  const dir = makeRun(root, 'a', 'r1', { epochs: 2, startedAt: '2026-01-01T00:00:00Z' });
  writeFileSync(join(dir, 'metrics.jsonl'), '{"kind":"epoch","epoch":1,"step":3,"lr":0.1,"loss":1,"top1":0.5,"time":1}\n{"kind":"ep');
  writeFileSync(join(dir, 'layers.jsonl'), '{"epoch":1,"layers":[],"summary":{}}\n');
  writeFileSync(join(dir, 'histograms', 'epoch-001.json'), '{"epoch":1,"histograms":[]}');
  writeFileSync(join(dir, 'histograms', 'epoch-002.json'), '{"epoch":2,"histograms":[]}');
  const without = await readRunHistory(dir);
  assert.equal(without.metrics.length, 1);
  assert.equal(without.metrics[0]!.top1, 0.5);
  assert.equal(without.layers.length, 1);
  assert.equal(without.histograms.length, 0);
  assert.equal(without.summary, undefined);
  assert.equal(without.config?.runId, 'r1');
  const withHist = await readRunHistory(dir, { histograms: true });
  assert.deepEqual(
    withHist.histograms.map((h) => h.epoch),
    [1, 2],
  );
});

test('the runs/ default is one: the ternary.runsFolder setting, tern train and ternary/train agree', () => {
  const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as {
    contributes: {
      configuration: { properties: Record<string, { default?: unknown }> } | { properties: Record<string, { default?: unknown }> }[];
    };
  };
  const sections = Array.isArray(manifest.contributes.configuration)
    ? manifest.contributes.configuration
    : [manifest.contributes.configuration];
  const setting = sections.map((c) => c.properties['ternary.runsFolder']).find(Boolean);
  assert.equal(setting?.default, DEFAULT_RUNS_FOLDER);
  assert.equal(defaultRunsDir('/w/exp/a.tern.json'), join('/w/exp', DEFAULT_RUNS_FOLDER));
});
