/**
 * The editor as a user meets it, inside the real extension host of
 * code-server, in a workspace OUTSIDE this repository (test/e2e/editor-run.ts builds it): a copy
 * of examples/ (the config as shipped, its data) and a tiny config for quick runs.
 * Environment: TERNARY_E2E_REPORT, TERNARY_E2E_WORKSPACE, TERNARY_E2E_GREP (optional).
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { report, runCases, test, waitFor } from './cases';
import type { RenderedItem, TernaryApi } from '../../../extension/extension';
import type { TrainResult } from '../../../shared/protocol';
import type { DeleteRunOutcome } from '../../../extension/commands/runManagement';

const workspace = process.env.TERNARY_E2E_WORKSPACE ?? '';
const example = path.join(workspace, 'examples', 'fashion-mnist.tern.json');
const tinyConfig = path.join(workspace, 'tiny', 'tiny.tern.json');
const tinyCopy = path.join(workspace, 'tiny', 'tiny-copy.tern.json');

let api: TernaryApi;

/** Replaces `from` by `to` in the open document (unsaved), failing when `from` is not there. */
async function replaceIn(document: vscode.TextDocument, from: string, to: string): Promise<void> {
  const offset = document.getText().indexOf(from);
  assert.ok(offset >= 0, `"${from}" not found in ${document.fileName}`);
  const edit = new vscode.WorkspaceEdit();
  edit.replace(document.uri, new vscode.Range(document.positionAt(offset), document.positionAt(offset + from.length)), to);
  assert.ok(await vscode.workspace.applyEdit(edit));
}

const ours = (d: vscode.Diagnostic) => d.source === 'ternary';

function flatten(items: RenderedItem[]): RenderedItem[] {
  return items.flatMap((i) => [i, ...flatten(i.children)]);
}

test('the extension activates in a workspace outside the repository', 60_000, async () => {
  assert.ok(existsSync(example), `${example} is missing`);
  assert.ok(!example.startsWith(path.resolve(__dirname, '..', '..', '..')), 'the workspace must not be inside the repository');
  const extension = vscode.extensions.getExtension<TernaryApi>('ternary-studio.ternary-studio');
  assert.ok(extension);
  api = await extension.activate();
  assert.ok(api, 'activate() returned no API');
  await waitFor('the server to run', 30_000, () => api.serverRunning());
});

test(
  "1. the contributed schema completes and explains; each mistake is listed once (ours), a syntax error once (VS Code's)",
  90_000,
  async () => {
    const document = await vscode.workspace.openTextDocument(example);
    await vscode.window.showTextDocument(document);
    // An example with "$schema": "../shared/tern.schema.json" (a path that exists only in the
    // repository) makes VS Code use that missing schema: "Unable to load schema" below.
    await replaceIn(document, '"lr": 0.002', '"lr": -1');
    await replaceIn(document, '"weightDecay": 0,', '"weightDecey": 0,');
    const at = (text: string) => (d: vscode.Diagnostic) => document.getText(d.range) === text;
    const all = () => vscode.languages.getDiagnostics(document.uri);
    const listed = () =>
      all()
        .map((d) => `[${d.source ?? '?'}] ${document.getText(d.range)}: ${d.message}`)
        .join(' | ');
    // Ours arrive a short pause after the edits, without a save.
    const lr = await waitFor('our diagnostic on "lr": -1 while editing', 60_000, () => all().find((d) => ours(d) && at('-1')(d)));
    const typo = await waitFor('our diagnostic on "weightDecey"', 10_000, () => all().find((d) => ours(d) && at('"weightDecey"')(d)));
    assert.match(lr.message, /^experiments\[0\]\.train\.lr: must be > 0/);
    assert.match(typo.message, /did you mean "weightDecay"\?/);
    // A syntax error: VS Code's JSON service marks it. Once it has, it has checked this text against
    // the contributed schema too, so what it says now is all it says.
    await replaceIn(document, '"weightDecey": 0,', '"weightDecey": 0');
    const syntax = await waitFor("VS Code's syntax diagnostic", 60_000, () => all().find((d) => !ours(d) && /comma/i.test(d.message)));
    assert.deepEqual(
      all()
        .filter((d) => !ours(d))
        .map((d) => d.message),
      [syntax.message],
      `VS Code reports only the syntax error (the schema it validates with reports nothing): ${listed()}`,
    );
    await waitFor('our diagnostics to leave the syntax error to VS Code', 10_000, () => all().filter(ours).length === 0).catch(
      (error: unknown) => {
        throw new Error(`${String(error)}; diagnostics: ${listed()}`);
      },
    );
    report(`  ours: "${lr.message}" · "${typo.message}"; VS Code's: "${syntax.message}"`);
    const lrKey = document.positionAt(document.getText().indexOf('"lr"') + 2);
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', document.uri, lrKey);
    const hoverText = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
    assert.match(hoverText, /Initial learning rate/, `hover over "lr" says: ${hoverText}`);
    // Values are still proposed: the optimizer's.
    const optimizerValue = document.positionAt(document.getText().indexOf('"optimizer": "') + '"optimizer": "'.length);
    const completions = await vscode.commands.executeCommand<vscode.CompletionList>(
      'vscode.executeCompletionItemProvider',
      document.uri,
      optimizerValue,
    );
    const labels = completions.items.map((i) => (typeof i.label === 'string' ? i.label : i.label.label));
    assert.ok(
      labels.some((l) => l.includes('adam')) && labels.some((l) => l.includes('sgd')),
      `completion of "optimizer" offers: ${labels.join(', ')}`,
    );
    assert.doesNotMatch(document.getText(), /"\$schema"/, 'the example must not point at a schema of its own');
    await vscode.window.showTextDocument(document);
    await vscode.commands.executeCommand('workbench.action.files.revert');
    assert.equal(document.isDirty, false, 'the example is back to its saved text');
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  },
);

