/**
 * The Experiments view: config files → experiments → runs (status icon, epoch, best top-1).
 * Refreshes when configs change on disk and when runs start, finish an epoch or end.
 */
import { pointLabel } from '../../shared/sweep';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RunInfo } from '../../shared/protocol';
import { Catalog, configGlob, configLabel, type ConfigEntry, type ExperimentRef } from '../catalog';
import type { LocatedExperiment } from '../experimentLocator';
import { runRow, runStart } from '../format';
import { formatDateTime, formatPercent, formatQuantity } from '../../shared/format';
import type { JobTracker } from '../jobs';
import type { RunEventHub } from '../runEventHub';

export type ExperimentsNode =
  | { kind: 'config'; uri: vscode.Uri; experiments: LocatedExperiment[]; configs: ConfigEntry[] }
  | { kind: 'experiment'; ref: ExperimentRef; located: LocatedExperiment; configs: ConfigEntry[] }
  /** `runDir` at the top: the panel commands take any item with one. */
  | { kind: 'run'; run: RunInfo; runDir: string; configPath: string }
  | { kind: 'message'; text: string; detail?: string; tooltip?: string; icon?: string };

const statusIcons: Record<RunInfo['status'], vscode.ThemeIcon> = {
  // Not spinning: an animation repaints every frame, which takes CPU from the run on a machine
  // without a GPU (code-server); the row's epoch and the status bar show that it moves.
  running: new vscode.ThemeIcon('sync'),
  completed: new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed')),
  cancelled: new vscode.ThemeIcon('circle-slash', new vscode.ThemeColor('testing.iconSkipped')),
  failed: new vscode.ThemeIcon('error', new vscode.ThemeColor('testing.iconFailed')),
  crashed: new vscode.ThemeIcon('warning', new vscode.ThemeColor('testing.iconErrored')),
};

