/**
 * Integration tests inside the real extension host (code-server, `extensionTestsPath`), run by
 * test/e2e/suite/cases.ts: in order, each with a timeout, reporting to $TERNARY_E2E_REPORT.
 * Environment (set on the code-server process by test/e2e/run.ts): TERNARY_E2E_REPORT,
 * TERNARY_E2E_EXAMPLE (the example config), TERNARY_E2E_CONFIG (the tiny workspace's config).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { report, runCases, test, waitFor } from './cases';
import type { TernaryApi } from '../../../extension/extension';
import { locateExperiments } from '../../../extension/experimentLocator';
import type { EvaluateResult, ExportResult, TrainResult } from '../../../shared/protocol';
import type { LayersRecord } from '../../../shared/runRecords';

const configPath = process.env.TERNARY_E2E_CONFIG ?? '';
const examplePath = process.env.TERNARY_E2E_EXAMPLE ?? '';

let api: TernaryApi;
let trained: TrainResult | undefined;

test('the extension activates and its training server starts on the backend of the settings', 60_000, async () => {
  const extension = vscode.extensions.getExtension<TernaryApi>('ternary-studio.ternary-studio');
  assert.ok(extension, 'extension ternary-studio.ternary-studio is not installed');
  api = await extension.activate();
  assert.ok(api, 'activate() returned no API (activation failed; see the Ternary log)');
  await waitFor('the server to run', 30_000, () => api.serverRunning());
  // The harness sets "ternary.backend": "wasm" in the user settings: it must reach the server.
  assert.equal(api.serverBackend(), 'wasm');
});

test('every command is registered', 10_000, async () => {
  const all = new Set(await vscode.commands.getCommands(true));
  const ours = [
    'train',
    'evaluate',
    'ternarizeModel',
    'exportRun',
    'stop',
    'showDashboard',
    'showHistograms',
    'restartServer',
    'showServerLog',
    'showLayerStats',
    'refreshExperiments',
    'resume',
  ].map((c) => `ternary.${c}`);
  assert.deepEqual(
    ours.filter((c) => !all.has(c)),
    [],
    'commands missing',
  );
});

test('code lenses appear above each experiment of the example config', 20_000, async () => {
  assert.ok(existsSync(examplePath), `example config ${examplePath} is missing`);
  const document = await vscode.workspace.openTextDocument(examplePath);
  assert.equal(document.languageId, 'jsonc', '*.tern.json should open as JSON with comments');
  const experiments = locateExperiments(document.getText()).filter((e) => e.name !== undefined);
  assert.ok(experiments.length >= 1, 'the example holds no experiment');
  const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', document.uri, 100);
  for (const experiment of experiments) {
    const line = document.positionAt(experiment.offset).line;
    const titles = lenses.filter((l) => l.range.start.line === line).map((l) => l.command?.title.replace(/^\$\([^)]*\)\s*/, ''));
    assert.deepEqual(titles, ['Train', 'Evaluate', 'Ternarize', 'Dashboard'], `lenses above ${experiment.name} (line ${line + 1})`);
  }
});

test('the contributed JSON Schema explains a *.tern.json; a typo is marked once, by the server', 60_000, async () => {
  const dir = path.join(path.dirname(configPath), 'schema-check');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'bad.tern.json');
  writeFileSync(
    file,
    '{\n  // a typo\n  "experiments": [{ "name": "x", "model": { "classes": 10 }, "data": { "format": "idx", "path": "d" }, "epochz": 3 }]\n}\n',
  );
  const document = await vscode.workspace.openTextDocument(file);
  await vscode.window.showTextDocument(document);
  // The schema VS Code has for *.tern.json explains (hover) but validates nothing
  // (scripts/editorSchema.mjs): the server's diagnostic is the one entry for the typo.
  const key = document.positionAt(document.getText().indexOf('"experiments"') + 2);
  const hoverText = await waitFor('a hover from the contributed schema', 45_000, async () => {
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', document.uri, key);
    const text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
    return text.trim() ? text : undefined;
  });
  const diagnostic = await waitFor('the server\'s diagnostic on "epochz"', 45_000, () =>
    vscode.languages.getDiagnostics(document.uri).find((d) => d.source === 'ternary' && /epochz/.test(document.getText(d.range))),
  );
  assert.match(diagnostic.message, /is not a known property/);
  assert.deepEqual(
    vscode.languages
      .getDiagnostics(document.uri)
      .filter((d) => /epochz/.test(document.getText(d.range)))
      .map((d) => d.source),
    ['ternary'],
    'one entry for the typo',
  );
  report(`  hover: ${hoverText.split('\n')[0]}; diagnostic: ${diagnostic.message}`);
  await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  rmSync(dir, { recursive: true, force: true });
});

