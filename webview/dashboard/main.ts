/**
 * The Dashboard webview: loss, top-1, top-5 and learning-rate curves of several runs, live while
 * they train, recorded ones from their files; smoothing, log scale, PNG/CSV export, per-layer
 * sparsity. Talks to the host only through the typed messages of ../protocol.
 */
import '../shared/elements';
import {
  type DashboardState, type HostToWebviewMessage, type LayersRecord, type MetricsRecord, type RunInfo, type RunStatus,
  MessageType,
} from '../protocol';
import { Chart } from '../shared/chart';
import { Notice, adoptUplotStyles, custom, el, runLabel } from '../shared/dom';
import type { VscodeCheckbox, VscodeMultiSelect, VscodeSingleSelect } from '../shared/elements';
import { chartsToPngDataUrl } from '../shared/exportPng';
import { FrameScheduler } from '../shared/frameScheduler';
import { perf, record, recordLiveUpdate } from '../shared/perf';
import { readChartTheme, watchTheme } from '../shared/theme';
import { connectToHost } from '../shared/vscodeApi';
import { IncrementalAligner, alignSeries } from '../transforms/align';
import { type CurveSpec, type RunCurves, SeriesCache, buildChartData, formatNumber, formatPercent, numberTicks, percentTicks } from '../transforms/chartData';
import { metricsCsv } from '../transforms/csv';
import { mergeLayers, mergeMetrics, sparsitySeries } from '../transforms/metricsSeries';

interface RunData {
  metrics: MetricsRecord[];
  seen: Set<string>;
  layers: LayersRecord[];
  status?: RunStatus;
  loaded: boolean;
}

const host = connectToHost<DashboardState>();
const saved = host.getState();
const state: DashboardState = {
  runDirs: saved?.runDirs ?? [],
  smoothing: saved?.smoothing ?? 0.6,
  logScale: saved?.logScale ?? false,
  sparsityRunDir: saved?.sparsityRunDir,
};
let runs: RunInfo[] = [];
let runsReceived = false;
const data = new Map<string, RunData>();
let theme = readChartTheme();

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
const logToggle = custom<VscodeCheckbox>('vscode-checkbox', { id: 'log', label: 'Log scale (loss, learning rate)', ...(state.logScale ? { checked: true } : {}) });
const pngButton = custom<HTMLElement>('vscode-button', { id: 'export-png', secondary: true }, 'Export PNG');
const csvButton = custom<HTMLElement>('vscode-button', { id: 'export-csv', secondary: true }, 'Export CSV');
const status = el('p', { className: 'status', id: 'status' });
status.setAttribute('role', 'status');
status.setAttribute('aria-live', 'polite');
const empty = el('p', { className: 'empty', id: 'empty' });
/** One legend for all charts: a colour per run; solid = training, dashed = validation. */
const legend = el('ul', { className: 'run-legend', id: 'legend' });
legend.setAttribute('aria-label', 'Runs shown');

const toolbar = el('header', { className: 'toolbar' },
  el('div', { className: 'field field-wide' }, custom('vscode-label', { for: 'runs' }, 'Runs'), runPicker),
  el('div', { className: 'field' }, custom('vscode-label', { for: 'smoothing' }, 'Smoothing'), el('div', { className: 'slider' }, smoothingInput, smoothingValue)),
  el('div', { className: 'field field-check' }, logToggle),
  el('div', { className: 'field field-buttons' }, pngButton, csvButton),
);
const chartsGrid = el('div', { className: 'charts' });
app.append(toolbar, notice.element, status, legend, empty, chartsGrid);
app.removeAttribute('aria-busy');

const sync = 'dashboard';
const charts = {
  loss: new Chart(chartsGrid, { title: 'Loss', xLabel: 'epoch', yLabel: 'loss', yTicks: numberTicks, syncKey: sync }, theme),
  top1: new Chart(chartsGrid, { title: 'Top-1 accuracy', xLabel: 'epoch', yLabel: 'top-1', yFormat: formatPercent, yTicks: percentTicks, syncKey: sync }, theme),
  top5: new Chart(chartsGrid, { title: 'Top-5 accuracy', xLabel: 'epoch', yLabel: 'top-5', yFormat: formatPercent, yTicks: percentTicks, syncKey: sync }, theme),
  lr: new Chart(chartsGrid, { title: 'Learning rate', xLabel: 'epoch', yLabel: 'lr', yFormat: formatNumber, yTicks: numberTicks, syncKey: sync }, theme),
};
const sparsitySection = el('div', { className: 'sparsity-picker field' });
const sparsityPicker = custom<VscodeSingleSelect>('vscode-single-select', { id: 'sparsity-run', 'aria-label': 'Run whose per-layer sparsity is shown' });
sparsitySection.append(custom('vscode-label', { for: 'sparsity-run' }, 'Per-layer sparsity of'), sparsityPicker);
const sparsityChart = new Chart(chartsGrid, { title: 'Per-layer sparsity (fraction of zero weights)', xLabel: 'epoch', yLabel: 'sparsity', yFormat: formatPercent, yTicks: percentTicks, height: 260, xIntegers: true }, theme);
sparsityChart.element.prepend(sparsitySection);
const allCharts = [charts.loss, charts.top1, charts.top5, charts.lr, sparsityChart];

