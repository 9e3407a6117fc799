/**
 * The Weight histograms webview: for one layer of one run, the server-binned histogram of the
 * latent full-precision weights with ±Δ marked, and the three ternary values −α, 0, +α as exact
 * counts; an epoch slider with play/pause, following new epochs live while the run trains.
 */
import { formatCount } from '../../shared/format';
import type uPlot from 'uplot';
import '../shared/elements';
import { type HistogramsHostMessage, type HistogramsState, type WeightHistogram, MessageType } from '../../shared/webviewProtocol';
import { Chart } from '../shared/chart';
import { Notice, adoptUplotStyles, custom, el, setOptions } from '../shared/dom';
import type { VscodeSingleSelect } from '../shared/elements';
import { FrameScheduler } from '../shared/frameScheduler';
import { installPanelPerf, noteVisibility, timeLiveMessage } from '../shared/perf';
import { type ChartTheme, readChartTheme, watchTheme } from '../shared/theme';
import { connectToHost } from '../shared/vscodeApi';
import { formatChartNumber, formatChartPercent, percentTicks } from '../transforms/chartData';
import { histogramRange, isFloatLayer, latentHistogramBars, ternaryBars } from '../transforms/histogramBars';
import { HistogramsModel } from './state';

/** `true` only in test builds (esbuild.mjs `--test-hooks`): live-update timings for the e2e tests (../shared/perf.ts). */
declare const TERNARY_TEST_HOOKS: boolean;

const host = connectToHost<HistogramsState, HistogramsHostMessage>();
const model = new HistogramsModel(host.getState());
const state = model.view;
let theme = readChartTheme();
if (TERNARY_TEST_HOOKS) installPanelPerf();

adoptUplotStyles();

// ------------------------------------------------------------------------------------------ UI
const app = document.getElementById('app')!;
const notice = new Notice();
const runPicker = custom<VscodeSingleSelect>('vscode-single-select', { id: 'run', 'aria-label': 'Run' });
const layerPicker = custom<VscodeSingleSelect>('vscode-single-select', { id: 'layer', 'aria-label': 'Layer', combobox: true });
const playButton = custom<HTMLElement>('vscode-button', { id: 'play', secondary: true }, 'Play');
const epochSlider = el('input', { id: 'epoch' });
epochSlider.type = 'range';
epochSlider.min = '0';
epochSlider.step = '1';
epochSlider.setAttribute('aria-label', 'Epoch');
const epochLabel = el('output', { id: 'epoch-label' });
epochLabel.htmlFor.add('epoch');
const facts = el('p', { className: 'facts', id: 'facts' });
const empty = el('p', { className: 'empty', id: 'empty' });

app.append(
  el(
    'header',
    { className: 'toolbar' },
    el('div', { className: 'field field-wide' }, custom('vscode-label', { for: 'run' }, 'Run'), runPicker),
    el('div', { className: 'field field-wide' }, custom('vscode-label', { for: 'layer' }, 'Layer'), layerPicker),
  ),
  notice.element,
  el('div', { className: 'epoch-bar' }, playButton, epochSlider, epochLabel),
  facts,
  empty,
);
const chartsGrid = el('div', { className: 'charts' });
app.append(chartsGrid);
app.removeAttribute('aria-busy');

/** The histogram shown now (for the overlay hooks). */
let current: WeightHistogram | undefined;
let xRange: [number, number] | undefined;

const latentChart = new Chart(
  chartsGrid,
  {
    title: 'Latent full-precision weights (±Δ marked)',
    xLabel: 'weight',
    yLabel: 'weights per bin',
    height: 260,
    yFromZero: true,
    xRange: () => xRange,
    drawOverlay: drawDeltaMarks,
  },
  theme,
);
const ternaryChart = new Chart(
  chartsGrid,
  {
    title: 'Ternary weights: exact counts of −α, 0, +α',
    xLabel: 'ternary value',
    yLabel: 'weights',
    height: 260,
    yFromZero: true,
    xRange: () => xRange,
    drawOverlay: drawCountLabels,
  },
  theme,
);
const countsTable = el('table', { className: 'counts', id: 'counts' });
ternaryChart.element.append(countsTable);
let markedEpoch: number | undefined;
const sparsityChart = new Chart(
  chartsGrid,
  {
    title: 'Sparsity of this layer over epochs',
    xLabel: 'epoch',
    yLabel: 'sparsity',
    yFormat: formatChartPercent,
    yTicks: percentTicks,
    height: 200,
    xIntegers: true,
    drawOverlay: drawEpochMark,
  },
  theme,
);
const allCharts = [latentChart, ternaryChart, sparsityChart];

