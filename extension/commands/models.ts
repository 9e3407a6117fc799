/**
 * Ternarize Model (a float `model.json` or `.onnx` CNN → its ternary twin, with the threshold factor and t_ex the
 * user picks) and Show Layer Stats (a model's or run's per-layer statistics in the Layers view).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { RunHistoryRequest, StatsRequest, TernarizeRequest } from '../../shared/protocol';
import { numberFromText, parseTernaryQuant, QUANT_DEFAULTS } from '../../shared/quant';
import { isUserError } from '../../shared/userError';
import type { ExperimentsNode } from '../trees/experimentsTree';
import { formatBytes, formatCompression, formatPercent } from '../../shared/format';
import { requireTrust } from '../trust';
import { registerCommand, UserCancelled, UserFacingError } from './errors';
import type { Services } from './services';
import { isExperimentRef, pickModel, resolveRun } from './targets';

export function registerModelCommands(s: Services): void {
  registerCommand(s.ctx, 'ternary.ternarizeModel', 'Ternarize Model', (arg?: unknown) => ternarize(s, arg));
  registerCommand(s.ctx, 'ternary.showLayerStats', 'Show Layer Stats', (arg?: unknown) => showLayerStats(s, arg));
}

/** The float model a Ternarize invocation means. */
async function resolveFloatModel(s: Services, arg: unknown): Promise<string> {
  if (arg instanceof vscode.Uri) return arg.fsPath;
  if (isExperimentRef(arg)) {
    // An experiment's float model: the one it fine-tunes from, else its newest finished run's model.
    const located = (await s.catalog.experimentsOf(arg.configPath)).find((e) => e.name === arg.experiment);
    if (located?.modelFrom) return path.resolve(path.dirname(arg.configPath), located.modelFrom);
    const run = await resolveRun(s, arg, 'Ternarize', (r) => r.status === 'completed');
    return path.join(run.runDir, 'model', 'model.json');
  }
  const node = arg as ExperimentsNode | undefined;
  if (node?.kind === 'run') return path.join(node.run.runDir, 'model', 'model.json');
  return pickModel('Ternarize Model', 'Which float model (model.json or .onnx)?', false);
}

/** The threshold factor typed in the input box, checked as the server and `tern ternarize` check it. */
function thresholdFactorOf(text: string): number {
  return parseTernaryQuant({ thresholdFactor: numberFromText(text) }, { thresholdFactor: 'f' }).thresholdFactor;
}

async function askThresholdFactor(): Promise<number> {
  const value = await vscode.window.showInputBox({
    title: 'Ternary: Ternarize Model (1/3)',
    prompt: `Threshold factor f: weights with |W| < f·max|W| become 0 (the paper uses ${QUANT_DEFAULTS.thresholdFactor}).`,
    value: String(QUANT_DEFAULTS.thresholdFactor),
    validateInput: (text) => {
      try {
        thresholdFactorOf(text);
        return undefined;
      } catch (err) {
        if (isUserError(err)) return err.message;
        throw err;
      }
    },
  });
  if (value === undefined) throw new UserCancelled();
  return thresholdFactorOf(value);
}

/** Whether two folders are the same one on disk (symlinks resolved); a folder that does not exist yet is no other's. */
async function sameFolder(a: string, b: string): Promise<boolean> {
  try {
    const [ra, rb] = await Promise.all([fs.promises.realpath(a), fs.promises.realpath(b)]);
    return ra === rb;
  } catch {
    return false;
  }
}

async function askTex(): Promise<1 | 2 | 4> {
  const picked = await vscode.window.showQuickPick(
    [
      { label: '1', description: 'one ternary branch: 2 bits per weight', tex: 1 as const },
      { label: '2', description: 'residual expansion, factors 0.05 + 0.1: 4 bits per weight', tex: 2 as const },
      { label: '4', description: 'residual expansion, factors 0.05…0.2: 8 bits per weight', tex: 4 as const },
    ],
    { title: 'Ternary: Ternarize Model (2/3)', placeHolder: 'Residual expansion t_ex (ternary branches per layer)' },
  );
  if (!picked) throw new UserCancelled();
  return picked.tex;
}

async function askOutDir(modelPath: string, tex: number): Promise<string> {
  const modelDir = path.dirname(modelPath);
  const suffix = `-ternary${tex > 1 ? `-tex${tex}` : ''}`;
  // A model.json's folder is the model, so its twin is a sibling folder; an .onnx file gets a
  // folder next to it, named after it (resnet20.onnx → resnet20-ternary/).
  const beside = /\.onnx$/i.test(modelPath)
    ? path.join(modelDir, `${path.basename(modelPath).replace(/\.onnx$/i, '')}${suffix}`)
    : path.join(path.dirname(modelDir), `${path.basename(modelDir)}${suffix}`);
  const picked = await vscode.window.showQuickPick(
    [
      { label: 'Next to the model', description: vscode.workspace.asRelativePath(beside, false), choice: 'beside' as const },
      { label: 'Choose a folder…', description: 'pick where the ternary model goes', choice: 'choose' as const },
    ],
    { title: 'Ternary: Ternarize Model (3/3)', placeHolder: 'Where to write the ternary model?' },
  );
  if (!picked) throw new UserCancelled();
  if (picked.choice === 'beside') return beside;
  const chosen = await vscode.window.showOpenDialog({
    canSelectFolders: true,
    canSelectFiles: false,
    canSelectMany: false,
    openLabel: 'Write Here',
    defaultUri: vscode.Uri.file(path.dirname(modelDir)),
  });
  if (!chosen?.[0]) throw new UserCancelled();
  // Writing there would replace the source's model.json and weights.bin (the server refuses it too).
  if (await sameFolder(chosen[0].fsPath, modelDir)) {
    throw new UserFacingError(
      `${chosen[0].fsPath} is the folder of the model being ternarized; choose another folder so the source model is kept.`,
    );
  }
  return chosen[0].fsPath;
}

