/**
 * The per-layer table as plain text, for `tern stats`, `tern ternarize`, `tern train` and the
 * demo: like Larq's model summary (bits and memory per layer), plus Δ, α, sparsity, the relative
 * reconstruction error ‖W − Ŵ‖ / ‖W‖ and counts.
 */
import type { LayerStats, ModelSummary } from '../../shared/layerStats';

function num(value: number): string {
  if (value === 0) return '0';
  const abs = Math.abs(value);
  return abs >= 1e-3 && abs < 1e4 ? value.toPrecision(4) : value.toExponential(2);
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(2)} MiB`;
}

const percent = (x: number): string => `${(100 * x).toFixed(1)}%`;
const thousands = (n: number): string => n.toLocaleString('en-US');

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
  if (!s.ternary) return [[s.layer, s.type, shape, thousands(s.params), String(s.bits), '—', '—', '—', '—', 'float']];
  const relError = s.relError === undefined ? '—' : percent(s.relError);
  const counts = (c: LayerStats['counts']): string => `${thousands(c.neg)} / ${thousands(c.zero)} / ${thousands(c.pos)}`;
  const rows = [
    [
      s.layer,
      s.type,
      shape,
      thousands(s.params),
      String(s.bits),
      num(s.delta),
      num(s.alpha),
      percent(s.sparsity),
      relError,
      counts(s.counts),
    ],
  ];
  // REL: one extra row per further branch, under the layer's first-branch row (the error is the layer's, of all branches).
  // Optimal thresholds have no set factor: show the one that came out, Δ_k / max|W|.
  const factor = (f: number): string => (s.threshold === 'optimal' ? `f ≈ ${num(f)}` : `f = ${f}`);
  s.branches.slice(1).forEach((b, i) => {
    rows.push([`  └ branch ${i + 2}`, factor(b.factor), '', '', '', num(b.delta), num(b.alpha), percent(b.sparsity), '', counts(b.counts)]);
  });
  return rows;
}

/** A fixed-width table of `stats` followed by the size summary. */
export function formatLayerTable(stats: LayerStats[], summary: ModelSummary): string {
  const rows = [COLUMNS.map((c) => c.title), ...stats.flatMap(rowsOf)];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((r) => [...r[i]].length)));
  const line = (r: string[]): string =>
    r
      .map((cell, i) => (COLUMNS[i].right ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const rule = '─'.repeat(widths.reduce((a, b) => a + b, 0) + 2 * (widths.length - 1));
  return [
    line(rows[0]),
    rule,
    ...rows.slice(1).map(line),
    rule,
    `Parameters: ${thousands(summary.params)} (${thousands(summary.ternaryParams)} ternary, in ${summary.ternaryLayers} of ${summary.layers} conv/dense layers)`,
    summary.ternaryLayers === 0
      ? `Size: ${bytes(summary.fp32Bytes)} in float32; no ternary layers (\`tern ternarize\` writes the ternary twin)`
      : `Size: ${bytes(summary.fp32Bytes)} in float32 → ${bytes(summary.ternaryBytes)} with packed ternary kernels (model.tern): ${summary.compression.toFixed(2)}× smaller`,
  ].join('\n');
}