// ------------------------------------------------------------------------------------ overlays
/** A dashed vertical mark with a label beside it (`side`: which side of the line the text goes). */
function verticalLine(
  u: uPlot,
  x: number,
  color: string,
  label: string,
  t: ChartTheme,
  side: 'left' | 'right' | 'center' = 'center',
): void {
  const px = u.valToPos(x, 'x', true);
  if (px < u.bbox.left - 1 || px > u.bbox.left + u.bbox.width + 1) return;
  const ctx = u.ctx;
  const dpr = window.devicePixelRatio || 1;
  ctx.save();
  ctx.strokeStyle = color;
  ctx.lineWidth = 1.5 * dpr;
  ctx.setLineDash([5 * dpr, 4 * dpr]);
  ctx.beginPath();
  ctx.moveTo(px, u.bbox.top);
  ctx.lineTo(px, u.bbox.top + u.bbox.height);
  ctx.stroke();
  ctx.fillStyle = color;
  ctx.font = `${(t.fontSize - 1) * dpr}px ${t.fontFamily}`;
  ctx.textAlign = side === 'left' ? 'right' : side === 'right' ? 'left' : 'center';
  ctx.textBaseline = 'top';
  ctx.fillText(label, px + (side === 'left' ? -4 : side === 'right' ? 4 : 0) * dpr, u.bbox.top + 2 * dpr);
  ctx.restore();
}

function drawDeltaMarks(u: uPlot, t: ChartTheme): void {
  if (!current || !(current.delta > 0)) return;
  verticalLine(u, -current.delta, t.accent, '−Δ', t, 'left');
  verticalLine(u, current.delta, t.accent, '+Δ', t, 'right');
}

function drawCountLabels(u: uPlot, t: ChartTheme): void {
  if (!current || isFloatLayer(current)) return;
  const bars = ternaryBars(current);
  const ctx = u.ctx;
  const dpr = window.devicePixelRatio || 1;
  ctx.save();
  ctx.fillStyle = t.foreground;
  ctx.font = `${(t.fontSize - 1) * dpr}px ${t.fontFamily}`;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'bottom';
  bars.x.forEach((x, i) => {
    const px = u.valToPos(x, 'x', true);
    const py = Math.max(u.valToPos(bars.y[i], 'y', true) - 3 * dpr, u.bbox.top + 12 * dpr);
    ctx.fillText(`${bars.labels[i]}: ${formatCount(bars.y[i])}`, px, py);
  });
  ctx.restore();
}

function drawEpochMark(u: uPlot, t: ChartTheme): void {
  if (markedEpoch !== undefined) verticalLine(u, markedEpoch, t.muted, `epoch ${markedEpoch}`, t);
}

// ------------------------------------------------------------------------------------- render
const scheduler = new FrameScheduler(render);

