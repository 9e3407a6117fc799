/** The dashboard's charts as data: runs × metrics → labelled, smoothed, aligned series. */
import type { MetricsRecord } from '../protocol';
import { alignSeries, type XYSeries } from './align';
import { emaSmooth } from './ema';
import { logSafe } from './logScale';
import { type MetricName, metricSeries } from './metricsSeries';

export interface RunCurves {
  label: string;
  color: string;
  records: readonly MetricsRecord[];
}

export interface CurveSpec {
  metric: MetricName;
  /** Appended to the run label in the legend ("train", "val"). */
  suffix: string;
  dashed: boolean;
}

export interface LineSeries {
  label: string;
  color: string;
  dash?: number[];
}

export interface ChartData {
  series: LineSeries[];
  x: number[];
  ys: (number | null)[][];
}

export const validationDash = [6, 4];

/**
 * One chart: for every run, every curve that has at least one value. Smoothing (EMA weight) is
 * applied per run and curve before alignment; log scale turns non-positive values into gaps.
 */
export function buildChartData(runs: readonly RunCurves[], curves: readonly CurveSpec[], smoothing: number, log: boolean): ChartData {
  // With one run the legend needs only "train" / "val"; the run is named in the toolbar.
  const label = (run: RunCurves, suffix: string): string =>
    runs.length === 1 ? suffix || run.label : suffix ? `${run.label} ${suffix}` : run.label;
  const series: LineSeries[] = [];
  const xy: XYSeries[] = [];
  for (const run of runs) {
    for (const c of curves) {
      const s = metricSeries(run.records, c.metric);
      if (!s.y.some((v) => v !== null)) continue;
      let y = smoothing > 0 ? emaSmooth(s.y, smoothing) : s.y.slice();
      if (log) y = logSafe(y);
      series.push({ label: label(run, c.suffix), color: run.color, ...(c.dashed ? { dash: validationDash } : {}) });
      xy.push({ x: s.x, y });
    }
  }
  const aligned = alignSeries(xy);
  return { series, x: aligned.x, ys: aligned.ys };
}

/** Accuracies are fractions 0..1 in the run files; charts show percent. */
export function formatPercent(v: number): string {
  return `${(v * 100).toFixed(Math.abs(v) < 0.1 ? 2 : 1)} %`;
}

/** Percent tick labels with the same number of decimals, as many as the tick step needs. */
export function percentTicks(ticks: readonly (number | null)[]): string[] {
  const step = tickStep(ticks) * 100;
  const decimals = step > 0 ? Math.min(4, Math.max(0, -Math.floor(Math.log10(step) + 1e-9))) : 0;
  return ticks.map((v) => (v === null ? '' : `${(v * 100).toFixed(decimals)} %`));
}

/** Distance between the first two labelled ticks (1 when there are fewer than two). */
function tickStep(ticks: readonly (number | null)[]): number {
  const labelled = ticks.filter((v): v is number => v !== null && Number.isFinite(v));
  return labelled.length > 1 ? Math.abs(labelled[1] - labelled[0]) : 1;
}

/** Plain tick labels sharing the decimals the tick step needs (learning rates: 0.0005, 0.0010…). */
export function numberTicks(ticks: readonly (number | null)[]): string[] {
  const step = tickStep(ticks);
  const label = (v: number): string => {
    if (!(step > 0)) return formatNumber(v);
    if (step < 1e-4 || step >= 1e6) return v === 0 ? '0' : Number(v.toPrecision(3)).toExponential();
    return v.toFixed(Math.min(6, Math.max(0, -Math.floor(Math.log10(step) + 1e-9))));
  };
  return ticks.map((v) => (v === null ? '' : label(v)));
}

/** Compact numbers for legends: 4 significant digits, exponent form for tiny/huge values. */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(2);
  return String(Number(v.toPrecision(4)));
}
