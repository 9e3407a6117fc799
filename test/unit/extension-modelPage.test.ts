/** The page of a model file in the editor (extension/modelFile/modelPage.ts): layers, sizes, actions. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { asModelPageMessage, modelPageHtml } from '../../extension/modelFile/modelPage';
import type { LayerStats } from '../../shared/layerStats';

const counts = { neg: 300, zero: 400, pos: 164 };
const layers: LayerStats[] = [
  {
    layer: 'conv1',
    type: 'Conv2D',
    ternary: false,
    shape: [3, 3, 1, 32],
    params: 320,
    bits: 32,
    delta: 0,
    alpha: 0,
    sparsity: 0,
    counts: { neg: 0, zero: 0, pos: 0 },
    branches: [],
  },
  {
    layer: 'conv2<x>',
    type: 'TernaryConv2D',
    ternary: true,
    shape: [3, 3, 32, 3],
    params: 864,
    bits: 4,
    delta: 0.0123,
    alpha: 0.0831,
    sparsity: 400 / 864,
    counts,
    branches: [
      { factor: 0.05, delta: 0.0123, alpha: 0.0831, sparsity: 0.46, counts },
      { factor: 0.1, delta: 0.02, alpha: 0.1, sparsity: 0.6, counts },
    ],
  },
];
const summary = {
  layers: 2,
  ternaryLayers: 1,
  params: 1184,
  ternaryParams: 864,
  fp32Bytes: 4736,
  ternaryBytes: 1716,
  compression: 4736 / 1716,
};
const doc = { cspSource: 'vscode-resource:', nonce: 'abc123', styleUri: 'vscode-resource:/panels.css' };

test('one row per layer with kind, shape, bits, Δ, α, sparsity and counts; float layers say so', () => {
  const html = modelPageHtml({ title: 'ternary-export/run/model.tern', fileBytes: 2048, layers, summary }, doc);
  const rows = html.match(/<tr[^>]*><td>[^<]*<\/td><td>(Conv2D|TernaryConv2D)<\/td>.*<\/tr>/g) ?? [];
  assert.equal(rows.length, 2);
  assert.match(rows[0]!, /class="float".*<td>float<\/td><td>3×3×1×32<\/td>/);
  assert.match(rows[1]!, /conv2&lt;x&gt;.*ternary × 2 \(REL\).*3×3×32×3.*864.*>4<.*0\.0123.*0\.0831.*46\.3%.*300 \/ 400 \/ 164/);
  assert.match(html, /this file<\/th><td class="num">2\.0 KiB/);
  assert.match(html, /1\.7 KiB \(2\.8× smaller\)/);
  assert.match(html, /2: 1 ternary, 1 float/);
  assert.doesNotMatch(html, /Open report\.md/, 'no report button without a report');
  assert.match(html, new RegExp(`script-src 'nonce-${doc.nonce}'`));
});

test('the report next to the file gets a button; the buttons post checked messages', () => {
  const html = modelPageHtml({ title: 'm.tern', fileBytes: 1, layers, summary, report: 'report.md' }, doc);
  for (const type of ['export', 'showLayers', 'openReport']) assert.ok(html.includes(`data-message="${type}"`), type);
  assert.deepEqual(asModelPageMessage({ type: 'export' }), { type: 'export' });
  assert.equal(asModelPageMessage({ type: 'rm -rf' }), undefined);
  assert.equal(asModelPageMessage('export'), undefined);
});
