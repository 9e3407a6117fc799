/** The dashboard's charts as data: runs × metrics → labelled, smoothed, aligned series. */
import { formatFixed, formatNumber, formatPercent } from '../../shared/format';
import type { MetricsRecord } from '../../shared/webviewProtocol';
import { type IncrementalAligner, alignSeries, type XYSeries } from './align';
import { emaSmooth } from './ema';
import { logSafe } from './logScale';
import { type MetricName, metricSeries } from './metricsSeries';

export interface RunCurves {
  /** Identifies the run for the series cache (its folder). */
  id?: string;
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

/** A run's curve ready to align; `present`: the run logged this metric at all (before log-scale gaps). */
export interface CachedCurve extends XYSeries {
  present: boolean;
}

/**
 * Per-run curves (records → smoothed, log-safe series) for reuse across redraws: a live update
 * of one run leaves the other runs' curves as they were. An entry is valid while the run's
 * records array is the same object with the same length (records are only appended).
 */
export class SeriesCache {
  private readonly entries = new Map<string, { records: readonly MetricsRecord[]; length: number; xy: CachedCurve }>();

  get(key: string, records: readonly MetricsRecord[], compute: () => CachedCurve): CachedCurve {
    const hit = this.entries.get(key);
    if (hit && hit.records === records && hit.length === records.length) return hit.xy;
    const xy = compute();
    this.entries.set(key, { records, length: records.length, xy });
    return xy;
  }

  /** Forget runs no longer shown. */
  retain(ids: ReadonlySet<string>): void {
    for (const key of this.entries.keys()) if (!ids.has(key.slice(0, key.indexOf('\u0000')))) this.entries.delete(key);
  }
}

/**
 * One chart: for every run, every curve that has at least one value. Smoothing (EMA weight) is
 * applied per run and curve before alignment; log scale turns non-positive values into gaps.
 */
export function buildChartData(
  runs: readonly RunCurves[],
  curves: readonly CurveSpec[],
  smoothing: number,
  log: boolean,
  cache?: SeriesCache,
  aligner?: IncrementalAligner,
): ChartData {
  // With one run the legend needs only "train" / "val"; the run is named in the toolbar.
  const label = (run: RunCurves, suffix: string): string =>
    runs.length === 1 ? suffix || run.label : suffix ? `${run.label} ${suffix}` : run.label;
  const series: LineSeries[] = [];
  const xys: XYSeries[] = [];
  for (const run of runs) {
    for (const c of curves) {
      const compute = (): CachedCurve => {
        const s = metricSeries(run.records, c.metric);
        let y = smoothing > 0 ? emaSmooth(s.y, smoothing) : s.y;
        if (log) y = logSafe(y);
        return { x: s.x, y, present: s.y.some((v) => v !== null) };
      };
      const xy =
        cache && run.id !== undefined
          ? cache.get(`${run.id}\u0000${c.metric}\u0000${smoothing}\u0000${log}`, run.records, compute)
          : compute();
      if (!xy.present) continue;
      series.push({ label: label(run, c.suffix), color: run.color, ...(c.dashed ? { dash: validationDash } : {}) });
      xys.push(xy);
    }
  }
  const aligned = aligner ? aligner.align(xys) : alignSeries(xys);
  return { series, x: aligned.x, ys: aligned.ys };
}

/** Accuracies are fractions 0..1 in the run files; charts show percent (two decimals below 10 %). */
export function formatChartPercent(v: number): string {
  return formatPercent(v, Math.abs(v) < 0.1 ? 2 : 1);
}

/** Percent tick labels with the same number of decimals, as many as the tick step needs. */
export function percentTicks(ticks: readonly (number | null)[]): string[] {
  const decimals = decimalsFor(tickStep(ticks) * 100, 4);
  return ticks.map((v) => (v === null ? '' : formatPercent(v, decimals)));
}

/** Fewest decimals that write `step` exactly (0.025 → 3, 2.5 → 1, 50 → 0), at most `max`. */
function decimalsFor(step: number, max: number): number {
  if (!(step > 0)) return 0;
  for (let d = 0; d < max; d++) {
    const scaled = step * 10 ** d;
    if (Math.abs(scaled - Math.round(scaled)) < 1e-6 * Math.max(1, scaled)) return d;
  }
  return max;
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
    if (!(step > 0)) return formatChartNumber(v);
    if (step < 1e-4 || step >= 1e6) return formatNumber(v, 3);
    return formatFixed(v, decimalsFor(step, 6));
  };
  return ticks.map((v) => (v === null ? '' : label(v)));
}

/** Compact numbers for legends and hover values: 4 significant digits, exponent form for tiny/huge values. */
export function formatChartNumber(v: number): string {
  return formatNumber(v, 4);
}
