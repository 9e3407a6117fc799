/**
 * The page of a model file opened in the editor (extension/modelFile/modelFileEditor.ts): what the
 * file holds, layer by layer (kind, shape, bits, Δ, α, sparsity, −α/0/+α counts), its sizes, where
 * it came from (the report next to it), and the actions Export and Show in Layers. Plain HTML built
 * here from the server's statistics, with one small script that posts the button clicks; free of
 * `vscode`, so it is unit-tested in Node.
 */
import type { LayerStats, ModelSummary } from '../../shared/layerStats';
import { escapeHtml, webviewDocument } from '../panels/html';
import { formatBytes, formatCompression, formatCount, formatNumber, formatPercent } from '../../shared/format';

export interface ModelPageInput {
  /** The file's name as the workspace shows it. */
  title: string;
  fileBytes: number;
  layers: LayerStats[];
  summary: ModelSummary;
  /** report.md next to the file, as the workspace shows it (an export's: sizes and parity). */
  report?: string;
}

/** What a button of the page asks the editor to do. */
export type ModelPageMessage = { type: 'export' } | { type: 'showLayers' } | { type: 'openReport' };

export interface ModelPageDocument {
  cspSource: string;
  nonce: string;
  styleUri: string;
}

function layerRow(l: LayerStats): string {
  const kind = l.ternary ? `ternary${l.branches.length > 1 ? ` × ${l.branches.length} (REL)` : ''}` : 'float';
  const cells = l.ternary
    ? [
        formatNumber(l.delta),
        formatNumber(l.alpha),
        formatPercent(l.sparsity),
        `${formatCount(l.counts.neg)} / ${formatCount(l.counts.zero)} / ${formatCount(l.counts.pos)}`,
      ]
    : ['–', '–', '–', '–'];
  return `<tr${l.ternary ? '' : ' class="float"'}><td>${escapeHtml(l.layer)}</td><td>${escapeHtml(l.type)}</td><td>${kind}</td><td>${l.shape.join('×')}</td><td class="num">${formatCount(l.params)}</td><td class="num">${formatCount(l.bits)}</td>${cells.map((c) => `<td class="num">${c}</td>`).join('')}</tr>`;
}

/** The whole page. */
export function modelPageHtml(input: ModelPageInput, doc: ModelPageDocument): string {
  const s = input.summary;
  const floatLayers = s.layers - s.ternaryLayers;
  return webviewDocument({
    title: input.title,
    cspSource: doc.cspSource,
    nonce: doc.nonce,
    styleUri: doc.styleUri,
    body: `<main class="model-page">
<h1>${escapeHtml(input.title)}</h1>
<div class="toolbar field-buttons">
<button data-message="export">Export</button>
<button data-message="showLayers">Show in Layers</button>
${input.report ? `<button data-message="openReport">Open ${escapeHtml(input.report)}</button>` : ''}
</div>
<table class="sizes">
<tr><th>this file</th><td class="num">${formatBytes(input.fileBytes)}</td></tr>
<tr><th>all weights in float32</th><td class="num">${formatBytes(s.fp32Bytes)}</td></tr>
<tr><th>ternary kernels packed (as model.tern stores them)</th><td class="num">${formatBytes(s.ternaryBytes)} (${formatCompression(s.compression)})</td></tr>
<tr><th>layers</th><td class="num">${formatCount(s.layers)}: ${formatCount(s.ternaryLayers)} ternary${floatLayers ? `, ${formatCount(floatLayers)} float` : ''}</td></tr>
<tr><th>parameters</th><td class="num">${formatCount(s.params)}, ${formatCount(s.ternaryParams)} of them ternary</td></tr>
</table>
<table class="layers">
<thead><tr><th>layer</th><th>class</th><th>kind</th><th>shape</th><th class="num">params</th><th class="num">bits/weight</th><th class="num">Δ</th><th class="num">α</th><th class="num">sparsity</th><th class="num">−α / 0 / +α</th></tr></thead>
<tbody>
${input.layers.map(layerRow).join('\n')}
</tbody>
</table>
</main>`,
    script: {
      inline: `const vscode = acquireVsCodeApi();
for (const button of document.querySelectorAll('button[data-message]')) {
  button.addEventListener('click', () => vscode.postMessage({ type: button.dataset.message }));
}`,
    },
  });
}

/** A message from the page, checked: anything else is ignored. */
export function asModelPageMessage(raw: unknown): ModelPageMessage | undefined {
  const type = typeof raw === 'object' && raw !== null ? (raw as { type?: unknown }).type : undefined;
  return type === 'export' || type === 'showLayers' || type === 'openReport' ? { type } : undefined;
}