test(
  '1b. a config changed on disk is checked again: repaired, its errors go; a sibling copy appears and goes, the warning follows',
  90_000,
  async () => {
    const dir = path.join(workspace, 'on-disk');
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'disk.tern.json');
    const good = readFileSync(tinyConfig, 'utf8').replaceAll('"path": "data', '"path": "../tiny/data');
    writeFileSync(file, good.replace('"lr": 0.001', '"lr": -1'));
    const document = await vscode.workspace.openTextDocument(file);
    await vscode.window.showTextDocument(document);
    const ourErrors = () =>
      vscode.languages.getDiagnostics(document.uri).filter((d) => ours(d) && d.severity === vscode.DiagnosticSeverity.Error);
    await waitFor('the errors on "lr": -1', 30_000, () => ourErrors().length > 0);
    // Repaired on disk (as a git checkout would), not in the editor.
    const repaired = Date.now();
    writeFileSync(file, good);
    await waitFor('the errors to go after the repair on disk', 30_000, () => ourErrors().length === 0);
    report(`  repaired on disk: errors gone after ${Date.now() - repaired} ms`);
    // A copy appears next to it: its experiment names are shared now, and the open config says so.
    const copy = path.join(dir, 'disk-copy.tern.json');
    const copied = Date.now();
    writeFileSync(copy, good);
    const warning = await waitFor('the shared-name warning after a copy appeared on disk', 30_000, () =>
      vscode.languages.getDiagnostics(document.uri).find((d) => ours(d) && d.severity === vscode.DiagnosticSeverity.Warning),
    );
    assert.match(warning.message, /is also an experiment of disk-copy\.tern\.json in this folder/);
    report(`  sibling created: warning after ${Date.now() - copied} ms`);
    rmSync(copy);
    await waitFor('the warning to go with the copy', 30_000, () => vscode.languages.getDiagnostics(document.uri).filter(ours).length === 0);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  },
);

