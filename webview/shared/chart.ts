/**
 * A titled uPlot chart that follows the theme, resizes with the panel, zooms with the mouse
 * (drag a range, wheel; double-click resets) and the keyboard (arrows pan, +/− zoom, 0 resets),
 * and keeps the user's zoom while live data arrives.
 */
import uPlot from 'uplot';
import type { ChartTheme } from './theme';
import { timeRedraw } from './perf';
import { formatChartNumber, numberTicks } from '../transforms/chartData';
import { hoverValue } from '../transforms/hoverValue';

/** `true` only in test builds (esbuild.mjs `--test-hooks`): redraw timings for the e2e tests (./perf.ts). */
declare const TERNARY_TEST_HOOKS: boolean;

export interface SeriesSpec {
  label: string;
  color: string;
  /** Dash pattern (validation curves are dashed). */
  dash?: number[];
  width?: number;
  /** Draw as bars of this relative size (histograms); default: lines. */
  bars?: { size: number; maxPx?: number };
  /** Fill colour (bars). */
  fill?: string;
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  height?: number;
  /** Format of y values in the legend. */
  yFormat?: (v: number) => string;
  /** Format of the y tick labels (all ticks at once, so they share decimals); default yFormat. */
  yTicks?: (ticks: (number | null)[]) => string[];
  /** Bars start at 0: the y range always includes it. */
  yFromZero?: boolean;
  /** Fixed x range (histograms); default: the data's. */
  xRange?: () => [number, number] | undefined;
  /** Extra drawing on top of the plot (the ±Δ marks), in canvas pixels. */
  drawOverlay?: (u: uPlot, theme: ChartTheme) => void;
  /** Charts with the same key share the cursor. */
  syncKey?: string;
  /** x values are whole numbers (epochs of per-epoch records): no fractional ticks. */
  xIntegers?: boolean;
  /**
   * Show the legend under the plot at all times (series that are not told apart elsewhere, such
   * as one line per layer); default: only on hover, over the plot.
   */
  staticLegend?: boolean;
}

export class Chart {
  readonly element: HTMLElement;
  private readonly plotHost: HTMLElement;
  private plot: uPlot | undefined;
  private specs: SeriesSpec[] = [];
  private data: uPlot.AlignedData = [[]];
  private log = false;
  /** The user zoomed or panned: new data keeps the x range. */
  private zoomed = false;
  private readonly resizeObserver: ResizeObserver;
  /** Test builds: performance.now() when a redraw was asked for; the draw hook records the time it took. */
  private redrawStartedAt: number | undefined;

  constructor(
    parent: HTMLElement,
    private readonly options: ChartOptions,
    private theme: ChartTheme,
  ) {
    this.element = document.createElement('section');
    this.element.className = options.staticLegend ? 'chart chart-static-legend' : 'chart';
    const heading = document.createElement('h2');
    heading.textContent = options.title;
    this.plotHost = document.createElement('div');
    this.plotHost.className = 'chart-plot';
    this.plotHost.tabIndex = 0;
    this.plotHost.setAttribute('role', 'img');
    this.plotHost.setAttribute('aria-label', `${options.title}. Arrow keys pan, plus and minus zoom, 0 resets.`);
    this.plotHost.addEventListener('keydown', (e) => this.onKey(e));
    this.element.append(heading, this.plotHost);
    parent.append(this.element);
    this.resizeObserver = new ResizeObserver(() => {
      if (this.plot) this.plot.setSize({ width: this.width(), height: this.height() });
    });
    this.resizeObserver.observe(this.plotHost);
  }

  private points = 0;

  /** Plotted points (non-null y values over all series): what the e2e test watches grow. */
  get pointCount(): number {
    return this.points;
  }

  /** The uPlot instance (for the PNG export). */
  get uplot(): uPlot | undefined {
    return this.plot;
  }
  get title(): string {
    return this.options.title;
  }
  get seriesSpecs(): readonly SeriesSpec[] {
    return this.specs;
  }