export class ExperimentsTreeProvider implements vscode.TreeDataProvider<ExperimentsNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<ExperimentsNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscriptions: vscode.Disposable[] = [this.changed];
  private refreshTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly catalog: Catalog,
    hub: RunEventHub,
    private readonly jobs: JobTracker,
  ) {
    const watcher = vscode.workspace.createFileSystemWatcher(configGlob);
    this.subscriptions.push(
      watcher,
      watcher.onDidCreate(() => {
        this.refresh();
        void this.updateHasConfigs();
      }),
      watcher.onDidDelete(() => {
        this.refresh();
        void this.updateHasConfigs();
      }),
      watcher.onDidChange(() => this.refresh()),
      jobs.onDidChangeJobs(() => this.refresh()),
      // A run starting or ending changes what the user came here to see: no batching delay.
      hub.onRunStarted(() => this.refresh(true)),
      hub.onRunEnded(() => this.refresh(true)),
      // Epoch records change a run's epoch and best top-1; batch records do not.
      hub.onMetrics(({ records }) => {
        if (records.some((r) => r.kind === 'epoch')) this.refresh();
      }),
    );
    // Palette entries (Train, Evaluate, Export) show only when there is a config, even before the view opens.
    void this.updateHasConfigs();
  }

  private async updateHasConfigs(): Promise<void> {
    const found = await vscode.workspace.findFiles(configGlob, '**/{node_modules,.git}/**', 1);
    await vscode.commands.executeCommand('setContext', 'ternary.hasConfigs', found.length > 0);
  }

  /** Re-reads configs and runs; bursts of events collapse into one refresh (`now`: at once). */
  refresh(now = false): void {
    if (now) {
      if (this.refreshTimer) clearTimeout(this.refreshTimer);
      this.refreshTimer = undefined;
      this.changed.fire(undefined);
      return;
    }
    if (this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      this.changed.fire(undefined);
    }, 100);
  }

  async getChildren(node?: ExperimentsNode): Promise<ExperimentsNode[]> {
    if (!node) {
      const configs = await this.catalog.configs();
      void vscode.commands.executeCommand('setContext', 'ternary.hasConfigs', configs.length > 0);
      return configs.map((c) => ({ kind: 'config', uri: c.uri, experiments: c.experiments, configs }));
    }
    if (node.kind === 'config') {
      return node.experiments
        .filter((e): e is LocatedExperiment & { name: string } => e.name !== undefined)
        .map((located) => ({
          kind: 'experiment',
          located,
          configs: node.configs,
          ref: { configPath: node.uri.fsPath, experiment: located.name },
        }));
    }
    if (node.kind === 'experiment') {
      try {
        const runs = await this.catalog.runsOf(node.ref, node.configs);
        const waiting = this.jobs.waiting(node.ref.configPath, node.ref.experiment);
        const starting = waiting !== undefined;
        const startingRow: ExperimentsNode[] = !waiting
          ? []
          : waiting.queuePosition !== undefined
            ? [
                {
                  kind: 'message',
                  text: `Queued (${waiting.queuePosition === 1 ? 'next' : `position ${waiting.queuePosition}`})`,
                  tooltip: 'Waits in the training server’s queue (it runs one job at a time); it starts when the jobs before it end.',
                  icon: 'clock',
                },
              ]
            : [
                {
                  kind: 'message',
                  text: 'Starting…',
                  tooltip: 'Loading the data and building the model; the run appears here when its first batch starts.',
                  icon: 'loading~spin',
                },
              ];
        if (runs.length === 0 && !starting)
          return [
            {
              kind: 'message',
              text: 'No runs yet',
              tooltip: 'Train this experiment (▷ on its row, or the Train lens in the config) to see its runs here.',
            },
          ];
        return [
          ...startingRow,
          ...runs.map((run): ExperimentsNode => ({ kind: 'run', run, runDir: run.runDir, configPath: node.ref.configPath })),
        ];
      } catch (error) {
        const why = error instanceof Error ? error.message : String(error);
        return [{ kind: 'message', text: 'Runs unavailable', detail: why }];
      }
    }
    return [];
  }

  getTreeItem(node: ExperimentsNode): vscode.TreeItem {
    switch (node.kind) {
      case 'config': {
        const item = new vscode.TreeItem(path.basename(node.uri.fsPath), vscode.TreeItemCollapsibleState.Expanded);
        item.id = `config:${node.uri.fsPath}`;
        item.resourceUri = node.uri;
        item.description = path.dirname(configLabel(node.uri.fsPath)).replace(/^\.$/, '');
        item.tooltip = `${node.uri.fsPath}\n${formatQuantity(node.experiments.length, 'experiment')}`;
        item.contextValue = 'ternary.config';
        item.command = { command: 'vscode.open', title: 'Open Config', arguments: [node.uri] };
        return item;
      }
      case 'experiment': {
        const running = this.jobs.isTraining(node.ref.configPath, node.ref.experiment);
        // Expanded: the runs (and their status) are what people come to this view for.
        const item = new vscode.TreeItem(node.ref.experiment, vscode.TreeItemCollapsibleState.Expanded);
        item.id = `experiment:${node.ref.configPath}#${node.ref.experiment}`;
        // The spinner is the running run's row; the experiment only says that it trains.
        item.iconPath = new vscode.ThemeIcon('beaker');
        // A job that waits in the server's queue does not train yet.
        item.description = running ? (this.jobs.onlyQueued(node.ref.configPath, node.ref.experiment) ? 'queued' : 'training…') : undefined;
        item.tooltip = `${node.ref.experiment} in ${configLabel(node.ref.configPath)}`;
        item.contextValue = running ? 'ternary.experiment.running' : 'ternary.experiment';
        return item;
      }
      case 'run': {
        const { run } = node;
        const live = run.status === 'running' && this.jobs.isRunActive(run.runId);
        // A resume of this window's, before its process has taken the run over: the row says so.
        const resuming = run.status !== 'running' && this.jobs.trainJobs().some((j) => j.runId === run.runId);
        const row = runRow(run, new Date());
        const item = new vscode.TreeItem(row.label);
        item.accessibilityInformation = {
          label: `run ${run.runId} of ${this.catalog.experimentLabel({ configPath: node.configPath, experiment: run.experiment })}, ${run.status}, ${row.description}${run.note ? `, note: ${run.note}` : ''}`,
        };
        // Unique even when two configs list the same run folder (extension/runOwnership.ts).
        item.id = `run:${node.configPath}#${run.runDir}`;
        item.iconPath = statusIcons[resuming ? 'running' : run.status];
        // Torch-engine runs say where they computed (docs/engines.md).
        const engine =
          run.engine === 'torch' ? ` · torch ${run.device ?? 'cpu'}${run.worldSize && run.worldSize > 1 ? ` ×${run.worldSize}` : ''}` : '';
        // A sweep's run names its point (docs/configs.md, sweep): the rows of one experiment differ by it.
        const sweep = run.sweep ? ` · ${pointLabel(run.sweep.point)}` : '';
        // A note is marked on the row (✎) and read in full in the tooltip: the row stays short.
        item.description = (resuming ? 'resuming · ' : '') + row.description + engine + sweep + (run.note ? ' · ✎' : '');
        // Named with its config when another config has an experiment of the same name.
        const experiment = this.catalog.experimentLabel({ configPath: node.configPath, experiment: run.experiment });
        const md = new vscode.MarkdownString(`**${experiment}** / ${run.runId}\n\n| | |\n|---|---|\n`);
        md.appendMarkdown(`| status | ${run.status} |\n| epochs completed | ${run.epoch} of ${run.epochs} |\n`);
        if (run.bestTop1 !== undefined) md.appendMarkdown(`| best top-1 | ${formatPercent(run.bestTop1, 2)} |\n`);
        // The moment the row's label shows (the run id's), else the recorded start.
        const started = runStart(run.runId) ?? run.startedAt;
        if (started) md.appendMarkdown(`| started | ${formatDateTime(started.valueOf())} |\n`);
        if (run.sweep)
          md.appendMarkdown(
            `| sweep | ${run.sweep.id}, point ${run.sweep.index + 1} of ${run.sweep.count}: ${pointLabel(run.sweep.point)} |\n`,
          );
        md.appendMarkdown(
          run.engine === 'torch'
            ? `| engine | PyTorch (${run.device ?? 'cpu'}, ${run.worldSize ?? 1} process${(run.worldSize ?? 1) > 1 ? 'es' : ''}) |\n`
            : '| engine | TensorFlow.js |\n',
        );
        md.appendMarkdown(`| folder | ${vscode.workspace.asRelativePath(run.runDir, false)} |\n`);
        if (run.note) {
          md.appendMarkdown('\n**Note:** ');
          md.appendText(run.note);
        }
        item.tooltip = md;
        // Resumable: stopped or failed after at least one epoch (so a checkpoint exists), not finished.
        const resumable = run.status !== 'completed' && !live && !resuming && run.epoch > 0 && run.epoch < run.epochs;
        item.contextValue = `ternary.run.${run.status}${resumable ? '.resumable' : ''}`;
        return item;
      }
      case 'message': {
        const item = new vscode.TreeItem(node.text);
        item.description = node.detail;
        item.tooltip = node.tooltip ?? node.detail;
        item.iconPath = new vscode.ThemeIcon(node.icon ?? 'info');
        item.contextValue = 'ternary.message';
        return item;
      }
    }
  }

  dispose(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    for (const s of this.subscriptions) s.dispose();
  }
}
