/**
 * How every part writes numbers for people: sizes, counts, percentages, ratios, durations, times,
 * lists of epochs and signed values, one way in the trees, the status bar, notifications, the
 * panels, the model page, `tern` and report.md. Pure (no Node, DOM or vscode); unit-tested
 * (test/unit/shared-format.test.ts). Files for programs (CSV, JSON) keep plain numbers.
 */

/** The minus sign (U+2212) every display uses, also in exponents: never the hyphen. */
export const MINUS = '\u2212';

const withMinus = (text: string): string => text.replace(/-/g, MINUS);

/** Three (or `digits`) significant digits, plain for ordinary magnitudes, an exponent for tiny and huge ones: 0.0829, 123, 1.23e−4. */
export function formatNumber(value: number, digits = 3): string {
  if (!Number.isFinite(value)) return Number.isNaN(value) ? 'NaN' : value > 0 ? '∞' : `${MINUS}∞`;
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e-3 && magnitude < 1e4) return withMinus(String(Number(value.toPrecision(digits))));
  const [mantissa, exponent] = value.toExponential(digits - 1).split('e');
  return withMinus(`${String(Number(mantissa))}e${Number(exponent)}`);
}

/** `decimals` fixed decimals with the minus sign: −0.20 (chart ticks that share their decimals). */
export function formatFixed(value: number, decimals: number): string {
  return withMinus(value.toFixed(decimals));
}

/** A whole count with thousands separators: 1,234,567. */
export function formatCount(count: number): string {
  return withMinus(Math.round(count).toLocaleString('en-US'));
}

/** A fraction as a percentage: 0.9166 → "91.7%" (`digits` decimals). */
export function formatPercent(fraction: number, digits = 1): string {
  if (!Number.isFinite(fraction)) return '–';
  return `${withMinus((fraction * 100).toFixed(digits))}%`;
}

const KIB = 1024;
const MIB = KIB * 1024;
const GIB = MIB * 1024;

/** A size in bytes, in the largest binary unit below it: 812 B, 103.2 KiB, 1.61 MiB, 2.05 GiB. */
export function formatBytes(bytes: number): string {
  if (bytes < KIB) return `${formatCount(bytes)} B`;
  if (bytes < MIB) return `${(bytes / KIB).toFixed(1)} KiB`;
  if (bytes < GIB) return `${(bytes / MIB).toFixed(2)} MiB`;
  return `${(bytes / GIB).toFixed(2)} GiB`;
}

/**
 * How much smaller a size is than float32: "15.9× smaller"; "the same size" within 5 % (a float
 * model, not "1.0× smaller"); "1.2× larger".
 */
export function formatCompression(ratio: number): string {
  if (!Number.isFinite(ratio) || ratio <= 0) return 'size unknown';
  if (ratio >= 1.05) return `${ratio.toFixed(1)}× smaller`;
  if (ratio <= 1 / 1.05) return `${(1 / ratio).toFixed(1)}× larger`;
  return 'the same size';
}

/** "1.61 MiB → 103.2 KiB (15.9× smaller)": a size before and after. */
export function formatSizeChange(before: number, after: number): string {
  return `${formatBytes(before)} → ${formatBytes(after)} (${formatCompression(after > 0 ? before / after : Infinity)})`;
}

/** A duration: "4.2 s", "42 s", "3 min 05 s", "2 h 03 min" (tenths only where they are a visible share). */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '–';
  if (seconds < 9.95) return `${seconds.toFixed(1)} s`;
  const whole = Math.round(seconds);
  if (whole < 60) return `${whole} s`;
  if (whole < 3600) return `${Math.floor(whole / 60)} min ${String(whole % 60).padStart(2, '0')} s`;
  const minutes = Math.round(seconds / 60);
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

const two = (n: number): string => String(n).padStart(2, '0');

/**
 * A moment in the viewer's local time, "2026-12-06 07:31:04", from an ISO time or epoch
 * milliseconds; text that is not a time is returned as it is.
 */
export function formatDateTime(time: string | number): string {
  const date = new Date(time);
  if (Number.isNaN(date.getTime())) return String(time);
  return (
    `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())} ` +
    `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`
  );
}

/** "a", "a and b", "a, b and c". */
export function formatList(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** "1 epoch", "1,000 epochs": a count and its noun agree. */
export function formatQuantity(count: number, noun: string): string {
  return `${formatCount(count)} ${count === 1 ? noun : `${noun}s`}`;
}

/** "epoch 3", "epochs 3 and 6": a number and its noun agree. */
export function formatEpochs(epochs: readonly number[]): string {
  return `${epochs.length === 1 ? 'epoch' : 'epochs'} ${formatList(epochs.map(String))}`;
}
