/**
 * What the workspace holds: experiment config files (`*.tern.json`), their experiments, and the
 * runs of each experiment (asked from the server: `ternary/listRuns`). Commands and the
 * Experiments tree share it, so a pick in the palette offers the same things the tree shows.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { ListRunsRequest, type RunInfo } from '../shared/protocol';
import type { Ctx } from './ctx';
import { locateExperiments, type LocatedExperiment } from './experimentLocator';
import { belongsTo } from './runOwnership';

export const configGlob = '**/*.tern.json';
const excludedFolders = '**/{node_modules,.git,dist,out}/**';

export interface ConfigEntry {
  uri: vscode.Uri;
  experiments: LocatedExperiment[];
}

/** An experiment of a config file: what Train, Evaluate and the lenses act on. */
export interface ExperimentRef {
  configPath: string;
  experiment: string;
}

export class Catalog {
  constructor(private readonly ctx: Ctx) {}

  /** Config files of the workspace, sorted by path, each with its experiments (open editors' unsaved text wins). */
  async configs(): Promise<ConfigEntry[]> {
    const uris = await vscode.workspace.findFiles(configGlob, excludedFolders);
    uris.sort((a, b) => a.fsPath.localeCompare(b.fsPath));
    return Promise.all(uris.map(async (uri) => ({ uri, experiments: locateExperiments(await readText(uri)) })));
  }

  /** The experiments of one config file. */
  async experimentsOf(configPath: string): Promise<LocatedExperiment[]> {
    return locateExperiments(await readText(vscode.Uri.file(configPath)));
  }

  /** Runs folder of a config (setting `ternary.runsFolder`, relative to the config's folder). */
  runsDirFor(configPath: string): string {
    return this.ctx.config.runsDirFor(configPath);
  }

  /** The runs folders of the workspace's configs. */
  async runsDirs(): Promise<string[]> {
    const configs = await this.configs();
    return [...new Set(configs.map((c) => this.runsDirFor(c.uri.fsPath)))];
  }

  /** Runs of every config's runs folder, newest first. */
  async allRuns(): Promise<RunInfo[]> {
    const runsDirs = await this.runsDirs();
    if (runsDirs.length === 0) return [];
    return newestFirst(await this.ctx.request(ListRunsRequest.type, { runsDirs }));
  }

  /**
   * Runs of one experiment, newest first. Configs sharing the runs folder with an experiment of
   * the same name each get their own runs (extension/runOwnership.ts); pass `configs` when the
   * caller has just read them.
   */
  async runsOf(ref: ExperimentRef, configs?: ConfigEntry[]): Promise<RunInfo[]> {
    const runsDir = this.runsDirFor(ref.configPath);
    const [runs, all] = await Promise.all([
      this.ctx.request(ListRunsRequest.type, { runsDirs: [runsDir] }),
      configs ? Promise.resolve(configs) : this.configs(),
    ]);
    const claimants = all
      .filter((c) => this.runsDirFor(c.uri.fsPath) === runsDir && c.experiments.some((e) => e.name === ref.experiment))
      .map((c) => c.uri.fsPath);
    return newestFirst(runs.filter((r) => belongsTo(r, ref.experiment, ref.configPath, claimants)));
  }
}

function newestFirst(runs: RunInfo[]): RunInfo[] {
  return [...runs].sort((a, b) => (b.startedAt ?? b.runId).localeCompare(a.startedAt ?? a.runId));
}

async function readText(uri: vscode.Uri): Promise<string> {
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  if (open) return open.getText();
  return new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
}

/** A short label for a config file: its path relative to the workspace. */
export function configLabel(configPath: string): string {
  return vscode.workspace.asRelativePath(configPath, false) || path.basename(configPath);
}
