/**
 * The Layers view: one item per layer of the selected run (its latest epoch, updated live while it
 * trains) or of a model file (`ternary/stats`), with Δ, α and sparsity in the description, the
 * full statistics in the tooltip and the REL branches as children.
 */
import { existsSync } from 'node:fs';
import * as vscode from 'vscode';
import type { BranchStats, LayerStats, ModelSummary } from '../../shared/layerStats';
import type { LayersRecord } from '../../shared/runRecords';
import { cell, layerAccessibleText, layerDescription, runStartLabel } from '../format';
import { formatCount, formatNumber, formatPercent, formatSizeChange } from '../../shared/format';
import type { RunEventHub } from '../runEventHub';

export type LayersSource =
  { kind: 'run'; runDir: string; experiment: string; runId: string; epoch: number } | { kind: 'model'; modelPath: string };

export type LayersNode =
  /** `runDir` (when the source is a run) lets Show Weight Histograms open on this layer. */
  { kind: 'layer'; stats: LayerStats; runDir?: string } | { kind: 'branch'; layer: string; index: number; stats: BranchStats };

export class LayersTreeProvider implements vscode.TreeDataProvider<LayersNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<LayersNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private source: LayersSource | undefined;
  private layers: LayerStats[] = [];
  private summary: ModelSummary | undefined;
  /** Run whose live layer stats replace what is shown. */
  private followRunId: string | undefined;
  /** Epochs the followed run had completed when it was joined, while their stats are read (0: none pending). */
  private pendingEpochs = 0;
  private view: vscode.TreeView<LayersNode> | undefined;
  private readonly subscriptions: vscode.Disposable[] = [this.changed];

  /** `lastLayers`: a run's latest layers record on disk (for a run joined after some epochs). */
  constructor(
    hub: RunEventHub,
    private readonly lastLayers: (runDir: string) => Promise<LayersRecord | undefined>,
  ) {
    this.subscriptions.push(
      // A run that starts becomes what the Layers view follows. A new run replaces what is shown
      // at once, empty until its first epoch's stats arrive: showing the previous run's layers
      // under the new run's training would mislead. A run joined after some epochs (a resume, a
      // run followed again) shows the stats of its last completed epoch until the next arrive.
      hub.onRunStarted((run) => {
        const source = { kind: 'run', runId: run.runId, runDir: run.runDir, experiment: run.experiment, epoch: 0 } as const;
        this.show(source, [], undefined, run.runId);
        if (run.epoch > 0) void this.showStanding(source, run.epoch);
      }),
      // A run deleted from the Experiments view (extension/commands/runManagement.ts) is no longer shown.
      hub.onRunsChanged(() => {
        const { source } = this;
        if (source?.kind === 'run' && source.runDir && !existsSync(source.runDir)) this.show(undefined, [], undefined);
      }),
      hub.onLayerStats(({ runId, runDir, record }) => {
        if (runId !== this.followRunId) return;
        const experiment = hub.active.get(runId)?.experiment ?? (this.source?.kind === 'run' ? this.source.experiment : '');
        this.show({ kind: 'run', runId, runDir, experiment, epoch: record.epoch }, record.layers, record.summary, runId);
      }),
    );
  }

  /** The stats a joined run has on disk, unless live ones (or another source) came first. */
  private async showStanding(source: LayersSource & { kind: 'run' }, completed: number): Promise<void> {
    this.pendingEpochs = completed;
    this.render();
    let record: LayersRecord | undefined;
    try {
      record = await this.lastLayers(source.runDir);
    } catch {
      // The next epoch's live stats fill the view.
    }
    const still = this.source === source && this.layers.length === 0;
    if (still) this.pendingEpochs = 0;
    if (still && record) this.show({ ...source, epoch: record.epoch }, record.layers, record.summary, source.runId);
    else if (still) this.render();
  }

  attach(view: vscode.TreeView<LayersNode>): void {
    this.view = view;
    this.render();
  }

  /** Shows these stats; `followRunId` keeps them updated from the run's live notifications. */
  show(source: LayersSource | undefined, layers: LayerStats[], summary: ModelSummary | undefined, followRunId?: string): void {
    this.pendingEpochs = 0;
    this.source = source;
    this.layers = layers;
    this.summary = summary;
    this.followRunId = followRunId;
    this.render();
  }

  /** What is shown now (for the extension's test API). */
  current(): { source: LayersSource | undefined; layers: LayerStats[]; summary: ModelSummary | undefined } {
    return { source: this.source, layers: this.layers, summary: this.summary };
  }

  private render(): void {
    void vscode.commands.executeCommand('setContext', 'ternary.layersShown', this.layers.length > 0);
    // The welcome text ("Select a run…") is for when nothing is chosen, not for a run without stats yet.
    void vscode.commands.executeCommand('setContext', 'ternary.layersSourceChosen', this.source !== undefined);
    if (this.view) {
      this.view.description = describeSource(this.source);
      this.view.message = layersMessage(this.source, this.layers.length, this.summary, this.pendingEpochs);
    }
    this.changed.fire(undefined);
  }

  getChildren(node?: LayersNode): LayersNode[] {
    const runDir = this.source?.kind === 'run' ? this.source.runDir : undefined;
    if (!node) return this.layers.map((stats) => ({ kind: 'layer', stats, runDir }));
    if (node.kind === 'layer' && node.stats.branches.length > 1) {
      return node.stats.branches.map((stats, index) => ({ kind: 'branch', layer: node.stats.layer, index, stats }));
    }
    return [];
  }

  getTreeItem(node: LayersNode): vscode.TreeItem {
    if (node.kind === 'branch') {
      const item = new vscode.TreeItem(`branch ${node.index + 1} · f ${formatNumber(node.stats.factor)}`);
      item.id = `${node.layer}/branch-${node.index}`;
      item.description = layerDescription(node.stats);
      item.tooltip = branchTooltip(node.layer, node.index, node.stats);
      item.iconPath = new vscode.ThemeIcon('git-branch');
      item.contextValue = 'ternary.layerBranch';
      return item;
    }
    const stats = node.stats;
    const item = new vscode.TreeItem(
      stats.layer,
      stats.branches.length > 1 ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None,
    );
    item.id = stats.layer;
    item.description = stats.ternary ? layerDescription(stats) : `float32 · ${formatCount(stats.params)} params`;
    // The row shows what fits the sidebar; all of it is in the tooltip, and read out in full.
    item.accessibilityInformation = {
      label: `${stats.layer}, ${stats.ternary ? layerAccessibleText(stats) : `float32, ${formatCount(stats.params)} params`}`,
    };
    item.tooltip = layerTooltip(stats);
    item.iconPath = new vscode.ThemeIcon(/conv/i.test(stats.type) ? 'symbol-array' : 'symbol-field');
    item.contextValue = `ternary.layer.${stats.ternary ? 'ternary' : 'float'}${node.runDir ? '.run' : ''}`;
    return item;
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
  }
}