test('Train runs the tiny experiment to completion', 180_000, async () => {
  trained = await vscode.commands.executeCommand<TrainResult>('ternary.train', { configPath, experiment: 'tiny' });
  assert.ok(trained, 'the train command returned nothing (see the Ternary log)');
  assert.equal(trained.summary.status, 'completed', `run ended ${trained.summary.status}: ${trained.summary.reason ?? ''}`);
  assert.equal(trained.summary.epochs, 2);
  report(`  run ${trained.runDir}: top-1 ${trained.summary.final.top1}, ${trained.summary.wallSeconds.toFixed(1)} s`);
});

test('the Experiments tree shows the run as completed', 20_000, async () => {
  assert.ok(trained);
  const runId = trained.summary.runId;
  const run = await waitFor(`run ${runId} in the Experiments tree`, 10_000, async () => {
    const tree = await api.experimentsTree();
    const experiment = tree.find((c) => c.label === 'tiny.tern.json')?.children.find((e) => e.label === 'tiny');
    return experiment?.children.find((r) => r.tooltip?.includes(runId) && r.contextValue === 'ternary.run.completed');
  });
  assert.match(run.description ?? '', /^epoch 2\/2 · \d+\.\d%$/);
});

function lastLayersRecord(runDir: string): LayersRecord {
  const lines = readFileSync(path.join(runDir, 'layers.jsonl'), 'utf8').trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as LayersRecord;
}

function expectLayersTreeMatches(record: LayersRecord, items: Awaited<ReturnType<TernaryApi['layersTree']>>): void {
  const ternary = record.layers.filter((l) => l.ternary);
  assert.ok(ternary.length > 0, 'layers.jsonl holds no ternary layer');
  const ternaryItems = items.filter((i) => i.contextValue?.startsWith('ternary.layer.ternary'));
  assert.deepEqual(
    ternaryItems.map((i) => i.label),
    ternary.map((l) => l.layer),
    'one item per ternary layer, in order',
  );
  ternary.forEach((layer, i) => {
    // Independent of the extension's formatter: sparsity to 0.1 %.
    const expected = `${(layer.sparsity * 100).toFixed(1)}% zero`;
    assert.ok(
      ternaryItems[i]!.description?.startsWith(`${expected} · α `),
      `${layer.layer}: "${ternaryItems[i]!.description}" should start with "${expected}"`,
    );
  });
}

test('the Layers tree shows one item per ternary layer with the sparsity of layers.jsonl', 20_000, async () => {
  assert.ok(trained);
  const record = lastLayersRecord(trained.runDir);
  // Followed live during the run: the last epoch's notification.
  const live = api.layersData();
  assert.equal(live.source?.kind, 'run');
  assert.deepEqual(
    live.layers.map((l) => l.sparsity),
    record.layers.map((l) => l.sparsity),
    'live layer stats = layers.jsonl',
  );
  expectLayersTreeMatches(record, await api.layersTree());
  // Showing the run's layers through its command (as the Experiments view's context menu does) reads the same from disk.
  await vscode.commands.executeCommand('ternary.showLayerStats', { runDir: trained.runDir });
  expectLayersTreeMatches(record, await api.layersTree());
});