function render(): void {
  renderPickers();
  const d = model.current();
  const list = model.epochs();
  const layer = model.shownLayer();
  const epoch = model.shownEpoch();
  current = model.shownHistogram();

  epochSlider.max = String(Math.max(0, list.length - 1));
  epochSlider.value = String(epoch !== undefined ? list.indexOf(epoch) : 0);
  epochSlider.disabled = list.length < 2;
  epochSlider.setAttribute('aria-valuetext', epoch !== undefined ? `epoch ${epoch}` : 'no epochs');
  epochLabel.textContent =
    epoch !== undefined
      ? `Epoch ${epoch} (${list.indexOf(epoch) + 1} of ${list.length}${state.epoch === undefined && d?.status === 'running' ? ', following live' : ''})`
      : '';
  playButton.toggleAttribute('disabled', list.length < 2);
  document.body.dataset.epoch = epoch !== undefined ? String(epoch) : '';
  document.body.dataset.layer = layer ?? '';
  document.body.dataset.runDir = state.runDir ?? '';

  empty.hidden = current !== undefined;
  empty.textContent = !model.runs.received
    ? 'Loading runs…'
    : model.runs.runs.length === 0 && !state.runDir
      ? 'No runs yet. Train an experiment (Ternary: Train) and the weight histograms of its layers appear here after each epoch.'
      : !state.runDir
        ? 'Choose a run above.'
        : !d?.loaded
          ? 'Loading the run…'
          : list.length === 0
            ? 'This run has no weight histograms yet: they are written at the end of each epoch.'
            : `Layer ${state.layer} is not in this run; choose another layer.`;
  chartsGrid.hidden = current === undefined;
  if (!current) {
    facts.textContent = '';
    return;
  }

  // One x range over every epoch of the layer, so stepping through epochs does not rescale.
  let lo = Infinity;
  let hi = -Infinity;
  for (const r of d!.histograms) {
    const h = r.histograms.find((x) => x.layer === layer);
    if (h) {
      const [a, b] = histogramRange(h);
      lo = Math.min(lo, a);
      hi = Math.max(hi, b);
    }
  }
  xRange = [lo, hi];

  const latent = latentHistogramBars(current);
  const fill = withAlpha(theme.palette[0], 0.55);
  latentChart.setData([{ label: 'weights per bin', color: theme.palette[0], fill, bars: { size: 1 }, width: 1 }], latent.x, [latent.y]);
  const layerStats = d!.layers.find((r) => r.epoch === epoch)?.layers.find((l) => l.layer === layer);
  const float = isFloatLayer(current);
  document.body.dataset.float = String(float);
  ternaryChart.element.hidden = float;
  if (float) {
    // A layer kept in full precision: its weights are what the histogram shows; there is no Δ, α,
    // ternary count or sparsity to draw (they would all read 0).
    sparsityChart.element.hidden = true;
    facts.textContent = [
      layer,
      layerStats ? `${layerStats.type} ${layerStats.shape.join('×')}` : undefined,
      'full precision (float32): this layer is not ternary, so it has no Δ, α or ternary counts',
    ]
      .filter(Boolean)
      .join(' · ');
    return;
  }
  const tern = ternaryBars(current);
  ternaryChart.setData(
    [{ label: 'exact count', color: theme.palette[1], fill: withAlpha(theme.palette[1], 0.7), bars: { size: 0.35, maxPx: 90 }, width: 1 }],
    tern.x,
    [tern.y],
  );
  renderCounts(current, tern);

  facts.textContent = [
    layer,
    layerStats ? `${layerStats.type} ${layerStats.shape.join('×')}` : undefined,
    `Δ = ${formatChartNumber(current.delta)}`,
    `α = ${formatChartNumber(current.alpha)}`,
    `sparsity ${formatChartPercent(tern.fractions[1])}`,
    layerStats && layerStats.branches.length > 1 ? `t_ex = ${layerStats.branches.length} (first branch shown)` : undefined,
  ]
    .filter(Boolean)
    .join(' · ');

  const sx: number[] = [];
  const sy: (number | null)[] = [];
  for (const r of d!.layers) {
    const l = r.layers.find((x) => x.layer === layer);
    if (l) {
      sx.push(r.epoch);
      sy.push(l.sparsity);
    }
  }
  markedEpoch = epoch;
  sparsityChart.setData([{ label: 'sparsity', color: theme.palette[2] }], sx, [sy]);
  sparsityChart.element.hidden = sx.length === 0;
  sparsityChart.uplot?.redraw(false, false);
}

function renderCounts(h: WeightHistogram, tern: ReturnType<typeof ternaryBars>): void {
  const total = tern.y[0] + tern.y[1] + tern.y[2];
  const keys = ['neg', 'zero', 'pos'] as const;
  const rows = tern.x.map((_x, i) => {
    const count = el('td', { text: formatCount(tern.y[i]) });
    count.dataset.count = keys[i];
    count.dataset.value = String(tern.y[i]);
    return el('tr', {}, el('td', { text: tern.values[i] }), count, el('td', { text: formatChartPercent(tern.fractions[i]) }));
  });
  countsTable.replaceChildren(
    el('caption', { text: `Exact ternary counts of ${h.layer}` }),
    el('thead', {}, el('tr', {}, el('th', { text: 'value' }), el('th', { text: 'weights' }), el('th', { text: 'share' }))),
    el(
      'tbody',
      {},
      ...rows,
      el('tr', {}, el('td', { text: 'total' }), el('td', { text: formatCount(total) }), el('td', { text: formatChartPercent(1) })),
    ),
  );
}

