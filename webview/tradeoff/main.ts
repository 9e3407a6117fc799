/**
 * The Trade-off webview (docs/panels.md): one point per run, top-1 against bits per weight (model
 * size) or against sparsity, coloured by setting, the Pareto front as a line, float baselines as
 * dashed reference lines; hover shows a run's settings and numbers, click opens it in the dashboard.
 * Drawn as SVG (a handful of points; every element gets its colour through the CSSOM, as the CSP
 * allows no inline styles).
 */
import { formatBytes, formatPercent, formatQuantity } from '../../shared/format';
import '../shared/elements';
import { MessageType, type TradeoffHostMessage, type TradeoffState } from '../../shared/webviewProtocol';
import { paretoFront, pointLabel, type SweepPoint, type TradeoffRow } from '../../shared/sweep';
import { Notice, el } from '../shared/dom';
import { readChartTheme, watchTheme } from '../shared/theme';
import { connectToHost } from '../shared/vscodeApi';

const host = connectToHost<TradeoffState, TradeoffHostMessage>();
const state: TradeoffState = { view: host.getState()?.view ?? 'bits' };
let theme = readChartTheme();
let rows: TradeoffRow[] = [];
let title = '';

const SVG = 'http://www.w3.org/2000/svg';
function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number> = {}): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

// ------------------------------------------------------------------------------------------ UI
const app = document.getElementById('app')!;
const notice = new Notice();
const heading = el('h2', { className: 'tradeoff-title' });
const viewSelect = el('select', { id: 'tradeoff-view' });
for (const [value, label] of [
  ['bits', 'top-1 vs bits per weight (model size)'],
  ['sparsity', 'top-1 vs sparsity'],
] as const) {
  const option = el('option', { text: label });
  option.value = value;
  viewSelect.append(option);
}
viewSelect.value = state.view;
viewSelect.addEventListener('change', () => {
  state.view = viewSelect.value === 'sparsity' ? 'sparsity' : 'bits';
  host.setState(state);
  draw();
});
const plot = el('div', { className: 'tradeoff-plot' });
const legend = el('div', { className: 'tradeoff-legend' });
const tooltip = el('div', { className: 'tradeoff-tooltip' });
tooltip.hidden = true;
tooltip.setAttribute('role', 'tooltip');
app.append(notice.element, el('div', { className: 'toolbar' }, heading, el('label', { text: 'View ' }, viewSelect)), plot, legend, tooltip);
app.removeAttribute('aria-busy');

// ------------------------------------------------------------------------------------------ data
/** The settings that differ between the ternary runs shown: what the colours tell apart. */
function variedKeys(ternary: TradeoffRow[]): string[] {
  const keys = new Set(ternary.flatMap((r) => Object.keys(r.settings)));
  return [...keys].filter((k) => new Set(ternary.map((r) => String(r.settings[k]))).size > 1);
}

function settingLabel(row: TradeoffRow, keys: string[]): string {
  const point: SweepPoint = {};
  for (const k of keys) point[k] = row.settings[k];
  return keys.length ? pointLabel(point) : row.experiment;
}

const pct = (v: number) => formatPercent(v, 2);

function tooltipText(row: TradeoffRow): string {
  const settings = Object.entries(row.settings)
    .map(([k, v]) => `${k} = ${String(v)}`)
    .join('\n');
  return (
    `${row.experiment} · ${row.runId}${row.sweep ? ` · point ${row.sweep.index + 1}/${row.sweep.count}` : ''}\n${settings}\n` +
    `top-1 ${row.top1 === undefined ? '—' : pct(row.top1)}\n${row.bitsPerWeight.toFixed(2)} bits per weight · ${formatBytes(row.bytes)}\n` +
    `sparsity ${pct(row.sparsity)}\nclick: open in the dashboard`
  );
}

// ------------------------------------------------------------------------------------------ drawing
/** About five round tick values (1, 2 or 5 × a power of ten apart) covering [lo, hi], and the range they span. */
function niceTicks(lo: number, hi: number): { ticks: number[]; lo: number; hi: number } {
  const raw = (hi - lo) / 4;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const first = Math.floor(lo / step) * step;
  const last = Math.ceil(hi / step) * step;
  const ticks: number[] = [];
  for (let v = first; v <= last + step / 2; v += step) ticks.push(Number(v.toFixed(10)));
  return { ticks, lo: first, hi: last };
}