const curves: Record<keyof typeof charts, CurveSpec[]> = {
  loss: [{ metric: 'loss', suffix: 'train', dashed: false }, { metric: 'valLoss', suffix: 'val', dashed: true }],
  top1: [{ metric: 'top1', suffix: 'train', dashed: false }, { metric: 'valTop1', suffix: 'val', dashed: true }],
  top5: [{ metric: 'top5', suffix: 'train', dashed: false }, { metric: 'valTop5', suffix: 'val', dashed: true }],
  lr: [{ metric: 'lr', suffix: '', dashed: false }],
};

// ------------------------------------------------------------------------------------- render
const scheduler = new FrameScheduler(render);
const seriesCache = new SeriesCache();
/** One aligner per chart: a live update inserts its new points instead of re-aligning every run. */
const aligners: Record<keyof typeof charts, IncrementalAligner> = {
  loss: new IncrementalAligner(), top1: new IncrementalAligner(), top5: new IncrementalAligner(), lr: new IncrementalAligner(),
};

function runInfo(runDir: string): RunInfo | undefined {
  return runs.find((r) => r.runDir === runDir);
}

function runCurves(): RunCurves[] {
  return state.runDirs.flatMap((runDir, i) => {
    const d = data.get(runDir);
    return d ? [{ id: runDir, label: runLabel(runInfo(runDir), runDir), color: theme.palette[i % theme.palette.length], records: d.metrics }] : [];
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
  const live = state.runDirs.filter((d) => data.get(d)?.status === 'running').length;
  const loading = state.runDirs.filter((d) => !data.get(d)?.loaded).length;
  status.textContent = state.runDirs.length === 0 ? ''
    : `${state.runDirs.length} run${state.runDirs.length > 1 ? 's' : ''}${live ? ` · ${live} training` : ''}${loading ? ` · ${loading} loading` : ''} · ${points.toLocaleString('en-US')} points`;
  empty.hidden = state.runDirs.length > 0 && points > 0;
  empty.textContent = !runsReceived ? 'Loading runs…'
    : runs.length === 0 ? 'No runs yet. Train an experiment (Ternary: Train, or the Train code lens of a *.tern.json) and its curves appear here as it trains.'
      : state.runDirs.length === 0 ? 'Choose one or more runs above to see their curves.'
        : 'Waiting for the first metrics of the selected runs…';
  chartsGrid.hidden = state.runDirs.length === 0;
}

function renderLegend(): void {
  const items = state.runDirs.map((runDir, i) => {
    const swatch = el('span', { className: 'swatch' });
    swatch.style.backgroundColor = theme.palette[i % theme.palette.length];
    const d = data.get(runDir);
    const note = d?.status === 'running' ? ' (training)' : d && !d.loaded ? ' (loading)' : '';
    return el('li', {}, swatch, `${runLabel(runInfo(runDir), runDir)}${note}`);
  });
  const key = el('li', { className: 'line-key' }, el('span', { className: 'line solid' }), 'training ', el('span', { className: 'line dashed' }), 'validation');
  legend.replaceChildren(...items, ...(items.length ? [key] : []));
}

function renderSparsity(): void {
  const shown = state.runDirs.filter((d) => (data.get(d)?.layers.length ?? 0) > 0);
  const runDir = state.sparsityRunDir && shown.includes(state.sparsityRunDir) ? state.sparsityRunDir : shown[0];
  setOptions(sparsityPicker, shown.map((d) => ({ value: d, label: runLabel(runInfo(d), d) })), runDir ? [runDir] : []);
  const layers = runDir ? sparsitySeries(data.get(runDir)!.layers) : [];
  const aligned = alignSeries(layers.map((l) => l.series));
  sparsityChart.setData(
    layers.map((l, i) => ({ label: l.layer, color: theme.palette[i % theme.palette.length], dash: i >= theme.palette.length ? [4, 3] : undefined })),
    aligned.x, aligned.ys);
  sparsityChart.element.hidden = layers.length === 0;
}

/** Rebuild a select's options only when they changed (rebuilding closes an open dropdown). */
function setOptions(select: HTMLElement, options: { value: string; label: string }[], selected: string[]): void {
  const key = JSON.stringify([options, selected]);
  if (select.dataset.options === key) return;
  select.dataset.options = key;
  select.replaceChildren(...options.map((o) => {
    const option = custom<HTMLElement>('vscode-option', { value: o.value, ...(selected.includes(o.value) ? { selected: true } : {}) }, o.label);
    return option;
  }));
}

function runOptionLabel(r: RunInfo): string {
  const best = r.bestTop1 !== undefined ? ` · best ${formatPercent(r.bestTop1)}` : '';
  return `${r.experiment} · ${r.runId} (${r.status}, epoch ${r.epoch}/${r.epochs}${best})`;
}

function renderRunPicker(): void {
  const known = new Set(runs.map((r) => r.runDir));
  const options = runs.map((r) => ({ value: r.runDir, label: runOptionLabel(r) }));
  // Selected runs the list does not know (yet) stay choosable.
  for (const d of state.runDirs) if (!known.has(d)) options.push({ value: d, label: runLabel(undefined, d) });
  setOptions(runPicker, options, state.runDirs);
}

// -------------------------------------------------------------------------------------- state
function persist(): void {
  host.setState(state);
}

function select(runDirs: string[]): void {
  state.runDirs = [...new Set(runDirs)];
  const missing = state.runDirs.filter((d) => !data.has(d));
  for (const d of missing) data.set(d, { metrics: [], seen: new Set(), layers: [], loaded: false, status: runInfo(d)?.status });
  if (missing.length) host.post({ type: MessageType.LoadRuns, runDirs: missing, histograms: false });
  persist();
  renderRunPicker();
  scheduler.request();
}

/** Nothing chosen yet (first open, no argument): the running runs, else the newest one. */
function defaultSelection(): string[] {
  const running = runs.filter((r) => r.status === 'running').map((r) => r.runDir);
  return running.length ? running : runs.slice(0, 1).map((r) => r.runDir);
}

function onMessage(m: HostToWebviewMessage): void {
  switch (m.type) {
    case MessageType.Visibility:
      scheduler.setVisible(m.visible);
      return;
    case MessageType.Runs: {
      const first = !runsReceived;
      runs = m.runs;
      runsReceived = true;
      for (const r of runs) { const d = data.get(r.runDir); if (d && r.status !== 'running' && d.status === 'running') d.status = r.status; }
      if (first && state.runDirs.length === 0) select(defaultSelection());
      else if (first) select(state.runDirs);
      else { renderRunPicker(); scheduler.request(); }
      return;
    }
    case MessageType.Select:
      select(m.runDirs);
      return;
    case MessageType.History: {
      const d = data.get(m.runDir);
      if (!d) return;
      mergeMetrics(d.metrics, d.seen, m.metrics);
      for (const l of m.layers) mergeLayers(d.layers, l);
      d.status = m.status ?? d.status;
      d.loaded = true;
      scheduler.request();
      return;
    }
    case MessageType.Metrics: {
      const d = data.get(m.runDir);
      if (!d) return;
      const receivedAt = Date.now();
      perf.liveMessages++;
      record(perf.arrivalLatencies, receivedAt - m.sentAt);
      d.status = 'running';
      if (mergeMetrics(d.metrics, d.seen, m.records) > 0) scheduler.request(() => recordLiveUpdate(m.sentAt, receivedAt));
      return;
    }
    case MessageType.Layers: {
      noteEpoch(m.runDir, m.record.epoch);
      const d = data.get(m.runDir);
      if (!d) return;
      mergeLayers(d.layers, m.record);
      scheduler.request();
      return;
    }
    case MessageType.RunStarted:
      // Follow new runs as TensorBoard does; the user can deselect them.
      if (!state.runDirs.includes(m.runDir)) select([...state.runDirs, m.runDir]);
      { const d = data.get(m.runDir); if (d) d.status = 'running'; }
      return;
    case MessageType.RunEnded: {
      const d = data.get(m.runDir);
      if (d) d.status = m.status;
      scheduler.request();
      return;
    }
    case MessageType.Saved:
      notice.show(`Saved ${m.path}`, 'info');
      return;
    case MessageType.Error:
      notice.show(m.message, 'error');
      // A run that cannot be read (deleted, moved) leaves the selection instead of "loading" forever.
      if (m.runDir) { data.delete(m.runDir); select(state.runDirs.filter((d) => d !== m.runDir)); }
      return;
    case MessageType.Histograms:
      return;
  }
}

/** The run list is read at start and end of runs; live epochs keep its "epoch e/E" current. */
function noteEpoch(runDir: string, epoch: number): void {
  const run = runs.find((r) => r.runDir === runDir);
  if (run && run.epoch < epoch) { run.epoch = epoch; renderRunPicker(); }
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
    try { action(); } catch (err) { notice.show(err instanceof Error ? err.message : String(err), 'error'); }
  });
}
onActivate(pngButton, () => {
  if (state.runDirs.length === 0) throw new Error('Nothing to export: choose a run first.');
  const title = state.runDirs.length <= 2 ? state.runDirs.map((d) => runLabel(runInfo(d), d)).join(', ') : `Ternary dashboard · ${state.runDirs.length} runs`;
  host.post({ type: MessageType.SaveFile, format: 'png', content: chartsToPngDataUrl(allCharts.filter((c) => !c.element.hidden), theme, title), fileName: exportName('png') });
});
onActivate(csvButton, () => {
  if (state.runDirs.length === 0) throw new Error('Nothing to export: choose a run first.');
  const csv = metricsCsv(state.runDirs.map((d) => ({ run: runLabel(runInfo(d), d), runDir: d, records: data.get(d)?.metrics ?? [] })));
  host.post({ type: MessageType.SaveFile, format: 'csv', content: csv, fileName: exportName('csv') });
});
function exportName(ext: string): string {
  const one = state.runDirs.length === 1 ? runInfo(state.runDirs[0]) : undefined;
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
