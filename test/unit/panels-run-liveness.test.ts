/**
 * A run whose summary.json still says `running` while no process holds its lock (killed, crashed)
 * is shown as crashed by the panels too, not only by the run list: the history the panel host
 * sends (extension/panels/historyMessage.ts) carries the server's judgement of the run's writer
 * (server/runs/runFiles.ts, runStatus), and the webview models keep it.
 */
import { planSweep } from '../../server/runs/sweep';
import { loadConfigFile, resolveExperiment } from '../../server/config/loadConfig';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { listRuns, readRunHistory } from '../../server/runs';
import { loadHistory } from '../../extension/panels/historyMessage';
import { RunIndex } from '../../extension/panels/runIndex';
import type { PanelDeps } from '../../extension/panels/deps';
import type { RunEventHub } from '../../extension/runEventHub';
import type { RunStartedParams } from '../../shared/protocol';
import { DashboardModel } from '../../webview/dashboard/state';
import { HistogramsModel } from '../../webview/histograms/state';

/** A run folder stopped mid-run: one epoch recorded, summary.json says running, a checkpoint, the lock of `pid`. */
function interruptedRun(root: string, runId: string, pid: number): string {
  const dir = join(root, 'exp', runId);
  mkdirSync(join(dir, 'checkpoints', 'last'), { recursive: true });
  writeFileSync(join(dir, 'checkpoints', 'last', 'checkpoint.json'), '{}');
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({ runId, experiment: { name: 'exp', train: { epochs: 3 } }, startedAt: `2026-01-0${runId.length}T00:00:00Z` }),
  );
  writeFileSync(
    join(dir, 'summary.json'),
    JSON.stringify({ runId, experiment: 'exp', status: 'running', epochs: 1, best: { top1: 0.5, top5: 0.9, loss: 1, epoch: 1 } }),
  );
  writeFileSync(
    join(dir, 'metrics.jsonl'),
    JSON.stringify({ kind: 'epoch', epoch: 1, step: 2, lr: 0.1, loss: 1, top1: 0.5, time: 1 }) + '\n',
  );
  writeFileSync(join(dir, '.lock'), JSON.stringify({ pid, host: hostname(), startedAt: '2026-01-01T00:00:00Z' }));
  return dir;
}

/** The pid of a process that has ended (and been reaped). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '']);
  assert.ok(child.pid);
  return child.pid;
}

/** The run index over a hub that knows no active run (the runs were not started by this window's server). */
function panelSide(root: string): { deps: PanelDeps; index: RunIndex } {
  const hub = { active: new Map<string, RunStartedParams>(), onRunStarted: () => ({ dispose() {} }) } as unknown as RunEventHub;
  const deps: PanelDeps = {
    listRuns: () => listRuns([root]),
    readHistory: (runDir, opts) => readRunHistory(runDir, opts),
    sweepPlan: async (configPath, experiment) => planSweep(resolveExperiment(await loadConfigFile(configPath), experiment), root),
  };
  return { deps, index: new RunIndex(hub, deps) };
}

test('a run whose writer died shows as crashed in the dashboard and the histograms panel; a live writer keeps it running', async () => {
  const root = mkdtempSync(join(tmpdir(), 'tern-liveness-'));
  const dead = interruptedRun(root, 'dead', deadPid());
  const live = interruptedRun(root, 'alive', process.pid);
  const { deps, index } = panelSide(root);

  const runs = await index.list();
  assert.deepEqual(
    runs.map((r) => [r.runId, r.status, r.resumable ?? false]),
    [
      ['alive', 'running', false],
      ['dead', 'crashed', true],
    ],
  );

  const deadHistory = await loadHistory(deps, index, dead, true);
  const liveHistory = await loadHistory(deps, index, live, true);
  assert.equal(deadHistory.status, 'crashed');
  assert.equal(liveHistory.status, 'running');

  const dashboard = new DashboardModel(undefined);
  dashboard.setRuns(runs);
  dashboard.select([dead, live]);
  dashboard.applyHistory(deadHistory);
  dashboard.applyHistory(liveHistory);
  assert.equal(dashboard.dataOf(dead)?.status, 'crashed');
  assert.equal(dashboard.dataOf(live)?.status, 'running');
  assert.deepEqual(dashboard.counts(), { live: 1, loading: 0 });

  const histograms = new HistogramsModel(undefined);
  histograms.setRuns(runs);
  histograms.selectRun(dead);
  histograms.applyHistory(deadHistory);
  assert.equal(histograms.current()?.status, 'crashed');
  // A run that starts now is followed: the panel is not looking at a running run.
  assert.deepEqual(histograms.runStarted(join(root, 'exp', 'next')), [join(root, 'exp', 'next')]);
});