async function ternarize(s: Services, arg: unknown): Promise<unknown> {
  await requireTrust('Ternarizing a model');
  const modelPath = await resolveFloatModel(s, arg);
  if (!fs.existsSync(modelPath))
    throw new UserFacingError(`${modelPath} does not exist: train the experiment first, or pick a model.json or .onnx file.`);
  const thresholdFactor = await askThresholdFactor();
  const tex = await askTex();
  const outDir = await askOutDir(modelPath, tex);
  const result = await vscode.window.withProgress(
    {
      location: vscode.ProgressLocation.Notification,
      title: `Ternary: ternarizing ${vscode.workspace.asRelativePath(modelPath, false)}`,
      cancellable: true,
    },
    (_progress, token) => s.ctx.request(TernarizeRequest.type, { modelPath, outDir, thresholdFactor, tex }, token),
  );
  const written = path.join(result.outDir, 'model.json');
  s.layers.show({ kind: 'model', modelPath: written }, result.layers, result.summary);
  const ternaryLayers = result.layers.filter((l) => l.ternary);
  const meanSparsity = ternaryLayers.reduce((sum, l) => sum + l.sparsity, 0) / Math.max(1, ternaryLayers.length);
  // The twin is a tfjs model: its weights.bin holds the float latent weights, as big as the
  // source's. Only Export writes the packed files the compression is about: say so, offer it.
  const onDisk = await folderBytes(result.outDir);
  void vscode.window
    .showInformationMessage(
      `Ternary: wrote ${vscode.workspace.asRelativePath(written, false)} (${formatBytes(onDisk)} with its float latent weights): ${ternaryLayers.length} ternary layers, mean sparsity ${formatPercent(meanSparsity)}. ` +
        `Export packs it ${formatCompression(result.summary.compression)} than float32 (model.tern, model.onnx).`,
      'Export',
      'Show Layers',
    )
    .then((choice) => {
      if (choice === 'Export') void vscode.commands.executeCommand('ternary.exportModel', vscode.Uri.file(written));
      if (choice === 'Show Layers') void vscode.commands.executeCommand('ternary.layers.focus');
    });
  return result;
}

/** Bytes of the files directly in a folder (a tfjs model: model.json and its weight files). */
async function folderBytes(dir: string): Promise<number> {
  const entries = await fs.promises.readdir(dir, { withFileTypes: true });
  const sizes = await Promise.all(
    entries.filter((e) => e.isFile()).map(async (e) => (await fs.promises.stat(path.join(dir, e.name))).size),
  );
  return sizes.reduce((a, b) => a + b, 0);
}

async function showLayerStats(s: Services, arg: unknown): Promise<void> {
  const node = arg as ExperimentsNode | undefined;
  if (node?.kind === 'run') {
    await showRunLayers(s, node.run.runDir, node.run.experiment, node.run.runId);
  } else {
    let modelPath: string;
    if (arg instanceof vscode.Uri) modelPath = arg.fsPath;
    else if (typeof (arg as { runDir?: unknown } | undefined)?.runDir === 'string') {
      const run = await resolveRun(s, arg, 'Show Layer Stats');
      await showRunLayers(s, run.runDir, run.experiment, run.runId);
      return;
    } else
      throw new UserFacingError(
        'Show Layer Stats works on a model.json, .onnx or .tern file (Explorer context menu) or a run (Experiments view).',
      );
    const stats = await vscode.window.withProgress({ location: { viewId: 'ternary.layers' }, title: 'Reading layer statistics' }, () =>
      s.ctx.request(StatsRequest.type, { target: modelPath }),
    );
    s.layers.show({ kind: 'model', modelPath }, stats.layers, stats.summary);
  }
  await vscode.commands.executeCommand('ternary.layers.focus');
}

/** Shows a run's latest recorded layer stats; a running run keeps updating live. */
export async function showRunLayers(s: Services, runDir: string, experiment: string, runId: string): Promise<void> {
  const history = await s.ctx.request(RunHistoryRequest.type, { runDir, histograms: false });
  const last = history.layers[history.layers.length - 1];
  const live = s.ctx.hub.active.has(runId) ? runId : undefined;
  if (!last) {
    s.layers.show({ kind: 'run', runDir, experiment, runId, epoch: 0 }, [], undefined, live);
    return;
  }
  s.layers.show({ kind: 'run', runDir, experiment, runId, epoch: last.epoch }, last.layers, last.summary, live);
}