function describeSource(source: LayersSource | undefined): string | undefined {
  if (!source) return undefined;
  if (source.kind === 'model') return vscode.workspace.asRelativePath(source.modelPath, false);
  // The run by its start in local time, as its row in the Experiments view: the id is long and UTC.
  return `${source.experiment} · ${runStartLabel(source.runId)} · ${source.epoch > 0 ? `epoch ${source.epoch}` : 'starting'}`;
}

/** The line above the layers: the model's summary, or why there are no layers to show. */
export function layersMessage(
  source: LayersSource | undefined,
  layerCount: number,
  summary: ModelSummary | undefined,
  pendingEpochs: number,
): string | undefined {
  if (summary && layerCount > 0) return describeSummary(summary);
  if (source?.kind !== 'run' || layerCount > 0) return undefined;
  const run = `${source.experiment} (run ${source.runId})`;
  return pendingEpochs > 0
    ? `${run}: reading the layer statistics of epoch ${pendingEpochs}…`
    : `${run}: its layer statistics appear when its first epoch ends.`;
}

function describeSummary(summary: ModelSummary): string {
  return `${summary.ternaryLayers}/${summary.layers} layers ternary · ${formatSizeChange(summary.fp32Bytes, summary.ternaryBytes)}`;
}

function layerTooltip(stats: LayerStats): vscode.MarkdownString {
  const md = new vscode.MarkdownString();
  md.appendMarkdown(`**${cell(stats.layer)}** — ${cell(stats.type)}${stats.ternary ? '' : ' (full precision)'}\n\n`);
  const rows: [string, string][] = [
    ['shape', `[${stats.shape.join(', ')}]`],
    ['params', formatCount(stats.params)],
    ['bits / weight', String(stats.bits)],
  ];
  if (stats.ternary) {
    rows.push(
      ['Δ (threshold)', formatNumber(stats.delta)],
      ['α (scale)', formatNumber(stats.alpha)],
      ['sparsity', formatPercent(stats.sparsity, 2)],
      ...(stats.relError === undefined ? [] : ([['‖W − Ŵ‖ / ‖W‖', formatPercent(stats.relError, 2)]] as [string, string][])),
      ['thresholds', stats.threshold ?? 'fixed'],
      ['−α / 0 / +α', `${formatCount(stats.counts.neg)} / ${formatCount(stats.counts.zero)} / ${formatCount(stats.counts.pos)}`],
      // 8-bit activations (docs/method.md): the trained input range and its uint8 grid.
      ...(stats.input
        ? ([
            ['input range (int8)', `${formatNumber(stats.input.min)} … ${formatNumber(stats.input.max)}`],
            ['input scale / zero point', `${formatNumber(stats.input.scale)} / ${stats.input.zeroPoint}`],
          ] as [string, string][])
        : []),
    );
  }
  md.appendMarkdown('| | |\n|---|---|\n');
  for (const [name, value] of rows) md.appendMarkdown(`| ${cell(name)} | ${cell(value)} |\n`);
  if (stats.branches.length > 1) {
    md.appendMarkdown('\n| branch | f | Δ | α | sparsity |\n|---|---|---|---|---|\n');
    stats.branches.forEach((b, i) => {
      md.appendMarkdown(
        `| ${i + 1} | ${formatNumber(b.factor)} | ${formatNumber(b.delta)} | ${formatNumber(b.alpha)} | ${formatPercent(b.sparsity, 2)} |\n`,
      );
    });
  }
  return md;
}

function branchTooltip(layer: string, index: number, stats: BranchStats): vscode.MarkdownString {
  const md = new vscode.MarkdownString(`**${cell(layer)}**, REL branch ${index + 1}\n\n| | |\n|---|---|\n`);
  md.appendMarkdown(
    `| factor f | ${formatNumber(stats.factor)} |\n| Δ | ${formatNumber(stats.delta)} |\n| α | ${formatNumber(stats.alpha)} |\n`,
  );
  md.appendMarkdown(
    `| sparsity | ${formatPercent(stats.sparsity, 2)} |\n| −α / 0 / +α | ${formatCount(stats.counts.neg)} / ${formatCount(stats.counts.zero)} / ${formatCount(stats.counts.pos)} |\n`,
  );
  return md;
}