test('with t_ex = 2 each Layers item has its two REL branches as children, with the branches of layers.jsonl', 120_000, async () => {
  const result = await vscode.commands.executeCommand<TrainResult>('ternary.train', { configPath, experiment: 'tiny-rel' });
  assert.equal(result?.summary.status, 'completed');
  const record = lastLayersRecord(result.runDir);
  const items = await waitFor('the Layers tree to show tiny-rel', 10_000, async () => {
    const data = api.layersData();
    return data.source?.kind === 'run' && data.source.runId === result.summary.runId ? api.layersTree() : undefined;
  });
  const ternary = record.layers.filter((l) => l.ternary);
  assert.ok(ternary.length > 0);
  for (const layer of ternary) {
    const item = items.find((i) => i.label === layer.layer);
    assert.ok(item, `no item for ${layer.layer}`);
    assert.equal(layer.branches.length, 2);
    assert.deepEqual(
      item.children.map((c) => c.label),
      layer.branches.map((b, k) => `branch ${k + 1} · f ${Number(b.factor.toPrecision(3))}`),
    );
    item.children.forEach((child, k) => {
      assert.ok(
        child.description?.startsWith(`${(layer.branches[k]!.sparsity * 100).toFixed(1)}% zero`),
        `${layer.layer} branch ${k + 1}: ${child.description}`,
      );
    });
  }
  // Back to the 2-epoch run for the tests below.
  await vscode.commands.executeCommand('ternary.showLayerStats', { runDir: trained!.runDir });
});

test('Evaluate reports the test accuracy of the run', 60_000, async () => {
  const result = await vscode.commands.executeCommand<EvaluateResult>('ternary.evaluate', { configPath, experiment: 'tiny' });
  assert.ok(result, 'the evaluate command returned nothing');
  assert.equal(result.examples, 32);
  assert.ok(result.top1 >= 0 && result.top1 <= 1 && result.top5 >= result.top1, `top-1 ${result.top1}, top-5 ${result.top5}`);
});

test(
  'Export Run writes the model (as trained, model.onnx, model.tern, stock tfjs), metrics.csv, layers.csv and report.md with sizes and parity',
  120_000,
  async () => {
    assert.ok(trained);
    const result = await vscode.commands.executeCommand<ExportResult>('ternary.exportRun', { runDir: trained.runDir });
    assert.ok(result, 'the export command returned nothing');
    const workspace = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
    assert.equal(result.outDir, path.join(workspace, 'ternary-export', `tiny-${trained.summary.runId}`));
    for (const file of [
      'metrics.csv',
      'layers.csv',
      'report.md',
      'model/model.json',
      'model.onnx',
      'model.tern',
      'tfjs/model.json',
      'tfjs/weights.bin',
    ]) {
      assert.ok(existsSync(path.join(result.outDir, file)), `${file} missing in ${result.outDir}`);
    }
    // Parity ran in the server on the experiment's test images: ONNX Runtime, stock tfjs, model.tern.
    assert.deepEqual(
      result.model?.parity?.results.map((r) => [r.file, r.ok]),
      [
        ['model.onnx', true],
        ['tfjs/', true],
        ['model.tern', true],
      ],
    );
    const metricsRows = readFileSync(path.join(result.outDir, 'metrics.csv'), 'utf8').trim().split('\n');
    assert.ok(metricsRows.length >= 3, 'metrics.csv: a header and at least two epochs');
    const report = readFileSync(path.join(result.outDir, 'report.md'), 'utf8');
    for (const layer of lastLayersRecord(trained.runDir).layers)
      assert.ok(report.includes(layer.layer), `report.md lacks layer ${layer.layer}`);
    // The report shows the sizes (model.tern against its arithmetic minimum) and the parity table.
    const ternBytes = statSync(path.join(result.outDir, 'model.tern')).size;
    assert.ok(report.includes(`| model.tern | ${ternBytes.toLocaleString('en-US')} B`), 'report.md lacks the model.tern size');
    assert.match(report, /arithmetic minimum [\d,]+ bytes/);
    assert.match(report, /\| model\.onnx \| ONNX Runtime \| [^|]+ \| [^|]+ \| 100\.00% \(\d+\) \| ok \|/);
    assert.match(report, /Inputs: first \d+ test images of /);
  },
);

