/**
 * What a command acts on, from whatever invoked it: a code lens (`{configPath, experiment}`), a
 * tree item, an explorer/editor menu (a Uri), or the palette (no argument: the active editor, else
 * a QuickPick, asking which experiment when there are several).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RunInfo } from '../../shared/protocol';
import { configLabel, type ExperimentRef } from '../catalog';
import { runRow } from '../format';
import { folderExists, goneRunsMessage } from '../goneRuns';
import type { ExperimentsNode } from '../trees/experimentsTree';
import { UserCancelled, UserFacingError } from './errors';
import type { Services } from './services';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

export function isExperimentRef(value: unknown): value is ExperimentRef {
  return isRecord(value) && typeof value.configPath === 'string' && typeof value.experiment === 'string';
}

function asNode(value: unknown): ExperimentsNode | undefined {
  return isRecord(value) && typeof value.kind === 'string' ? (value as ExperimentsNode) : undefined;
}

/** A config path named by the argument, or the active editor's `*.tern.json`. */
function configPathOf(arg: unknown): string | undefined {
  if (arg instanceof vscode.Uri) return arg.fsPath;
  const node = asNode(arg);
  if (node?.kind === 'config') return node.uri.fsPath;
  if (arg === undefined) {
    const doc = vscode.window.activeTextEditor?.document;
    if (doc && doc.uri.scheme === 'file' && doc.fileName.endsWith('.tern.json')) return doc.fileName;
  }
  return undefined;
}

/** The experiment to train or evaluate. */
export async function resolveExperiment(s: Services, arg: unknown, verb: string): Promise<ExperimentRef> {
  if (isExperimentRef(arg)) return { configPath: arg.configPath, experiment: arg.experiment };
  const node = asNode(arg);
  if (node?.kind === 'experiment') return node.ref;
  if (node?.kind === 'run') return { configPath: node.configPath, experiment: node.run.experiment };

  const named = configPathOf(arg);
  // From the palette every config's experiments are offered, the active editor's first; a config
  // named by the invocation (explorer, editor title, a config row) offers its own only.
  const active = arg === undefined ? named : undefined;
  const configPath = active ? undefined : named;
  const candidates: ExperimentRef[] = [];
  if (configPath) {
    for (const e of await s.catalog.experimentsOf(configPath)) if (e.name) candidates.push({ configPath, experiment: e.name });
    if (candidates.length === 0) {
      throw new UserFacingError(
        `${configLabel(configPath)} has no named experiment to ${verb.toLowerCase()}: add one under "experiments" (each needs a "name").`,
      );
    }
  } else {
    const configs = await s.catalog.configs();
    const first = (c: { uri: vscode.Uri }) => (active !== undefined && path.resolve(c.uri.fsPath) === path.resolve(active) ? 0 : 1);
    for (const config of [...configs].sort((a, b) => first(a) - first(b))) {
      for (const e of config.experiments) if (e.name) candidates.push({ configPath: config.uri.fsPath, experiment: e.name });
    }
    if (candidates.length === 0) {
      throw new UserFacingError(
        `there is no experiment config (*.tern.json) in this workspace to ${verb.toLowerCase()}. Create one (see examples/fashion-mnist.tern.json in the Ternary Studio repository).`,
      );
    }
  }
  if (candidates.length === 1) return candidates[0]!;
  type Item = vscode.QuickPickItem & { ref?: ExperimentRef };
  const items: Item[] = [];
  for (const ref of candidates) {
    const label = configLabel(ref.configPath);
    // A separator per config file when several are offered.
    if (!configPath && items.at(-1)?.description !== label) items.push({ label, kind: vscode.QuickPickItemKind.Separator });
    items.push({ label: ref.experiment, description: label, ref });
  }
  const picked = await vscode.window.showQuickPick(items, {
    title: `Ternary: ${verb}`,
    placeHolder: `Which experiment to ${verb.toLowerCase()}?`,
    matchOnDescription: true,
  });
  if (!picked?.ref) throw new UserCancelled();
  return picked.ref;
}

/** The run a command acts on: a tree item or `{runDir}`, else a QuickPick of the runs on disk (filtered). */
export async function resolveRun(
  s: Services,
  arg: unknown,
  verb: string,
  filter: (run: RunInfo) => boolean = () => true,
): Promise<RunInfo> {
  const node = asNode(arg);
  if (node?.kind === 'run') return node.run;
  let runs: RunInfo[];
  if (isExperimentRef(arg)) runs = await s.catalog.runsOf(arg);
  else runs = await s.catalog.allRuns();
  if (isRecord(arg) && typeof arg.runDir === 'string') {
    const runDir = path.resolve(arg.runDir);
    const found = runs.find((r) => path.resolve(r.runDir) === runDir);
    if (found) return found;
    await requireRunFolder(runDir, verb.toLowerCase());
    throw new UserFacingError(`no run found in ${arg.runDir}.`);
  }
  runs = runs.filter(filter);
  if (runs.length === 0) {
    const which = isExperimentRef(arg) ? ` of ${arg.experiment}` : '';
    throw new UserFacingError(`there is no run${which} to ${verb.toLowerCase()}: train an experiment first.`);
  }
  // From a lens, the experiment's newest run is what the user means.
  if (isExperimentRef(arg) || runs.length === 1) return runs[0]!;
  const picked = await vscode.window.showQuickPick(
    runs.map((run) => ({
      label: `${run.experiment} / ${run.runId}`,
      description: `${run.status} · ${runRow(run).description}`,
      run,
    })),
    { title: `Ternary: ${verb}`, placeHolder: `Which run to ${verb.toLowerCase()}?`, matchOnDescription: true },
  );
  if (!picked) throw new UserCancelled();
  return picked.run;
}

/**
 * Refuses a run folder that is gone: a notification's button may name a run deleted since
 * (extension/goneRuns.ts). `nothingTo` ends the message: "nothing to export".
 */
export async function requireRunFolder(runDir: string, nothingTo: string): Promise<void> {
  if (await folderExists(runDir)) return;
  throw new UserFacingError(goneRunsMessage([runDir], nothingTo, (d) => vscode.workspace.asRelativePath(d, false)));
}

/** The workspace folder a path belongs to (else the first one): where exports go. */
export function workspaceFolderFor(fsPath: string): vscode.WorkspaceFolder | undefined {
  return vscode.workspace.getWorkspaceFolder(vscode.Uri.file(fsPath)) ?? vscode.workspace.workspaceFolders?.[0];
}

/**
 * A model of the workspace, picked: model.json (tfjs LayersModel) and .onnx files, and with
 * `packed` also model.tern files.
 */
export async function pickModel(verb: string, placeHolder: string, packed = true): Promise<string> {
  const glob = packed ? '**/{model.json,*.onnx,*.tern}' : '**/{model.json,*.onnx}';
  const models = await vscode.workspace.findFiles(glob, '**/{node_modules,.git}/**', 200);
  if (models.length === 0)
    throw new UserFacingError(
      `there is no model.json (tfjs LayersModel)${packed ? ', .tern' : ''} or .onnx model in this workspace to ${verb.toLowerCase()}.`,
    );
  models.sort((a, b) => a.fsPath.localeCompare(b.fsPath));
  const picked = await vscode.window.showQuickPick(
    models.map((uri) => ({ label: vscode.workspace.asRelativePath(uri, false), uri })),
    { title: `Ternary: ${verb}`, placeHolder },
  );
  if (!picked) throw new UserCancelled();
  return picked.uri.fsPath;
}
