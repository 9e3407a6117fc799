/** The vscode-free parts of the panel hosts: HTML/CSP, export decoding, command arguments, run order. */
import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { contentSecurityPolicy, makeNonce, panelHtml } from '../../extension/panels/html';
import { exportBytes, safeFileName } from '../../extension/panels/exportFile';
import { dashboardRunDirs, histogramsTarget } from '../../extension/panels/commandArgs';
import { orderRuns } from '../../extension/panels/runIndex';
import { isWebviewToHostMessage, MessageType } from '../../shared/webviewProtocol';
import type { RunInfo } from '../../shared/protocol';

test('CSP: nothing by default, nonce-only scripts, no unsafe-inline, images from the extension and data:', () => {
  const csp = contentSecurityPolicy('https://x.vscode-cdn.net', 'abc123');
  assert.equal(
    csp,
    "default-src 'none'; script-src 'nonce-abc123'; style-src https://x.vscode-cdn.net; img-src https://x.vscode-cdn.net data:; font-src https://x.vscode-cdn.net",
  );
  assert.ok(!csp.includes('unsafe'));
});

test('panel HTML: the one script carries the nonce, the CSP meta comes first, attributes escaped', () => {
  const html = panelHtml({
    title: 'A "dash" <board>',
    cspSource: 'vscode-src',
    nonce: 'N0nce',
    scriptUri: 'vscode-src/dashboard.js',
    styleUri: 'vscode-src/panels.css',
  });
  assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'nonce-N0nce';/);
  assert.equal(html.match(/<script/g)?.length, 1);
  assert.match(html, /<script nonce="N0nce" src="vscode-src\/dashboard.js"><\/script>/);
  assert.match(html, /<title>A &quot;dash&quot; &lt;board&gt;<\/title>/);
  assert.ok(html.indexOf('Content-Security-Policy') < html.indexOf('<link'));
});

test('panels.css: an element with the hidden attribute is hidden whatever its class displays as', () => {
  const css = readFileSync(join(__dirname, '..', '..', 'media', 'webview', 'panels.css'), 'utf8');
  // .charts is display: grid; the Histograms panel hides it (hidden = true) when a run has no histograms.
  assert.match(css, /\.charts \{ display: grid;/);
  assert.match(css, /^\[hidden\] \{ display: none !important; \}$/m);
});

test('nonces are 128-bit and differ', () => {
  const a = makeNonce();
  assert.equal(Buffer.from(a, 'base64').length, 16);
  assert.notEqual(a, makeNonce());
});

test('PNG export: accepts a PNG data URL, rejects anything else with an actionable message', () => {
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
  assert.deepEqual(Array.from(exportBytes('png', `data:image/png;base64,${png.toString('base64')}`)), Array.from(png));
  assert.throws(() => exportBytes('png', 'data:image/jpeg;base64,AAAA'), /not a PNG data URL.*export the chart again/);
  assert.throws(() => exportBytes('png', 'data:image/png;base64,AAAA'), /does not decode to a PNG/);
  assert.deepEqual(Array.from(exportBytes('csv', 'a,é')), [0x61, 0x2c, 0xc3, 0xa9]);
});

test('safe file names', () => {
  assert.equal(safeFileName('exp/run:1*?.csv'), 'exp-run-1-.csv');
  assert.equal(safeFileName('...'), 'export');
});

test('dashboard command arguments: {runDirs}, a tree item, a multi-selection, nothing', () => {
  assert.deepEqual(dashboardRunDirs({ runDirs: ['/a', '/b', '/a'] }), ['/a', '/b']);
  assert.deepEqual(dashboardRunDirs({ runDir: '/r', label: 'x' }), ['/r']);
  assert.deepEqual(dashboardRunDirs({ runDir: '/r' }, [{ runDir: '/r' }, { runDir: '/s' }, { other: 1 }]), ['/r', '/s']);
  assert.deepEqual(dashboardRunDirs(undefined), []);
  assert.deepEqual(dashboardRunDirs({ runDirs: [3, ''] }), []);
});

test('histograms command argument: run folder and layer, also from a Layers tree item', () => {
  assert.deepEqual(histogramsTarget({ runDir: '/r', layer: 'conv1' }), { runDir: '/r', layer: 'conv1' });
  assert.deepEqual(histogramsTarget({ runDir: '/r', stats: { layer: 'fc' } }), { runDir: '/r', layer: 'fc' });
  assert.deepEqual(histogramsTarget(undefined), { runDir: undefined, layer: undefined });
});

test('runs are ordered running first, then newest start', () => {
  const r = (runDir: string, status: RunInfo['status'], startedAt?: string): RunInfo => ({
    runDir,
    runId: runDir,
    experiment: 'e',
    status,
    epoch: 1,
    epochs: 2,
    startedAt,
  });
  const ordered = orderRuns([
    r('a', 'completed', '2026-01-01'),
    r('b', 'completed', '2026-02-01'),
    r('c', 'running', '2025-01-01'),
    r('d', 'failed'),
  ]);
  assert.deepEqual(
    ordered.map((x) => x.runDir),
    ['c', 'b', 'a', 'd'],
  );
});

test('messages from the webview are validated before the host acts on them', () => {
  assert.ok(isWebviewToHostMessage({ type: MessageType.Ready }));
  assert.ok(isWebviewToHostMessage({ type: MessageType.LoadRuns, runDirs: ['/a'], histograms: false }));
  assert.ok(!isWebviewToHostMessage({ type: MessageType.LoadRuns, runDirs: [1] }));
  assert.ok(isWebviewToHostMessage({ type: MessageType.SaveFile, format: 'csv', content: 'a', fileName: 'x.csv' }));
  assert.ok(isWebviewToHostMessage({ type: MessageType.OpenRun, runDir: '/runs/e/1' }));
  assert.ok(!isWebviewToHostMessage({ type: MessageType.OpenRun }));
  assert.ok(!isWebviewToHostMessage({ type: MessageType.SaveFile, format: 'exe', content: 'a', fileName: 'x' }));
  assert.ok(!isWebviewToHostMessage({ type: MessageType.Metrics }));
  assert.ok(!isWebviewToHostMessage(null));
});

test('a re-created panel gets its last state as escaped JSON in data-state', () => {
  const html = panelHtml({
    title: 't',
    cspSource: 'c',
    nonce: 'n',
    scriptUri: 's',
    styleUri: 'y',
    initialState: { layer: 'a"<b>', epoch: 3 },
  });
  const m = /<main id="app" aria-busy="true" data-state="([^"]*)">/.exec(html);
  assert.ok(m, 'data-state attribute missing');
  const decoded = m[1]
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
  assert.deepEqual(JSON.parse(decoded), { layer: 'a"<b>', epoch: 3 });
  assert.ok(!panelHtml({ title: 't', cspSource: 'c', nonce: 'n', scriptUri: 's', styleUri: 'y' }).includes('data-state'));
  assert.ok(isWebviewToHostMessage({ type: MessageType.State, state: { runDirs: [] } }));
  assert.ok(!isWebviewToHostMessage({ type: MessageType.State, state: null }));
});