test('2. the server\'s validation shows as errors on open ("did you mean") and on save, with ranges', 60_000, async () => {
  const typoFile = path.join(workspace, 'examples', 'typo.tern.json');
  writeFileSync(typoFile, '{"experimentz": []}\n');
  const typoDocument = await vscode.workspace.openTextDocument(typoFile);
  await vscode.window.showTextDocument(typoDocument);
  const onOpen = await waitFor('a ternary diagnostic on open', 30_000, () => vscode.languages.getDiagnostics(typoDocument.uri).find(ours));
  assert.equal(onOpen.severity, vscode.DiagnosticSeverity.Error);
  assert.match(onOpen.message, /^experimentz: is not a known property; did you mean "experiments"\?/);
  assert.equal(typoDocument.getText(onOpen.range), '"experimentz"');
  report(`  on open: ${onOpen.range.start.line + 1}:${onOpen.range.start.character + 1} ${onOpen.message}`);
  await vscode.commands.executeCommand('workbench.action.closeActiveEditor');

  const document = await vscode.workspace.openTextDocument(example);
  await vscode.window.showTextDocument(document);
  const original = document.getText();
  const listed = () =>
    vscode.languages
      .getDiagnostics(document.uri)
      .filter(ours)
      .map((d) => `${d.range.start.line + 1}:${d.range.start.character + 1} ${d.message}`)
      .join(' | ');
  try {
    await replaceIn(document, '"lr": 0.002', '"lr": -1');
    assert.ok(await document.save());
    const onSave = await waitFor('a ternary diagnostic on "-1" after save', 30_000, () =>
      vscode.languages.getDiagnostics(document.uri).find((d) => ours(d) && document.getText(d.range) === '-1'),
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}; ternary diagnostics: ${listed() || 'none'}`);
    });
    assert.equal(onSave.severity, vscode.DiagnosticSeverity.Error);
    assert.equal(document.getText(onSave.range), '-1');
    assert.match(onSave.message, /^experiments\[0\]\.train\.lr: must be > 0/);
    report(`  on save: ${onSave.range.start.line + 1}:${onSave.range.start.character + 1} ${onSave.message}`);
  } finally {
    await replaceIn(document, '"lr": -1', '"lr": 0.002');
    await document.save();
  }
  assert.equal(document.getText(), original);
  await waitFor(
    'the error to go once fixed and saved',
    30_000,
    () => vscode.languages.getDiagnostics(document.uri).filter(ours).length === 0,
  ).catch((error: unknown) => {
    throw new Error(`${String(error)}; ternary diagnostics: ${listed()}`);
  });
  await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
});

let first: TrainResult | undefined;

test(
  '3. a copied config: separate run folders, a warning on the shared name, unique tree ids, each run under its config',
  240_000,
  async () => {
    first = await vscode.commands.executeCommand<TrainResult>('ternary.train', { configPath: tinyConfig, experiment: 'tiny' });
    assert.equal(first?.summary.status, 'completed');
    assert.equal(path.dirname(first.runDir), path.join(workspace, 'tiny', 'runs', 'tiny'), 'alone in its folder: runs/<experiment>/');
    copyFileSync(tinyConfig, tinyCopy);
    const copyDocument = await vscode.workspace.openTextDocument(tinyCopy);
    await vscode.window.showTextDocument(copyDocument);
    const warning = await waitFor('a warning on the shared experiment name', 30_000, () =>
      vscode.languages
        .getDiagnostics(copyDocument.uri)
        .find((d) => ours(d) && d.severity === vscode.DiagnosticSeverity.Warning && copyDocument.getText(d.range) === '"tiny"'),
    );
    assert.match(warning.message, /"tiny" is also an experiment of tiny\.tern\.json in this folder: .*runs\/tiny@tiny-copy\//);
    report(`  warning: ${warning.message}`);
    const second = await vscode.commands.executeCommand<TrainResult>('ternary.train', { configPath: tinyCopy, experiment: 'tiny' });
    assert.equal(second?.summary.status, 'completed');
    assert.equal(path.dirname(second.runDir), path.join(workspace, 'tiny', 'runs', 'tiny@tiny-copy'));

    const tree = await waitFor('both configs in the tree', 10_000, async () => {
      const t = await api.experimentsTree();
      return t.some((c) => c.label === 'tiny-copy.tern.json') ? t : undefined;
    });
    const ids = flatten(tree)
      .map((i) => i.id)
      .filter((id): id is string => id !== undefined);
    assert.deepEqual(
      ids.filter((id, k) => ids.indexOf(id) !== k),
      [],
      'tree ids must be unique',
    );
    const runsUnder = (config: string) =>
      tree
        .find((c) => c.label === config)
        ?.children.find((e) => e.label === 'tiny')
        ?.children.filter((r) => r.contextValue?.startsWith('ternary.run.'))
        .map((r) => r.tooltip ?? '') ?? [];
    const underOriginal = runsUnder('tiny.tern.json');
    const underCopy = runsUnder('tiny-copy.tern.json');
    assert.equal(underOriginal.length, 1, underOriginal.join('\n---\n'));
    assert.equal(underCopy.length, 1, underCopy.join('\n---\n'));
    assert.ok(underOriginal[0]!.includes(first.summary.runId), 'the first run under the original config');
    assert.ok(underCopy[0]!.includes(second.summary.runId), "the copy's run under the copy");
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  },
);

test('4. a starting run: the tree and the Layers view show it at once, one convention for epochs, no spinner', 600_000, async () => {
  let started: string | undefined;
  const training = vscode.commands.executeCommand<TrainResult>('ternary.train', { configPath: tinyConfig, experiment: 'tiny-long' });
  // As soon as the status bar shows the epoch, the server reported the run.
  const status = await waitFor('the status bar to show the epoch', 60_000, () => {
    const text = api.statusBarText();
    return text !== undefined && /tiny-long · epoch \d+\/200/.test(text) ? text : undefined;
  });
  const layers = api.layersData();
  assert.equal(layers.source?.kind, 'run');
  if (layers.source?.kind === 'run') {
    started = layers.source.runId;
    assert.equal(layers.source.experiment, 'tiny-long', 'the Layers view shows the new run, not the previous one');
  }
  const tree = flatten(await api.experimentsTree());
  const running = tree.filter((i) => i.contextValue === 'ternary.run.running');
  assert.equal(running.length, 1, 'one running run in the tree');
  // Nothing spins once the run trains (an animation costs the run CPU: docs/extension.md); the
  // running row has the static sync icon.
  const spinners = tree.filter((i) => i.icon?.endsWith('~spin'));
  assert.deepEqual(
    spinners.map((i) => i.contextValue),
    [],
    'no spinner in the tree while the run trains',
  );
  assert.equal(running[0]!.icon, 'sync', 'the running run has the sync icon');

  // Delete Run on the training run is refused with a message saying so; the folder stays.
  if (layers.source?.kind === 'run') {
    const runDir = layers.source.runDir;
    const refused = await vscode.commands.executeCommand<DeleteRunOutcome>('ternary.deleteRun', await api.runNode(tinyConfig, runDir));
    assert.equal(refused?.deleted, false, 'a training run is not deleted');
    assert.match(refused?.reason ?? '', /^tiny-long\/\S+ is training; stop it first \(Stop\), then delete it\.$/);
    assert.ok(existsSync(path.join(runDir, 'config.json')), 'the run folder is kept');
    report(`  Delete Run while training: "${refused.reason}"`);
  }
  // A second Train while this one trains waits in the server's queue: the tree says so (no
  // "Starting…", no spinner) until it is cancelled, which takes it out of the queue.
  const queued = vscode.commands.executeCommand<TrainResult>('ternary.train', { configPath: tinyConfig, experiment: 'tiny' }).then(
    (r) => r,
    () => undefined,
  );
  const queuedRow = await waitFor('the queued Train in the tree', 60_000, async () =>
    flatten(await api.experimentsTree()).find((i) => /^Queued \(next\)$/.test(i.label)),
  );
  assert.equal(queuedRow.icon, 'clock', 'a queued job waits under a clock, not a spinner');
  assert.ok(!flatten(await api.experimentsTree()).some((i) => i.label === 'Starting…'), 'nothing says "Starting…" while it waits');
  report(`  queued Train: "${queuedRow.label}"`);
  await vscode.commands.executeCommand('ternary.stop', { configPath: tinyConfig, experiment: 'tiny' });
  assert.equal((await queued)?.summary, undefined, 'the queued Train never ran');
  await waitFor(
    'the queued row to go',
    30_000,
    async () => !flatten(await api.experimentsTree()).some((i) => i.label.startsWith('Queued')),
  );

  const statusEpoch = /epoch (\d+)\/200/.exec(status)![1];
  const treeEpoch = /epoch (\d+)\/200/.exec(running[0]!.description ?? '')?.[1];
  report(`  status bar "${status}", tree "${running[0]!.description}"`);
  assert.ok(treeEpoch !== undefined && Number(treeEpoch) >= 1, `the tree counts epochs from 1 while running: "${running[0]!.description}"`);
  assert.ok(Math.abs(Number(treeEpoch) - Number(statusEpoch)) <= 1, 'tree and status bar agree (give or take an epoch ending in between)');

  // Let an epoch complete, so the run can be resumed; then Stop: the lens says Train when the run ends.
  await waitFor('an epoch to complete', 240_000, () => /epoch ([2-9]|\d\d+)\/200/.test(api.statusBarText() ?? ''));
  const document = await vscode.workspace.openTextDocument(tinyConfig);
  let lensesAtEnd: string[] | undefined;
  const subscription = api.onRunEnded((runId) => {
    if (runId === started) lensesAtEnd = api.lensTitles(document);
  });
  await vscode.commands.executeCommand('ternary.stop', { configPath: tinyConfig, experiment: 'tiny-long' });
  const result = await training;
  subscription.dispose();
  assert.equal(result?.summary.status, 'cancelled');
  assert.ok(lensesAtEnd, 'runEnded was seen');
  const longLine = lensesAtEnd.slice(4, 8);
  assert.ok(
    lensesAtEnd.filter((t) => /Stop/.test(t)).length === 0,
    `when the run ended the lenses read: ${lensesAtEnd.join(', ')} (${longLine.join(', ')})`,
  );

  // 4. Resume from the tree's context menu: the same run folder continues.
  const node = await api.runNode(tinyConfig, result.runDir);
  const row = flatten(await api.experimentsTree()).find((i) => i.tooltip?.includes(result.summary.runId));
  assert.match(row?.contextValue ?? '', /^ternary\.run\.cancelled\.resumable$/);
  const resumed = vscode.commands.executeCommand<TrainResult>('ternary.resume', node);
  await waitFor('the resumed run to pass its old epoch count', 240_000, () => {
    const m = /tiny-long · epoch (\d+)\/200/.exec(api.statusBarText() ?? '');
    return m !== null && Number(m[1]) > result.summary.epochs + 1;
  });
  await vscode.commands.executeCommand('ternary.stop', { configPath: tinyConfig, experiment: 'tiny-long' });
  const again = await resumed;
  assert.equal(again?.runDir, result.runDir, 'resume continues the same run folder');
  assert.ok(again.summary.epochs > result.summary.epochs, `resumed run: ${again.summary.epochs} epochs after ${result.summary.epochs}`);
  const log = JSON.parse(readFileSync(path.join(result.runDir, 'summary.json'), 'utf8')) as { epochs: number };
  assert.equal(log.epochs, again.summary.epochs);
});

test('4. a run cancelled in its first epoch: the summary does not claim a checkpoint', 300_000, async () => {
  const training = vscode.commands.executeCommand<TrainResult>('ternary.train', { configPath: tinyConfig, experiment: 'tiny-long' });
  await waitFor('the run to start', 60_000, () => /tiny-long · epoch 1\/200/.test(api.statusBarText() ?? ''));
  await vscode.commands.executeCommand('ternary.stop', { configPath: tinyConfig, experiment: 'tiny-long' });
  const result = await training;
  assert.equal(result?.summary.status, 'cancelled');
  if (result.summary.epochs === 0) {
    assert.doesNotMatch(result.summary.reason ?? '', /checkpoint of epoch 0/);
    assert.match(result.summary.reason ?? '', /no checkpoint/);
    const row = flatten(await api.experimentsTree()).find((i) => i.tooltip?.includes(result.summary.runId));
    assert.equal(row?.contextValue, 'ternary.run.cancelled', 'no Resume on a run without a checkpoint');
  } else {
    report('  (the first epoch ended before Stop arrived; the no-checkpoint message is covered by test/unit/train-trainer.test.ts)');
  }
});

export function run(): Promise<void> {
  return runCases('editor');
}
