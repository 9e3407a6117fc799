/**
 * The panels' state objects (webview/dashboard/state.ts, webview/histograms/state.ts) and the
 * run picking they share (webview/shared/runList.ts), driven by host messages as the webviews are.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HistogramsRecord, LayersRecord, MetricsRecord, RunInfo } from '../../shared/webviewProtocol';
import { MessageType } from '../../shared/webviewProtocol';
import { DashboardModel } from '../../webview/dashboard/state';
import { HistogramsModel } from '../../webview/histograms/state';
import { RunList } from '../../webview/shared/runList';

function run(runDir: string, status: RunInfo['status'], epoch = 1, bestTop1?: number): RunInfo {
  const [experiment, runId] = runDir.split('/').slice(-2);
  return { runDir, experiment, runId, status, epoch, epochs: 5, bestTop1 } as RunInfo;
}

const metric = (epoch: number, step: number): MetricsRecord =>
  ({ kind: 'batch', epoch, step, progress: 0.5, lr: 0.1, loss: 1, top1: 0.5, top5: 0.9, imgPerSec: 1, time: 1 }) as MetricsRecord;
const layers = (epoch: number): LayersRecord => ({ epoch, layers: [] }) as unknown as LayersRecord;
const hist = (epoch: number, ...names: string[]): HistogramsRecord =>
  ({ epoch, histograms: names.map((layer) => ({ layer, delta: 0.1, alpha: 0.2 })) }) as unknown as HistogramsRecord;

test('run list: default selection is the running runs, else the newest; options keep unknown chosen folders', () => {
  const list = new RunList();
  assert.equal(list.received, false);
  assert.equal(list.update([run('/r/a/1', 'completed'), run('/r/b/2', 'completed')]), true);
  assert.deepEqual(list.defaultSelection(), ['/r/a/1']);
  assert.equal(list.update([run('/r/a/1', 'running'), run('/r/b/2', 'completed'), run('/r/c/3', 'running')]), false);
  assert.deepEqual(list.defaultSelection(), ['/r/a/1', '/r/c/3']);
  assert.deepEqual(
    list.options(['/elsewhere/x/9'], { best: false }).map((o) => o.label),
    ['a · 1 (running, epoch 1/5)', 'b · 2 (completed, epoch 1/5)', 'c · 3 (running, epoch 1/5)', 'x · 9'],
  );
  assert.equal(list.noteEpoch('/r/a/1', 3), true);
  assert.equal(list.noteEpoch('/r/a/1', 2), false, 'an older epoch does not go back');
  assert.equal(list.label('/r/a/1'), 'a · 1');
  assert.equal(new RunList().options([], { best: true }).length, 0);
  const best = new RunList();
  best.update([run('/r/a/1', 'completed', 5, 0.912)]);
  assert.equal(best.options([], { best: true })[0].label, 'a · 1 (completed, epoch 5/5 · best 91.2%)');
});

test('run labels name their config when two configs share an experiment name, and only then', () => {
  const list = new RunList();
  list.update([
    { ...run('/r/tiny/1', 'completed'), experiment: 'tiny', configPath: '/w/fashion-mnist.tern.json' },
    { ...run('/r/tiny@copy/2', 'running'), experiment: 'tiny', configPath: '/w/copy.tern.json' },
    { ...run('/r/other/3', 'completed'), experiment: 'other', configPath: '/w/copy.tern.json' },
  ]);
  assert.equal(list.label('/r/tiny/1'), 'tiny@fashion-mnist · 1');
  assert.equal(list.label('/r/tiny@copy/2'), 'tiny@copy · 2');
  assert.equal(list.label('/r/other/3'), 'other · 3');
  assert.deepEqual(
    list.options([], { best: false }).map((o) => o.label),
    ['tiny@fashion-mnist · 1 (completed, epoch 1/5)', 'tiny@copy · 2 (running, epoch 1/5)', 'other · 3 (completed, epoch 1/5)'],
  );
});

test('dashboard: first run list selects the default, loads only new folders, follows new runs, drops unreadable ones', () => {
  const m = new DashboardModel(undefined);
  assert.deepEqual(m.view, { runDirs: [], smoothing: 0.6, logScale: false, sparsityRunDir: undefined });
  const first = m.setRuns([run('/r/a/1', 'running'), run('/r/b/2', 'completed')]);
  assert.deepEqual(first, ['/r/a/1']);
  assert.deepEqual(m.select(first!), ['/r/a/1']);
  assert.deepEqual(m.select(['/r/a/1', '/r/b/2', '/r/b/2']), ['/r/b/2'], 'already loaded folders are not asked for again');
  assert.deepEqual(m.selected, ['/r/a/1', '/r/b/2']);
  assert.equal(m.setRuns([]), undefined, 'later lists do not change the selection');
  assert.deepEqual(m.counts(), { live: 1, loading: 2 });
  assert.equal(
    m.applyHistory({
      type: MessageType.History,
      runDir: '/r/b/2',
      status: 'completed',
      metrics: [metric(1, 1)],
      layers: [layers(1)],
      histograms: [],
    }),
    true,
  );
  assert.deepEqual(m.counts(), { live: 1, loading: 1 });
  assert.equal(m.applyMetrics('/r/a/1', [metric(1, 1), metric(1, 2)]), true);
  assert.equal(m.applyMetrics('/r/a/1', [metric(1, 2)]), false, 'a record seen before adds nothing');
  assert.equal(m.applyMetrics('/r/z/9', [metric(1, 1)]), false, 'runs not shown are ignored');
  assert.deepEqual(m.sparsityRun(), { shown: ['/r/b/2'], runDir: '/r/b/2' });
  assert.deepEqual(m.runStarted('/r/c/3'), ['/r/a/1', '/r/b/2', '/r/c/3']);
  assert.equal(m.runStarted('/r/a/1'), undefined);
  assert.deepEqual(m.drop('/r/b/2'), ['/r/a/1']);
  assert.equal(m.dataOf('/r/b/2'), undefined);
});

test('dashboard: a saved selection is kept and loaded on the first run list', () => {
  const m = new DashboardModel({ runDirs: ['/r/b/2'], smoothing: 0.3, logScale: true });
  assert.deepEqual(m.setRuns([run('/r/a/1', 'running'), run('/r/b/2', 'completed')]), ['/r/b/2']);
  assert.equal(m.view.smoothing, 0.3);
});

test('histograms: follows the newest epoch until one is pinned; layer falls back to the first; follows a new run only when none runs', () => {
  const m = new HistogramsModel(undefined);
  assert.deepEqual(m.setRuns([run('/r/a/1', 'completed'), run('/r/b/2', 'completed')]), ['/r/a/1']);
  assert.equal(m.view.runDir, '/r/a/1');
  m.applyHistory({
    type: MessageType.History,
    runDir: '/r/a/1',
    status: 'completed',
    metrics: [],
    layers: [],
    histograms: [hist(2, 'c1', 'c2'), hist(1, 'c1', 'c2')],
  });
  assert.deepEqual(m.epochs(), [1, 2]);
  assert.equal(m.shownEpoch(), 2);
  assert.equal(m.shownLayer(), 'c1');
  m.selectLayer('c2');
  m.stepTo(0);
  assert.equal(m.view.epoch, 1);
  assert.equal(m.shownHistogram()?.layer, 'c2');
  m.applyHistograms('/r/a/1', hist(3, 'c1', 'c2'));
  assert.equal(m.shownEpoch(), 1, 'a pinned epoch stays');
  m.stepTo(99);
  assert.equal(m.view.epoch, undefined, 'stepping to the newest follows live again');
  assert.equal(m.shownEpoch(), 3);
  m.selectLayer('gone');
  assert.equal(m.shownLayer(), 'c1');
  assert.deepEqual(m.runStarted('/r/c/3'), ['/r/c/3'], 'the run shown is not training: follow the new one');
  assert.deepEqual(m.runStarted('/r/d/4'), [], 'a training run is being looked at: stay');
  assert.equal(m.view.runDir, '/r/c/3');
});

test('histograms: a saved run keeps its epoch and is loaded on the first run list', () => {
  const m = new HistogramsModel({ runDir: '/r/b/2', layer: 'c2', epoch: 4 });
  assert.deepEqual(m.setRuns([run('/r/a/1', 'running'), run('/r/b/2', 'completed')]), ['/r/b/2']);
  assert.deepEqual(m.view, { runDir: '/r/b/2', layer: 'c2', epoch: 4 });
  assert.equal(m.setRuns([]), undefined);
  m.failed('/r/b/2');
  assert.equal(m.current()?.loaded, true);
});

test('dashboard: a training run shown says its images a second and time left from its live metrics', () => {
  const m = new DashboardModel(undefined);
  m.select(m.setRuns([run('/r/a/1', 'running')])!);
  m.applyMetrics('/r/a/1', [{ ...metric(2, 10), progress: 0.5, imgPerSec: 512, time: 20 }]);
  m.applyMetrics('/r/a/1', [{ ...metric(3, 20), progress: 0, imgPerSec: 480, time: 30 }]);
  // Half an epoch in 10 s, 3 of its 5 epochs left.
  assert.deepEqual(
    { imgPerSec: m.dataOf('/r/a/1')?.pace.imgPerSec, etaSeconds: m.dataOf('/r/a/1')?.pace.etaSeconds },
    { imgPerSec: 480, etaSeconds: 60 },
  );
});
