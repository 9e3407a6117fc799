/**
 * The Dashboard webview: loss, top-1, top-5 and learning-rate curves of several runs, live while
 * they train, recorded ones from their files; smoothing, log scale, PNG/CSV export, per-layer
 * sparsity. Talks to the host only through the typed messages of ../protocol.
 */
import { formatQuantity } from '../../shared/format';
import '../shared/elements';
import { type DashboardHostMessage, type DashboardState, MessageType } from '../../shared/webviewProtocol';
import { Chart } from '../shared/chart';
import { Notice, adoptUplotStyles, custom, el, setOptions } from '../shared/dom';
import type { VscodeCheckbox, VscodeMultiSelect, VscodeSingleSelect } from '../shared/elements';
import { chartsToPngDataUrl } from '../shared/exportPng';
import { FrameScheduler } from '../shared/frameScheduler';
import { installPanelPerf, noteVisibility, timeLiveMessage } from '../shared/perf';
import { readChartTheme, watchTheme } from '../shared/theme';
import { connectToHost } from '../shared/vscodeApi';
import { IncrementalAligner, alignSeries } from '../transforms/align';
import {
  type CurveSpec,
  type RunCurves,
  SeriesCache,
  buildChartData,
  formatChartNumber,
  formatChartPercent,
  numberTicks,
  percentTicks,
} from '../transforms/chartData';
import { metricsCsv } from '../transforms/csv';
import { sparsitySeries } from '../transforms/metricsSeries';
import { paceText } from '../../shared/progressText';
import { DashboardModel } from './state';

/** `true` only in test builds (esbuild.mjs `--test-hooks`): live-update timings for the e2e tests (../shared/perf.ts). */
declare const TERNARY_TEST_HOOKS: boolean;

const host = connectToHost<DashboardState, DashboardHostMessage>();
const model = new DashboardModel(host.getState());
const state = model.view;
let theme = readChartTheme();
if (TERNARY_TEST_HOOKS) installPanelPerf();

adoptUplotStyles();

// ------------------------------------------------------------------------------------------ UI
const app = document.getElementById('app')!;
const notice = new Notice();
const runPicker = custom<VscodeMultiSelect>('vscode-multi-select', { id: 'runs', 'aria-label': 'Runs to show' });
const smoothingInput = el('input', { id: 'smoothing' });
smoothingInput.type = 'range';
smoothingInput.min = '0';
smoothingInput.max = '0.99';
smoothingInput.step = '0.01';
smoothingInput.value = String(state.smoothing);
const smoothingValue = el('output', { text: state.smoothing.toFixed(2) });
smoothingValue.htmlFor.add('smoothing');
const logToggle = custom<VscodeCheckbox>('vscode-checkbox', {
  id: 'log',
  label: 'Log scale (loss, learning rate)',
  ...(state.logScale ? { checked: true } : {}),
});
const pngButton = custom<HTMLElement>('vscode-button', { id: 'export-png', secondary: true }, 'Export PNG');
const csvButton = custom<HTMLElement>('vscode-button', { id: 'export-csv', secondary: true }, 'Export CSV');
const status = el('p', { className: 'status', id: 'status' });
status.setAttribute('role', 'status');
status.setAttribute('aria-live', 'polite');
const empty = el('p', { className: 'empty', id: 'empty' });
/** One legend for all charts: a colour per run; solid = training, dashed = validation. */
const legend = el('ul', { className: 'run-legend', id: 'legend' });
legend.setAttribute('aria-label', 'Runs shown');

const toolbar = el(
  'header',
  { className: 'toolbar' },
  el('div', { className: 'field field-wide' }, custom('vscode-label', { for: 'runs' }, 'Runs'), runPicker),
  el(
    'div',
    { className: 'field' },
    custom('vscode-label', { for: 'smoothing' }, 'Smoothing'),
    el('div', { className: 'slider' }, smoothingInput, smoothingValue),
  ),
  el('div', { className: 'field field-check' }, logToggle),
  el('div', { className: 'field field-buttons' }, pngButton, csvButton),
);
const chartsGrid = el('div', { className: 'charts' });
app.append(toolbar, notice.element, status, legend, empty, chartsGrid);
app.removeAttribute('aria-busy');

