/**
 * Exponential moving average as TensorBoard smooths scalars: debiased, so the first points are
 * not pulled toward 0 (the running average is divided by 1 − wⁿ after n finite points).
 * Gaps (null, NaN, ±Inf) pass through unchanged and do not advance the average; a constant
 * series is returned as is.
 */
export function emaSmooth(values: readonly (number | null)[], weight: number): (number | null)[] {
  if (!(weight >= 0 && weight < 1)) throw new RangeError(`smoothing weight must be in [0, 1), got ${weight}`);
  if (weight === 0) return values.slice();
  const first = values.find((v) => v !== null);
  const constant = values.every((v) => v === null || v === first);
  if (constant) return values.slice();
  let last = 0;
  let finiteSeen = 0;
  return values.map((v) => {
    if (v === null || !Number.isFinite(v)) return v;
    last = last * weight + (1 - weight) * v;
    finiteSeen++;
    return last / (1 - Math.pow(weight, finiteSeen));
  });
}