function draw(): void {
  heading.textContent = `Trade-off: ${title}`;
  plot.replaceChildren();
  legend.replaceChildren();
  const measured = rows.filter((r) => r.top1 !== undefined);
  const ternary = measured.filter((r) => !r.float);
  const floats = measured.filter((r) => r.float);
  if (measured.length === 0) {
    plot.append(
      el('p', {
        className: 'empty',
        text: 'No finished run to show yet: run the sweep (the Sweep lens in the config) or add runs from the Experiments view.',
      }),
    );
    return;
  }
  const bits = state.view === 'bits';
  const x = (r: TradeoffRow) => (bits ? r.bitsPerWeight : r.sparsity * 100);
  const y = (r: TradeoffRow) => r.top1! * 100;
  const width = Math.max(360, plot.clientWidth || 640);
  const height = 380;
  const m = { left: 64, right: 16, top: 16, bottom: 44 };
  const xs = ternary.length ? ternary.map(x) : [bits ? 2 : 0];
  const ys = measured.map(y);
  const xspan = Math.max(...xs) - Math.min(...xs) || 1;
  const xt = niceTicks(Math.max(0, Math.min(...xs) - xspan * 0.1), Math.max(...xs) + xspan * 0.1);
  const yspan = Math.max(...ys) - Math.min(...ys) || 2;
  const yt = niceTicks(Math.max(0, Math.min(...ys) - yspan * 0.1), Math.min(100, Math.max(...ys) + yspan * 0.1));
  const [x0, x1, y0, y1] = [xt.lo, xt.hi, yt.lo, yt.hi];
  const px = (v: number) => m.left + ((v - x0) / (x1 - x0)) * (width - m.left - m.right);
  const py = (v: number) => height - m.bottom - ((v - y0) / (y1 - y0)) * (height - m.top - m.bottom);

  const root = svg('svg', {
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    role: 'img',
    'aria-label': `Top-1 against ${bits ? 'bits per weight' : 'sparsity'}`,
  });
  root.classList.add('tradeoff-svg');
  const text = (content: string, attrs: Record<string, string | number>, color = theme.foreground) => {
    const t = svg('text', attrs);
    t.textContent = content;
    t.style.fill = color;
    t.style.fontFamily = theme.fontFamily;
    t.style.fontSize = `${theme.fontSize - 1}px`;
    return t;
  };
  // Grid and ticks at round values.
  const digits = (ticks: number[]) => Math.max(0, ...ticks.map((t) => (String(t).split('.')[1] ?? '').length));
  for (const xv of xt.ticks) {
    const g = svg('line', { x1: px(xv), x2: px(xv), y1: m.top, y2: height - m.bottom });
    g.style.stroke = theme.grid;
    root.append(
      g,
      text(
        `${xv.toFixed(digits(xt.ticks))}${bits ? '' : '%'}`,
        { x: px(xv), y: height - m.bottom + 16, 'text-anchor': 'middle' },
        theme.muted,
      ),
    );
  }
  for (const yv of yt.ticks) {
    const g = svg('line', { x1: m.left, x2: width - m.right, y1: py(yv), y2: py(yv) });
    g.style.stroke = theme.grid;
    root.append(g, text(`${yv.toFixed(digits(yt.ticks))}%`, { x: m.left - 6, y: py(yv) + 4, 'text-anchor': 'end' }, theme.muted));
  }
  root.append(
    text(bits ? 'bits per weight (model size as model.tern stores it)' : 'sparsity (zeros among the ternary weights)', {
      x: (m.left + width - m.right) / 2,
      y: height - 8,
      'text-anchor': 'middle',
    }),
  );
  const yLabel = text('top-1 (test data, final epoch)', {
    x: 0,
    y: 0,
    'text-anchor': 'middle',
    transform: `translate(14 ${(m.top + height - m.bottom) / 2}) rotate(-90)`,
  });
  root.append(yLabel);

  // Float baselines: the reference line(s).
  for (const f of floats) {
    const line = svg('line', { x1: m.left, x2: width - m.right, y1: py(y(f)), y2: py(y(f)) });
    line.classList.add('baseline');
    line.dataset.runDir = f.runDir;
    line.style.stroke = theme.muted;
    line.style.strokeDasharray = '6 4';
    line.style.strokeWidth = '1.5';
    root.append(
      line,
      text(`float ${f.experiment}: ${pct(f.top1!)}`, { x: width - m.right - 4, y: py(y(f)) - 5, 'text-anchor': 'end' }, theme.muted),
    );
    const hit = svg('line', { x1: m.left, x2: width - m.right, y1: py(y(f)), y2: py(y(f)) });
    hit.style.stroke = 'transparent';
    hit.style.strokeWidth = '10';
    hit.style.cursor = 'pointer';
    attachHover(hit, f);
    root.append(hit);
  }

  // The Pareto front: fewer bits (or more zeros) and higher top-1.
  const front = paretoFront(ternary, (r) => (bits ? x(r) : -x(r)), y);
  const ordered = [...front].sort((a, b) => x(a) - x(b));
  if (ordered.length > 1) {
    const line = svg('polyline', { points: ordered.map((r) => `${px(x(r))},${py(y(r))}`).join(' ') });
    line.classList.add('front');
    line.style.fill = 'none';
    line.style.stroke = theme.foreground;
    line.style.strokeWidth = '1.5';
    root.append(line);
  }

  // The points, coloured by the settings that differ.
  const keys = variedKeys(ternary);
  const labels = [...new Set(ternary.map((r) => settingLabel(r, keys)))];
  const color = (r: TradeoffRow) => theme.palette[labels.indexOf(settingLabel(r, keys)) % theme.palette.length];
  const onFront = new Set(front.map((r) => r.runDir));
  for (const r of ternary) {
    const dot = svg('circle', { cx: px(x(r)), cy: py(y(r)), r: onFront.has(r.runDir) ? 7 : 6 });
    dot.classList.add('point');
    if (onFront.has(r.runDir)) dot.classList.add('on-front');
    dot.dataset.runDir = r.runDir;
    dot.setAttribute('tabindex', '0');
    dot.setAttribute('aria-label', `${settingLabel(r, keys)}: top-1 ${pct(r.top1!)}`);
    dot.style.fill = color(r);
    dot.style.stroke = onFront.has(r.runDir) ? theme.foreground : theme.background;
    dot.style.strokeWidth = '2';
    dot.style.cursor = 'pointer';
    attachHover(dot, r);
    root.append(dot);
  }
  plot.append(root);

  for (const label of labels) {
    const swatch = el('span', { className: 'swatch' });
    swatch.style.background = theme.palette[labels.indexOf(label) % theme.palette.length];
    legend.append(el('span', { className: 'legend-item' }, swatch, label));
  }
  if (floats.length) {
    const swatch = el('span', { className: 'swatch swatch-line' });
    swatch.style.borderColor = theme.muted;
    legend.append(el('span', { className: 'legend-item' }, swatch, 'float baseline'));
  }
  if (ordered.length > 1) {
    const swatch = el('span', { className: 'swatch swatch-line swatch-solid' });
    swatch.style.borderColor = theme.foreground;
    legend.append(el('span', { className: 'legend-item' }, swatch, 'Pareto front'));
  }
  const unfinished = rows.length - measured.length;
  if (unfinished > 0)
    legend.append(
      el('span', { className: 'legend-item', text: `${formatQuantity(unfinished, 'run')} without a finished epoch not shown` }),
    );
}