const sync = 'dashboard';
const charts = {
  loss: new Chart(chartsGrid, { title: 'Loss', xLabel: 'epoch', yLabel: 'loss', yTicks: numberTicks, syncKey: sync }, theme),
  top1: new Chart(
    chartsGrid,
    { title: 'Top-1 accuracy', xLabel: 'epoch', yLabel: 'top-1', yFormat: formatChartPercent, yTicks: percentTicks, syncKey: sync },
    theme,
  ),
  top5: new Chart(
    chartsGrid,
    { title: 'Top-5 accuracy', xLabel: 'epoch', yLabel: 'top-5', yFormat: formatChartPercent, yTicks: percentTicks, syncKey: sync },
    theme,
  ),
  lr: new Chart(
    chartsGrid,
    { title: 'Learning rate', xLabel: 'epoch', yLabel: 'lr', yFormat: formatChartNumber, yTicks: numberTicks, syncKey: sync },
    theme,
  ),
};
const sparsitySection = el('div', { className: 'sparsity-picker field' });
const sparsityPicker = custom<VscodeSingleSelect>('vscode-single-select', {
  id: 'sparsity-run',
  'aria-label': 'Run whose per-layer sparsity is shown',
});
sparsitySection.append(custom('vscode-label', { for: 'sparsity-run' }, 'Per-layer sparsity of'), sparsityPicker);
// One line per layer: its legend (layer names and colours) stays visible under the plot.
const sparsityChart = new Chart(
  chartsGrid,
  {
    title: 'Per-layer sparsity (fraction of zero weights)',
    xLabel: 'epoch',
    yLabel: 'sparsity',
    yFormat: formatChartPercent,
    yTicks: percentTicks,
    height: 260,
    xIntegers: true,
    staticLegend: true,
  },
  theme,
);
sparsityChart.element.prepend(sparsitySection);
const allCharts = [charts.loss, charts.top1, charts.top5, charts.lr, sparsityChart];

const curves: Record<keyof typeof charts, CurveSpec[]> = {
  loss: [
    { metric: 'loss', suffix: 'train', dashed: false },
    { metric: 'valLoss', suffix: 'val', dashed: true },
  ],
  top1: [
    { metric: 'top1', suffix: 'train', dashed: false },
    { metric: 'valTop1', suffix: 'val', dashed: true },
  ],
  top5: [
    { metric: 'top5', suffix: 'train', dashed: false },
    { metric: 'valTop5', suffix: 'val', dashed: true },
  ],
  lr: [{ metric: 'lr', suffix: '', dashed: false }],
};

// ------------------------------------------------------------------------------------- render
const scheduler = new FrameScheduler(render);
const seriesCache = new SeriesCache();
/** One aligner per chart: a live update inserts its new points instead of re-aligning every run. */
const aligners: Record<keyof typeof charts, IncrementalAligner> = {
  loss: new IncrementalAligner(),
  top1: new IncrementalAligner(),
  top5: new IncrementalAligner(),
  lr: new IncrementalAligner(),
};

function runCurves(): RunCurves[] {
  return state.runDirs.flatMap((runDir, i) => {
    const d = model.dataOf(runDir);
    return d ? [{ id: runDir, label: model.runs.label(runDir), color: theme.palette[i % theme.palette.length], records: d.metrics }] : [];
  });
}

function render(): void {
  const rc = runCurves();
  seriesCache.retain(new Set(state.runDirs));
  for (const key of Object.keys(charts) as (keyof typeof charts)[]) {
    const log = state.logScale && (key === 'loss' || key === 'lr');
    const cd = buildChartData(rc, curves[key], key === 'lr' ? 0 : state.smoothing, log, seriesCache, aligners[key]);
    charts[key].setLog(log);
    charts[key].setData(cd.series, cd.x, cd.ys);
  }
  renderSparsity();
  renderLegend();
  const points = allCharts.reduce((n, c) => n + c.pointCount, 0);
  document.body.dataset.points = String(points);
  const { live, loading } = model.counts();
  status.textContent =
    state.runDirs.length === 0
      ? ''
      : `${state.runDirs.length} run${state.runDirs.length > 1 ? 's' : ''}${live ? ` · ${live} training` : ''}${loading ? ` · ${loading} loading` : ''} · ${formatQuantity(points, 'point')}`;
  empty.hidden = state.runDirs.length > 0 && points > 0;
  empty.textContent = !model.runs.received
    ? 'Loading runs…'
    : model.runs.runs.length === 0
      ? 'No runs yet. Train an experiment (Ternary: Train, or the Train code lens of a *.tern.json) and its curves appear here as it trains.'
      : state.runDirs.length === 0
        ? 'Choose one or more runs above to see their curves.'
        : 'Waiting for the first metrics of the selected runs…';
  chartsGrid.hidden = state.runDirs.length === 0;
}

function renderLegend(): void {
  const items = state.runDirs.map((runDir, i) => {
    const swatch = el('span', { className: 'swatch' });
    swatch.style.backgroundColor = theme.palette[i % theme.palette.length];
    const d = model.dataOf(runDir);
    const pace = d ? paceText(d.pace) : '';
    const note = d?.status === 'running' ? ` (training${pace ? ` · ${pace}` : ''})` : d && !d.loaded ? ' (loading)' : '';
    // The user's note on the run (note.txt in its folder), after its label.
    const userNote = model.runs.find(runDir)?.note;
    return el(
      'li',
      {},
      swatch,
      `${model.runs.label(runDir)}${note}`,
      ...(userNote ? [el('span', { className: 'run-note', text: ` — ${userNote}` })] : []),
    );
  });
  const key = el(
    'li',
    { className: 'line-key' },
    el('span', { className: 'line solid' }),
    'training ',
    el('span', { className: 'line dashed' }),
    'validation',
  );
  legend.replaceChildren(...items, ...(items.length ? [key] : []));
}