  /** Replace the data; rebuilds the plot only when the series themselves change. */
  setData(specs: SeriesSpec[], x: number[], ys: (number | null)[][]): void {
    const data: uPlot.AlignedData = [x, ...ys];
    const sameSeries =
      this.plot && specs.length === this.specs.length && specs.every((s, i) => JSON.stringify(s) === JSON.stringify(this.specs[i]));
    this.specs = specs;
    this.data = data;
    let n = 0;
    for (const y of ys) for (const v of y) if (v !== null && v !== undefined) n++;
    this.points = n;
    this.element.dataset.points = String(n);
    if (TERNARY_TEST_HOOKS) this.redrawStartedAt = performance.now();
    if (sameSeries && this.plot) {
      if (this.zoomed) {
        const { min, max } = this.plot.scales.x;
        this.plot.batch(() => {
          this.plot!.setData(data, false);
          if (min !== undefined && max !== undefined) this.plot!.setScale('x', { min, max });
        });
      } else {
        this.plot.setData(data, true);
      }
    } else {
      this.rebuild();
    }
  }

  setTheme(theme: ChartTheme): void {
    this.theme = theme;
    if (this.plot) this.rebuild();
  }

  setLog(log: boolean): void {
    if (this.log === log) return;
    this.log = log;
    if (this.plot) this.rebuild();
  }

  /** Back to the whole data range. */
  resetZoom(): void {
    this.zoomed = false;
    if (TERNARY_TEST_HOOKS) this.redrawStartedAt = performance.now();
    if (this.plot) this.plot.setData(this.data, true);
  }

  private width(): number {
    return Math.max(200, this.plotHost.clientWidth);
  }
  private height(): number {
    return this.options.height ?? 220;
  }

  private rebuild(): void {
    const keepX = this.zoomed && this.plot ? { min: this.plot.scales.x.min, max: this.plot.scales.x.max } : undefined;
    this.plot?.destroy();
    this.plot = new uPlot(this.plotOptions(), this.data, this.plotHost);
    if (keepX && keepX.min !== undefined && keepX.max !== undefined) this.plot.setScale('x', { min: keepX.min, max: keepX.max });
  }

  private plotOptions(): uPlot.Options {
    const t = this.theme;
    const font = `${t.fontSize - 1}px ${t.fontFamily}`;
    const axis = (label: string): uPlot.Axis => ({
      stroke: t.foreground,
      grid: { stroke: t.grid, width: 1 },
      ticks: { stroke: t.grid, width: 1 },
      font,
      labelFont: font,
      label,
      labelSize: 18,
    });
    const xRange = this.options.xRange;
    return {
      width: this.width(),
      height: this.height(),
      pxAlign: false,
      cursor: {
        drag: { x: true, y: false, setScale: true },
        sync: this.options.syncKey ? { key: this.options.syncKey } : undefined,
      },
      scales: {
        x: { time: false, ...(xRange ? { range: (_u, min, max) => xRange() ?? [min, max] } : {}) },
        y: this.log ? { distr: 3 } : this.options.yFromZero ? { range: (_u, _min, max) => [0, max > 0 ? max * 1.12 : 1] } : {},
      },
      axes: [
        {
          ...axis(this.options.xLabel),
          ...(this.options.xIntegers ? { incrs: [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000] } : {}),
          // Our tick labels, not uPlot's: negative weights get the minus sign every view writes (shared/format.ts).
          values: (_u, splits) => numberTicks(splits),
        },
        { ...axis(this.options.yLabel), size: 64, ...this.yAxisValues() },
      ],
      legend: { live: true },
      series: [
        { label: this.options.xLabel, value: (_u, v) => (v === null || v === undefined ? '–' : formatChartNumber(v)) },
        ...this.specs.map((s): uPlot.Series => ({
          label: s.label,
          stroke: s.color,
          width: s.width ?? 1.5,
          dash: s.dash,
          fill: s.fill,
          spanGaps: true,
          value: (u, _v, seriesIdx, idx) =>
            hoverValue(
              u.data[0] as number[],
              u.data[seriesIdx] as (number | null)[],
              idx ?? null,
              this.options.yFormat ?? formatChartNumber,
              this.options.xLabel,
            ),
          ...(s.bars ? { paths: uPlot.paths.bars!({ size: [s.bars.size, s.bars.maxPx ?? Infinity] }), points: { show: false } } : {}),
        })),
      ],
      hooks: {
        setSelect: [
          () => {
            this.zoomed = true;
          },
        ],
        draw: [
          (u) => {
            this.options.drawOverlay?.(u, this.theme);
            if (TERNARY_TEST_HOOKS && this.redrawStartedAt !== undefined) {
              timeRedraw(performance.now() - this.redrawStartedAt);
              this.redrawStartedAt = undefined;
            }
          },
        ],
        ready: [(u) => this.attachWheelZoom(u)],
      },
    };
  }