function withAlpha(color: string, alpha: number): string {
  const m = /^#([0-9a-f]{6})$/i.exec(color.trim());
  if (!m) return color;
  const n = Number.parseInt(m[1], 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

function renderPickers(): void {
  setOptions(runPicker, model.runs.options(state.runDir ? [state.runDir] : [], { best: false }), state.runDir ? [state.runDir] : []);
  const layer = model.shownLayer();
  setOptions(
    layerPicker,
    model.layerNames().map((l) => ({ value: l, label: l })),
    layer ? [layer] : [],
  );
}

// -------------------------------------------------------------------------------------- state
function persist(): void {
  host.setState(state);
}

function load(runDirs: string[]): void {
  if (runDirs.length) host.post({ type: MessageType.LoadRuns, runDirs, histograms: true });
}

function selectRun(runDir: string | undefined): void {
  load(model.selectRun(runDir));
  persist();
  scheduler.request();
}

function onMessage(m: HistogramsHostMessage): void {
  switch (m.type) {
    case MessageType.Visibility:
      if (TERNARY_TEST_HOOKS) noteVisibility(m.visible);
      scheduler.setVisible(m.visible);
      return;
    case MessageType.Runs: {
      const toLoad = model.setRuns(m.runs);
      if (toLoad) {
        load(toLoad);
        persist();
      }
      scheduler.request();
      return;
    }
    case MessageType.Select:
      selectRun(m.runDirs[0] ?? state.runDir);
      if (m.layer) {
        model.selectLayer(m.layer);
        persist();
      }
      return;
    case MessageType.History:
      if (model.applyHistory(m)) scheduler.request();
      return;
    case MessageType.Histograms: {
      const drawn = TERNARY_TEST_HOOKS ? timeLiveMessage(m) : undefined;
      if (model.applyHistograms(m.runDir, m.record)) scheduler.request(m.runDir === state.runDir ? drawn : undefined);
      return;
    }
    case MessageType.Layers:
      model.applyLayers(m.runDir, m.record);
      scheduler.request();
      return;
    case MessageType.RunStarted:
      load(model.runStarted(m.runDir));
      persist();
      scheduler.request();
      return;
    case MessageType.RunEnded:
      model.runEnded(m.runDir, m.status);
      scheduler.request();
      return;
    case MessageType.Saved:
      notice.show(`Saved ${m.path}`, 'info');
      return;
    case MessageType.Error:
      notice.show(m.message, 'error');
      if (m.runDir) {
        model.failed(m.runDir);
        scheduler.request();
      }
      return;
  }
}

// ----------------------------------------------------------------------------------- controls
let playTimer: number | undefined;

function stopPlaying(): void {
  if (playTimer !== undefined) window.clearInterval(playTimer);
  playTimer = undefined;
  playButton.textContent = 'Play';
  playButton.setAttribute('aria-pressed', 'false');
}

function stepTo(index: number): void {
  model.stepTo(index);
  persist();
  scheduler.request();
}

playButton.addEventListener('click', () => {
  if (playTimer !== undefined) {
    stopPlaying();
    return;
  }
  const list = model.epochs();
  if (list.length < 2) return;
  let i = Number(epochSlider.value);
  if (i >= list.length - 1) i = -1;
  playButton.textContent = 'Pause';
  playButton.setAttribute('aria-pressed', 'true');
  playTimer = window.setInterval(() => {
    i++;
    stepTo(i);
    if (i >= model.epochs().length - 1) stopPlaying();
  }, 600);
  i++;
  stepTo(i);
});
epochSlider.addEventListener('input', () => {
  stopPlaying();
  stepTo(Number(epochSlider.value));
});
runPicker.addEventListener('change', () => {
  stopPlaying();
  selectRun(runPicker.value || undefined);
});
layerPicker.addEventListener('change', () => {
  model.selectLayer(layerPicker.value || undefined);
  persist();
  scheduler.request();
});

watchTheme((t) => {
  theme = t;
  for (const c of allCharts) c.setTheme(t);
  scheduler.request();
});

host.onMessage(onMessage);
render();
host.post({ type: MessageType.Ready });