test('Show Layer Stats on the exported model.tern shows the same layers, codes unchanged', 60_000, async () => {
  assert.ok(trained);
  const workspace = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
  const tern = path.join(workspace, 'ternary-export', `tiny-${trained.summary.runId}`, 'model.tern');
  await vscode.commands.executeCommand('ternary.showLayerStats', vscode.Uri.file(tern));
  const shown = api.layersData();
  assert.deepEqual(shown.source, { kind: 'model', modelPath: tern });
  const record = lastLayersRecord(trained.runDir);
  assert.deepEqual(
    shown.layers.map((l) => l.layer),
    record.layers.map((l) => l.layer),
  );
  // Latent weights rebuilt from the codes ternarize to the same codes: same sparsity and counts.
  shown.layers.forEach((l, i) => assert.deepEqual(l.counts, record.layers[i]!.counts, l.layer));
});

test(
  'Export Model on the exported model.tern (a model, not a run): model.onnx, model.tern, stock tfjs and report.md, parity checked',
  120_000,
  async () => {
    assert.ok(trained);
    const workspace = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
    const tern = path.join(workspace, 'ternary-export', `tiny-${trained.summary.runId}`, 'model.tern');
    const result = await vscode.commands.executeCommand<ExportResult>('ternary.exportModel', vscode.Uri.file(tern));
    assert.ok(result, 'the export command returned nothing');
    // Named after the model's folder (shared/exportFolder.ts), as `tern export` names it; that is
    // where the model is, so the run's export keeps its files and this one goes next to it.
    assert.equal(result.outDir, path.join(workspace, 'ternary-export', `tiny-${trained.summary.runId}-export`));
    assert.ok(existsSync(path.join(path.dirname(tern), 'metrics.csv')), "the run's export is untouched");
    for (const file of ['model.onnx', 'model.tern', 'tfjs/model.json', 'report.md'])
      assert.ok(result.files.includes(file) && existsSync(path.join(result.outDir, file)), `${file} missing: ${result.files.join(', ')}`);
    assert.deepEqual(
      result.model?.parity?.results.map((r) => [r.file, r.ok]),
      [
        ['model.onnx', true],
        ['tfjs/', true],
        ['model.tern', true],
      ],
    );
  },
);

test('a .tern file opens as a page: its layer table, sizes and report, with Export and Show in Layers', 60_000, async () => {
  assert.ok(trained);
  const workspace = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
  const tern = path.join(workspace, 'ternary-export', `tiny-${trained.summary.runId}`, 'model.tern');
  await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(tern));
  const html = await waitFor('the model page of model.tern', 30_000, () => api.modelPages()[tern]);
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  assert.ok(input instanceof vscode.TabInputCustom && input.viewType === 'ternary.modelFile', 'model.tern opened in the model file editor');
  for (const layer of lastLayersRecord(trained.runDir).layers)
    assert.ok(html.includes(`<td>${layer.layer}</td>`), `the page lacks ${layer.layer}`);
  assert.match(html, /this file<\/th><td class="num">[\d.]+ (B|KiB|MiB)</);
  assert.ok(html.includes('data-message="export"') && html.includes('data-message="showLayers"') && html.includes('Open report.md'));
  await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
});

test(
  'Export Model on the exported model.onnx (INT2 codes) reads it back as the ternary model; it opens as a page too',
  120_000,
  async () => {
    assert.ok(trained);
    const workspace = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
    const onnx = path.join(workspace, 'ternary-export', `tiny-${trained.summary.runId}`, 'model.onnx');
    const result = await vscode.commands.executeCommand<ExportResult>('ternary.exportModel', vscode.Uri.file(onnx));
    assert.ok(result, 'the export command returned nothing');
    assert.deepEqual(
      result.model?.parity?.results.map((r) => [r.file, r.ok]),
      [
        ['model.onnx', true],
        ['tfjs/', true],
        ['model.tern', true],
      ],
    );
    await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(onnx));
    const html = await waitFor('the model page of model.onnx', 30_000, () => api.modelPages()[onnx]);
    const record = lastLayersRecord(trained.runDir);
    for (const layer of record.layers) assert.ok(html.includes(`<td>${layer.layer}</td>`), `the page lacks ${layer.layer}`);
    assert.match(html, new RegExp(`${record.layers.length} ternary`), 'its layers read back as ternary');
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  },
);

