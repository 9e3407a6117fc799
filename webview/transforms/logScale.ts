/**
 * A log axis cannot show 0, negatives or non-finite values (loss can be 0 on a toy set, an
 * accuracy 0 at the start): they become gaps instead of breaking the scale.
 */
export function logSafe(values: readonly (number | null)[]): (number | null)[] {
  return values.map((v) => (v !== null && Number.isFinite(v) && v > 0 ? v : null));
}

/** Whether any value can be drawn on a log axis (else the chart stays linear). */
export function hasLogDrawable(values: readonly (number | null)[]): boolean {
  return values.some((v) => v !== null && Number.isFinite(v) && v > 0);
}
