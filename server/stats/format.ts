/**
 * The per-layer table as plain text, for `tern stats`, `tern ternarize`, `tern train` and the
 * demo: like Larq's model summary (bits and memory per layer), plus Δ, α, sparsity, the relative
 * reconstruction error ‖W − Ŵ‖ / ‖W‖ and counts.
 */
import type { LayerStats, ModelSummary } from '../../shared/layerStats';
import { formatBytes, formatCompression, formatCount, formatNumber, formatPercent } from '../../shared/format';

const num = (value: number): string => formatNumber(value, 4);

interface Column {
  title: string;
  right: boolean;
}

const COLUMNS: Column[] = [
  { title: 'Layer', right: false },
  { title: 'Type', right: false },
  { title: 'Shape', right: false },
  { title: 'Params', right: true },
  { title: 'Bits', right: true },
  { title: 'Δ', right: true },
  { title: 'α', right: true },
  { title: 'Sparsity', right: true },
  { title: 'Rel. err', right: true },
  { title: '−α / 0 / +α', right: true },
];

function rowsOf(s: LayerStats): string[][] {
  const shape = s.shape.join('×');
  if (!s.ternary) return [[s.layer, s.type, shape, formatCount(s.params), String(s.bits), '—', '—', '—', '—', 'float']];
  const relError = s.relError === undefined ? '—' : formatPercent(s.relError);
  const counts = (c: LayerStats['counts']): string => `${formatCount(c.neg)} / ${formatCount(c.zero)} / ${formatCount(c.pos)}`;
  const rows = [
    [
      s.layer,
      s.type,
      shape,
      formatCount(s.params),
      String(s.bits),
      num(s.delta),
      num(s.alpha),
      formatPercent(s.sparsity),
      relError,
      counts(s.counts),
    ],
  ];
  // REL: one extra row per further branch, under the layer's first-branch row (the error is the layer's, of all branches).
  // Optimal thresholds have no set factor: show the one that came out, Δ_k / max|W|.
  const factor = (f: number): string => (s.threshold === 'optimal' ? `f ≈ ${num(f)}` : `f = ${f}`);
  s.branches.slice(1).forEach((b, i) => {
    rows.push([
      `  └ branch ${i + 2}`,
      factor(b.factor),
      '',
      '',
      '',
      num(b.delta),
      num(b.alpha),
      formatPercent(b.sparsity),
      '',
      counts(b.counts),
    ]);
  });
  return rows;
}

/** The column of 8-bit activations: an int8 layer's input range and scale (docs/method.md). */
const INPUT_COLUMN: Column = { title: 'Input int8: range, scale', right: false };

function inputCell(s: LayerStats): string {
  return s.input ? `${num(s.input.min)} … ${num(s.input.max)}, ${num(s.input.scale)}` : s.ternary ? 'float' : '—';
}

/** A fixed-width table of `stats` followed by the size summary (with an input column when a layer quantizes its input). */
export function formatLayerTable(stats: LayerStats[], summary: ModelSummary): string {
  const int8 = stats.some((s) => s.input);
  const columns = int8 ? [...COLUMNS, INPUT_COLUMN] : COLUMNS;
  const withInput = (s: LayerStats): string[][] => rowsOf(s).map((r, i) => (int8 ? [...r, i === 0 ? inputCell(s) : ''] : r));
  const rows = [columns.map((c) => c.title), ...stats.flatMap(withInput)];
  const widths = columns.map((_, i) => Math.max(...rows.map((r) => [...r[i]].length)));
  const line = (r: string[]): string =>
    r
      .map((cell, i) => (columns[i].right ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const rule = '─'.repeat(widths.reduce((a, b) => a + b, 0) + 2 * (widths.length - 1));
  return [
    line(rows[0]),
    rule,
    ...rows.slice(1).map(line),
    rule,
    `Parameters: ${formatCount(summary.params)} (${formatCount(summary.ternaryParams)} ternary, in ${summary.ternaryLayers} of ${summary.layers} conv/dense layers)`,
    summary.ternaryLayers === 0
      ? `Size: ${formatBytes(summary.fp32Bytes)} in float32; no ternary layers (\`tern ternarize\` writes the ternary twin)`
      : `Size: ${formatBytes(summary.fp32Bytes)} in float32 → ${formatBytes(summary.ternaryBytes)} with packed ternary kernels (model.tern): ${formatCompression(summary.compression)}`,
  ].join('\n');
}
