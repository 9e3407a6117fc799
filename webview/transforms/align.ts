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
  const all = new Set<number>();
  for (const s of series) {
    if (s.x.length !== s.y.length) throw new RangeError(`series has ${s.x.length} x values but ${s.y.length} y values`);
    for (const x of s.x) if (Number.isFinite(x)) all.add(x);
  }
  const x = Float64Array.from(all).sort();
  const index = new Map<number, number>();
  x.forEach((v, i) => index.set(v, i));
  const ys = series.map((s) => {
    const y: (number | null)[] = new Array<number | null>(x.length).fill(null);
    // A repeated x within one run (a resumed run re-logging a step) keeps the later value.
    s.x.forEach((xv, i) => { const at = index.get(xv); if (at !== undefined) y[at] = s.y[i] ?? null; });
    return y;
  });
  return { x: Array.from(x), ys };
}

/**
 * The value of a series at or nearest to `index` (aligned data has gaps where other runs have
 * points; a hover legend should still show this run's value there). Looks at most `reach`
 * indexes each way; null when there is nothing that close.
 */
export function nearestValue(ys: readonly (number | null | undefined)[], index: number, reach = 5000): number | null {
  const at = ys[index];
  if (at !== null && at !== undefined) return at;
  for (let d = 1; d <= reach; d++) {
    const before = ys[index - d];
    if (before !== null && before !== undefined) return before;
    const after = ys[index + d];
    if (after !== null && after !== undefined) return after;
    if (index - d < 0 && index + d >= ys.length) break;
  }
  return null;
}