function attachHover(target: SVGElement, row: TradeoffRow): void {
  const showTip = (e: MouseEvent | FocusEvent) => {
    tooltip.textContent = tooltipText(row);
    tooltip.hidden = false;
    const box = (e.target as Element).getBoundingClientRect();
    tooltip.style.left = `${Math.min(box.right + 8, window.innerWidth - 280)}px`;
    tooltip.style.top = `${Math.max(4, box.top - 8)}px`;
  };
  target.addEventListener('mouseenter', showTip);
  target.addEventListener('focus', showTip);
  target.addEventListener('mouseleave', () => (tooltip.hidden = true));
  target.addEventListener('blur', () => (tooltip.hidden = true));
  const open = () => host.post({ type: MessageType.OpenRun, runDir: row.runDir });
  target.addEventListener('click', open);
  target.addEventListener('keydown', (e) => {
    if ((e as KeyboardEvent).key === 'Enter') open();
  });
}

host.onMessage((message) => {
  switch (message.type) {
    case MessageType.Tradeoff:
      rows = message.rows;
      title = message.title;
      notice.clear();
      draw();
      return;
    case MessageType.Error:
      notice.show(message.message, 'error');
      return;
    default:
      return;
  }
});
watchTheme((t) => {
  theme = t;
  draw();
});
window.addEventListener('resize', () => draw());
host.post({ type: MessageType.Ready });