function renderSparsity(): void {
  const { shown, runDir } = model.sparsityRun();
  setOptions(
    sparsityPicker,
    shown.map((d) => ({ value: d, label: model.runs.label(d) })),
    runDir ? [runDir] : [],
  );
  const layers = runDir ? sparsitySeries(model.dataOf(runDir)!.layers) : [];
  const aligned = alignSeries(layers.map((l) => l.series));
  sparsityChart.setData(
    layers.map((l, i) => ({
      label: l.layer,
      color: theme.palette[i % theme.palette.length],
      dash: i >= theme.palette.length ? [4, 3] : undefined,
    })),
    aligned.x,
    aligned.ys,
  );
  sparsityChart.element.hidden = layers.length === 0;
}

function renderRunPicker(): void {
  setOptions(runPicker, model.runs.options(state.runDirs, { best: true }), state.runDirs);
}

// -------------------------------------------------------------------------------------- state
function persist(): void {
  host.setState(state);
}

function select(runDirs: readonly string[]): void {
  const missing = model.select(runDirs);
  if (missing.length) host.post({ type: MessageType.LoadRuns, runDirs: missing, histograms: false });
  persist();
  renderRunPicker();
  scheduler.request();
}

function onMessage(m: DashboardHostMessage): void {
  switch (m.type) {
    case MessageType.Visibility:
      if (TERNARY_TEST_HOOKS) noteVisibility(m.visible);
      scheduler.setVisible(m.visible);
      return;
    case MessageType.Runs: {
      const selection = model.setRuns(m.runs);
      if (selection) select(selection);
      else {
        renderRunPicker();
        scheduler.request();
      }
      return;
    }
    case MessageType.Select:
      select(m.runDirs);
      return;
    case MessageType.History:
      if (model.applyHistory(m)) scheduler.request();
      return;
    case MessageType.Metrics: {
      const drawn = TERNARY_TEST_HOOKS ? timeLiveMessage(m) : undefined;
      if (model.applyMetrics(m.runDir, m.records)) scheduler.request(drawn);
      return;
    }
    case MessageType.Layers: {
      const changed = model.applyLayers(m.runDir, m.record);
      if (changed.runList) renderRunPicker();
      if (changed.data) scheduler.request();
      return;
    }
    case MessageType.RunStarted: {
      const selection = model.runStarted(m.runDir);
      if (selection) select(selection);
      model.markRunning(m.runDir);
      return;
    }
    case MessageType.RunEnded:
      model.runEnded(m.runDir, m.status);
      scheduler.request();
      return;
    case MessageType.Saved:
      notice.show(`Saved ${m.path}`, 'info');
      return;
    case MessageType.Error:
      notice.show(m.message, 'error');
      if (m.runDir) select(model.drop(m.runDir));
      return;
  }
}

// ----------------------------------------------------------------------------------- controls
runPicker.addEventListener('change', () => select(runPicker.value));
smoothingInput.addEventListener('input', () => {
  state.smoothing = Number(smoothingInput.value);
  smoothingValue.textContent = state.smoothing.toFixed(2);
  persist();
  scheduler.request();
});
logToggle.addEventListener('change', () => {
  state.logScale = logToggle.checked;
  persist();
  scheduler.request();
});
sparsityPicker.addEventListener('change', () => {
  state.sparsityRunDir = sparsityPicker.value;
  persist();
  scheduler.request();
});
function onActivate(button: HTMLElement, action: () => void): void {
  // vscode-button handles Enter/Space itself and dispatches click.
  button.addEventListener('click', () => {
    try {
      action();
    } catch (err) {
      notice.show(err instanceof Error ? err.message : String(err), 'error');
    }
  });
}
onActivate(pngButton, () => {
  if (state.runDirs.length === 0) throw new Error('Nothing to export: choose a run first.');
  const title =
    state.runDirs.length <= 2
      ? state.runDirs.map((d) => model.runs.label(d)).join(', ')
      : `Ternary dashboard · ${state.runDirs.length} runs`;
  host.post({
    type: MessageType.SaveFile,
    format: 'png',
    content: chartsToPngDataUrl(
      allCharts.filter((c) => !c.element.hidden),
      theme,
      title,
    ),
    fileName: exportName('png'),
  });
});
onActivate(csvButton, () => {
  if (state.runDirs.length === 0) throw new Error('Nothing to export: choose a run first.');
  const csv = metricsCsv(state.runDirs.map((d) => ({ run: model.runs.label(d), runDir: d, records: model.dataOf(d)?.metrics ?? [] })));
  host.post({ type: MessageType.SaveFile, format: 'csv', content: csv, fileName: exportName('csv') });
});
function exportName(ext: string): string {
  const one = state.runDirs.length === 1 ? model.runs.find(state.runDirs[0]) : undefined;
  return one ? `${one.experiment}-${one.runId}-metrics.${ext}` : `ternary-dashboard-${state.runDirs.length}-runs.${ext}`;
}

watchTheme((t) => {
  theme = t;
  for (const c of allCharts) c.setTheme(t);
  scheduler.request();
});

host.onMessage(onMessage);
render();
host.post({ type: MessageType.Ready });
