/**
 * What a chart's hover legend says for one series at the cursor. Aligned data (./align.ts) has
 * gaps where other series have points: a validation curve has one point per epoch while the
 * training curve has many. Showing the nearest point's value there is useful, but under the
 * cursor's x it reads as a value at that x; so a value taken from elsewhere says where it is from.
 */
import { formatChartNumber } from './chartData';
import { nearestIndex } from './align';

export function hoverValue(
  xs: readonly number[],
  ys: readonly (number | null | undefined)[],
  index: number | null,
  format: (v: number) => string,
  xLabel: string,
): string {
  if (index === null) return '–';
  const at = nearestIndex(ys, index);
  if (at === null) return '–';
  const text = format(ys[at] as number);
  return at === index || xs[at] === xs[index] ? text : `${text} (${xLabel} ${formatChartNumber(xs[at]!)})`;
}
