/** Number formats shared by the trees, lenses, status bar and messages (pure; unit-tested). */
import type { BranchStats, LayerStats } from '../shared/layerStats';

export function percent(fraction: number, digits = 1): string {
  return `${(fraction * 100).toFixed(digits)}%`;
}

/** Three significant digits, plain for ordinary magnitudes, exponent for tiny/huge ones. */
export function short(value: number): string {
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e-3 && magnitude < 1e4) return Number(value.toPrecision(3)).toString();
  return value.toExponential(2);
}

/** What a Layers tree item says next to its name, e.g. "sparsity 41.2% · α 0.083 · Δ 0.012". */
export function layerDescription(stats: LayerStats | BranchStats): string {
  return `sparsity ${percent(stats.sparsity)} · α ${short(stats.alpha)} · Δ ${short(stats.delta)}`;
}

export function bytes(count: number): string {
  if (count < 1024) return `${count} B`;
  if (count < 1024 * 1024) return `${(count / 1024).toFixed(1)} KiB`;
  return `${(count / 1024 / 1024).toFixed(2)} MiB`;
}

/** Escapes text for a Markdown table cell. */
export function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}
