/**
 * Puts several runs on one x axis, as uPlot's aligned data wants it: the sorted union of all x
 * values, and per run its y at its own x values and null elsewhere (drawn with `spanGaps`).
 */
export interface XYSeries {
  x: readonly number[];
  y: readonly (number | null)[];
}

export interface AlignedSeries {
  x: number[];
  ys: (number | null)[][];
}

export function alignSeries(series: readonly XYSeries[]): AlignedSeries {
  let total = 0;
  for (const s of series) {
    if (s.x.length !== s.y.length) throw new RangeError(`series has ${s.x.length} x values but ${s.y.length} y values`);
    total += s.x.length;
  }
  // Union of x: one native numeric sort and a dedupe pass (no hashing: 50 000 points in a few ms).
  const all = new Float64Array(total);
  let k = 0;
  for (const s of series) for (const v of s.x) all[k++] = v;
  all.sort();
  const x: number[] = [];
  for (let i = 0; i < total; i++) {
    const v = all[i];
    if (Number.isFinite(v) && (x.length === 0 || v !== x[x.length - 1])) x.push(v);
  }
  const ys = series.map((s) => {
    const y: (number | null)[] = new Array<number | null>(x.length).fill(null);
    const order = isAscending(s.x) ? undefined : Array.from(s.x.keys()).sort((i, j) => s.x[i] - s.x[j] || i - j);
    // Walk the series and the union together; a repeated x within one run (a resumed run
    // re-logging a step) keeps the later value.
    let at = 0;
    for (let n = 0; n < s.x.length; n++) {
      const i = order ? order[n] : n;
      const xv = s.x[i];
      if (!Number.isFinite(xv)) continue;
      while (x[at] < xv) at++;
      y[at] = s.y[i] ?? null;
    }
    return y;
  });
  return { x, ys };
}

function isAscending(xs: readonly number[]): boolean {
  for (let i = 1; i < xs.length; i++) if (xs[i] < xs[i - 1]) return false;
  return true;
}

/**
 * The value of a series at or nearest to `index` (aligned data has gaps where other runs have
 * points; a hover legend should still show this run's value there). Looks at most `reach`
 * indexes each way; null when there is nothing that close.
 */
export function nearestValue(ys: readonly (number | null | undefined)[], index: number, reach = 5000): number | null {
  const at = nearestIndex(ys, index, reach);
  return at === null ? null : (ys[at] as number);
}

/** The index of that nearest value (the earlier one on a tie), or null. */
export function nearestIndex(ys: readonly (number | null | undefined)[], index: number, reach = 5000): number | null {
  const at = ys[index];
  if (at !== null && at !== undefined) return index;
  for (let d = 1; d <= reach; d++) {
    const before = ys[index - d];
    if (before !== null && before !== undefined) return index - d;
    const after = ys[index + d];
    if (after !== null && after !== undefined) return index + d;
    if (index - d < 0 && index + d >= ys.length) break;
  }
  return null;
}

function binarySearch(xs: readonly number[], v: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * alignSeries for live charts: when every series is the one aligned last time plus points
 * appended at its end (a live run; smoothing is causal, so earlier values stay), the new points
 * are inserted into the previous result instead of re-sorting every run's points. Anything else
 * (a run added or removed, smoothing changed, a long tail) aligns from scratch. The returned
 * arrays are reused between calls.
 */
export class IncrementalAligner {
  private inputs: { x: readonly number[]; y: readonly (number | null)[] }[] = [];
  private result: AlignedSeries = { x: [], ys: [] };

  /** Most points appended per call that are inserted one by one (a bigger tail re-aligns). */
  constructor(private readonly maxTail = 2000) {}

  align(series: readonly XYSeries[]): AlignedSeries {
    const tails = this.tails(series);
    if (!tails) {
      this.result = alignSeries(series);
    } else {
      const { x, ys } = this.result;
      series.forEach((s, i) => {
        for (let n = tails[i]; n < s.x.length; n++) {
          const xv = s.x[n];
          if (!Number.isFinite(xv)) continue;
          const at = binarySearch(x, xv);
          if (x[at] !== xv) {
            x.splice(at, 0, xv);
            for (const y of ys) y.splice(at, 0, null);
          }
          ys[i][at] = s.y[n] ?? null;
        }
      });
    }
    this.inputs = series.map((s) => ({ x: s.x, y: s.y }));
    return this.result;
  }

  /** Per series, where its new points start; undefined when the fast path does not apply. */
  private tails(series: readonly XYSeries[]): number[] | undefined {
    if (series.length !== this.inputs.length || series.length === 0) return undefined;
    const tails: number[] = [];
    let appended = 0;
    for (let i = 0; i < series.length; i++) {
      const now = series[i];
      const before = this.inputs[i];
      if (now.x.length !== now.y.length || now.x.length < before.x.length) return undefined;
      if (now.x !== before.x || now.y !== before.y) {
        for (let n = 0; n < before.x.length; n++) {
          if (now.x[n] !== before.x[n] || now.y[n] !== before.y[n]) return undefined;
        }
        // Appended points must not go back before the series' last point (out-of-order merges re-align).
        for (let n = Math.max(1, before.x.length); n < now.x.length; n++) if (now.x[n] < now.x[n - 1]) return undefined;
      }
      appended += now.x.length - before.x.length;
      tails.push(before.x.length);
    }
    return appended <= this.maxTail ? tails : undefined;
  }
}