  private yAxisValues(): Pick<uPlot.Axis, 'values'> {
    const { yTicks, yFormat } = this.options;
    // A log axis has uneven ticks, and uPlot passes null for the ones it leaves unlabelled.
    if (this.log)
      return { values: (_u, splits) => splits.map((v) => (v === null || v === undefined ? '' : (yFormat ?? formatChartNumber)(v))) };
    if (yTicks) return { values: (_u, splits) => yTicks(splits) };
    if (yFormat) return { values: (_u, splits) => splits.map((v) => (v === null || v === undefined ? '' : yFormat(v))) };
    return {};
  }

  /** Wheel zooms the x axis around the cursor (uPlot has drag-zoom only). */
  private attachWheelZoom(u: uPlot): void {
    u.over.addEventListener(
      'wheel',
      (e) => {
        const { min, max } = u.scales.x;
        if (min === undefined || max === undefined) return;
        e.preventDefault();
        const at = u.posToVal(u.cursor.left ?? u.over.clientWidth / 2, 'x');
        const factor = e.deltaY < 0 ? 0.8 : 1.25;
        this.zoomTo(at - (at - min) * factor, at + (max - at) * factor);
      },
      { passive: false },
    );
    u.over.addEventListener('dblclick', () => {
      this.zoomed = false;
    });
  }

  private dataRange(): [number, number] | undefined {
    const xs = this.data[0] as number[];
    return xs.length ? [xs[0], xs[xs.length - 1]] : undefined;
  }

  private zoomTo(min: number, max: number): void {
    const u = this.plot;
    const full = this.options.xRange?.() ?? this.dataRange();
    if (!u || !full) return;
    const span = Math.min(max - min, full[1] - full[0]);
    if (!(span > 0)) return;
    let lo = Math.max(full[0], min);
    let hi = lo + span;
    if (hi > full[1]) {
      hi = full[1];
      lo = hi - span;
    }
    this.zoomed = lo > full[0] || hi < full[1];
    if (TERNARY_TEST_HOOKS) this.redrawStartedAt = performance.now();
    u.setScale('x', { min: lo, max: hi });
  }

  private onKey(e: KeyboardEvent): void {
    const u = this.plot;
    if (!u) return;
    const { min, max } = u.scales.x;
    if (min === undefined || max === undefined) return;
    const span = max - min;
    const handled = (() => {
      switch (e.key) {
        case 'ArrowLeft':
          this.zoomTo(min - span * 0.1, max - span * 0.1);
          return true;
        case 'ArrowRight':
          this.zoomTo(min + span * 0.1, max + span * 0.1);
          return true;
        case '+':
        case '=':
          this.zoomTo(min + span * 0.1, max - span * 0.1);
          return true;
        case '-':
          this.zoomTo(min - span * 0.125, max + span * 0.125);
          return true;
        case '0':
        case 'Home':
          this.resetZoom();
          return true;
        default:
          return false;
      }
    })();
    if (handled) e.preventDefault();
  }

  destroy(): void {
    this.resizeObserver.disconnect();
    this.plot?.destroy();
    this.element.remove();
  }
}
