/**
 * What the workspace holds: experiment config files (`*.tern.json`), their experiments, and the
 * runs of each experiment (asked from the server: `ternary/listRuns`). Commands and the
 * Experiments tree share it, so a pick in the palette offers the same things the tree shows.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { ListRunsRequest, type RunInfo } from '../shared/protocol';
import type { Ctx } from './ctx';
import { locateExperiments, type LocatedExperiment } from './experimentLocator';
import { belongsTo } from './runOwnership';
import { experimentLabel } from '../shared/runLabel';

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
  /** The experiments of the configs last read, to name them without reading again (experimentLabel). */
  private known: ExperimentRef[] = [];

  constructor(private readonly ctx: Ctx) {}

  /** Config files of the workspace, sorted by path, each with its experiments (open editors' unsaved text wins). */
  async configs(): Promise<ConfigEntry[]> {
    const uris = await vscode.workspace.findFiles(configGlob, excludedFolders);
    uris.sort((a, b) => a.fsPath.localeCompare(b.fsPath));
    const configs = await Promise.all(uris.map(async (uri) => ({ uri, experiments: locateExperiments(await readText(uri)) })));
    this.known = experimentRefs(configs);
    return configs;
  }

  /**
   * An experiment's name as the views write it: with its config when another config of the
   * workspace has an experiment of the same name (shared/runLabel.ts), from the configs last read.
   */
  experimentLabel(ref: ExperimentRef): string {
    return experimentLabel(ref, this.known);
  }

  /** The same for a run, by the config its config.json records. */
  runExperimentLabel(runDir: string, experiment: string): string {
    const configPath = recordedConfigPath(runDir);
    return configPath === undefined ? experiment : this.experimentLabel({ experiment, configPath });
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

/** Every experiment of `configs`, with its config. */
export function experimentRefs(configs: readonly ConfigEntry[]): ExperimentRef[] {
  return configs.flatMap((c) =>
    c.experiments.flatMap((e) => (e.name === undefined ? [] : [{ configPath: c.uri.fsPath, experiment: e.name }])),
  );
}

/** The config file a run's config.json records (undefined when it cannot be read). */
function recordedConfigPath(runDir: string): string | undefined {
  try {
    return (JSON.parse(fs.readFileSync(path.join(runDir, 'config.json'), 'utf8')) as { configPath?: string }).configPath;
  } catch {
    return undefined;
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