test('Show Layer Stats on an exported model.json fills the Layers tree from the model file', 60_000, async () => {
  assert.ok(trained);
  const workspace = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
  const modelJson = path.join(workspace, 'ternary-export', `tiny-${trained.summary.runId}`, 'model', 'model.json');
  await vscode.commands.executeCommand('ternary.showLayerStats', vscode.Uri.file(modelJson));
  const shown = api.layersData();
  assert.deepEqual(shown.source, { kind: 'model', modelPath: modelJson });
  const record = lastLayersRecord(trained.runDir);
  assert.deepEqual(
    shown.layers.map((l) => l.layer),
    record.layers.map((l) => l.layer),
  );
  // The final model's weights are the last epoch's: same ternarization, same sparsity.
  shown.layers.forEach((l, i) =>
    assert.ok(Math.abs(l.sparsity - record.layers[i]!.sparsity) < 1e-9, `${l.layer}: ${l.sparsity} vs ${record.layers[i]!.sparsity}`),
  );
});

test('Restart Server brings up a new server that answers', 60_000, async () => {
  await vscode.commands.executeCommand('ternary.restartServer');
  assert.ok(api.serverRunning(), 'server not running after restart');
  const tree = await api.experimentsTree();
  assert.ok(
    tree
      .find((c) => c.label === 'tiny.tern.json')
      ?.children.find((e) => e.label === 'tiny')
      ?.children.some((r) => r.contextValue === 'ternary.run.completed'),
  );
});

test('Stop cancels a running training within moments, and the status bar showed its progress', 120_000, async () => {
  const ref = { configPath, experiment: 'tiny-long' };
  const training = vscode.commands.executeCommand<TrainResult>('ternary.train', ref);
  const status = await waitFor('the status bar to show the epoch', 60_000, () => {
    const text = api.statusBarText();
    return text !== undefined && /tiny-long · epoch \d+\/200 · \d+%/.test(text) ? text : undefined;
  });
  report(`  status bar: ${status}`);
  const stoppedAt = Date.now();
  await vscode.commands.executeCommand('ternary.stop', ref);
  const result = await training;
  assert.ok(result, 'the train command returned nothing');
  assert.equal(result.summary.status, 'cancelled');
  assert.ok(result.summary.epochs < 200);
  report(`  stopped ${Date.now() - stoppedAt} ms after Stop`);
  await waitFor('the status bar to clear', 5_000, () => api.statusBarText() === undefined);
  await waitFor('the cancelled run in the tree', 10_000, async () => {
    const tree = await api.experimentsTree();
    const experiment = tree.find((c) => c.label === 'tiny.tern.json')?.children.find((e) => e.label === 'tiny-long');
    return experiment?.children.some(
      (r) => r.tooltip?.includes(result.summary.runId) && r.contextValue?.startsWith('ternary.run.cancelled'),
    );
  });
});

/** The training server processes this extension host started (children running dist/server.js). */
function serverChildren(): number[] {
  const serverJs = path.join(vscode.extensions.getExtension('ternary-studio.ternary-studio')!.extensionPath, 'dist', 'server.js');
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, parentField] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const parent = Number(parentField);
      // A killed child stays in /proc as a zombie until the extension host reaps it.
      if (state === 'Z') continue;
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (parent === process.pid && cmdline.split('\0').includes(serverJs)) pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

test('a crashed server is noticed, not respawned silently, and Restart Server recovers', 60_000, async () => {
  // The previous test's restart may leave the old server a moment to exit: wait for one.
  await waitFor('a single training server process', 10_000, () => serverChildren().length === 1);
  const [pid] = serverChildren();
  process.kill(pid, 'SIGKILL');
  await waitFor('the extension to notice the crash', 10_000, () => !api.serverRunning());
  // The policy is to tell the user and offer a restart, not to respawn silently: no server
  // process may (re)appear.
  await waitFor('the killed server to be gone', 10_000, () => serverChildren().length === 0);
  assert.deepEqual(serverChildren(), []);
  assert.equal(api.serverRunning(), false);
  await vscode.commands.executeCommand('ternary.restartServer');
  assert.ok(api.serverRunning());
  assert.equal(serverChildren().length, 1);
});

export function run(): Promise<void> {
  return runCases('integration');
}
