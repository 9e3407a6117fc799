/**
 * Host of the Trade-off panel (docs/panels.md): one point per run — top-1 against bits per weight or
 * sparsity — for the runs of a sweep and the float baselines of its config, plus runs added from the
 * Experiments view. Rows are read from the run folders (`ternary/runHistory` → shared/sweep.ts
 * tradeoffRowOf); a sweep's runs join as they end.
 */
import * as vscode from 'vscode';
import type { RunEventHub } from '../runEventHub';
import { MessageType, TradeoffViewType, type TradeoffHostMessage, type WebviewToHostMessage } from '../../shared/webviewProtocol';
import { tradeoffRowOf, type TradeoffRow } from '../../shared/sweep';
import type { PanelDeps } from './deps';
import { SingletonPanel, errorText } from './singletonPanel';

/** What `ternary.showTradeoff` shows: a sweep (by its id, with its config's float baselines) and/or runs. */
export interface TradeoffTarget {
  sweepId?: string;
  configPath?: string;
  runDirs?: string[];
}

function samePath(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && a.replace(/\\/g, '/') === b.replace(/\\/g, '/');
}

export class TradeoffPanel extends SingletonPanel<TradeoffHostMessage> {
  private sweepIds = new Set<string>();
  private configPaths = new Set<string>();
  private runDirs = new Set<string>();

  constructor(
    context: vscode.ExtensionContext,
    hub: RunEventHub,
    private readonly deps: PanelDeps,
  ) {
    super(context, { viewType: TradeoffViewType, title: 'Ternary Trade-off', bundle: 'tradeoff' });
    // A sweep's points join the plot as their runs end.
    this.disposables.push(hub.onRunEnded(() => void this.sendRows()));
  }

  /** Open (or reveal) the panel on a sweep, or add runs to what it shows. */
  async show(target: TradeoffTarget, add = false): Promise<void> {
    if (!add) {
      this.sweepIds.clear();
      this.configPaths.clear();
      this.runDirs.clear();
    }
    if (target.sweepId) this.sweepIds.add(target.sweepId);
    if (target.configPath) this.configPaths.add(target.configPath);
    for (const d of target.runDirs ?? []) this.runDirs.add(d);
    await this.reveal();
    await this.sendRows();
  }

  protected async handle(message: WebviewToHostMessage): Promise<void> {
    switch (message.type) {
      case MessageType.Ready:
        this.flushQueued();
        await this.sendRows();
        return;
      case MessageType.OpenRun:
        await vscode.commands.executeCommand('ternary.showDashboard', { runDirs: [message.runDir] });
        return;
      default:
        return;
    }
  }

  /** The runs shown: those added, the sweeps' runs, and the newest completed float run of each float experiment of the sweeps' configs. */
  private async rows(): Promise<TradeoffRow[]> {
    const runs = await this.deps.listRuns();
    const dirs = new Set(this.runDirs);
    for (const r of runs) if (r.sweep && this.sweepIds.has(r.sweep.id) && r.status !== 'running') dirs.add(r.runDir);
    const rows: TradeoffRow[] = [];
    const floatsSeen = new Set<string>();
    // Newest first: the first completed float run of an experiment is its baseline.
    for (const r of runs) {
      const candidate =
        dirs.has(r.runDir) || (!r.sweep && r.status === 'completed' && [...this.configPaths].some((p) => samePath(p, r.configPath)));
      if (!candidate) continue;
      const row = tradeoffRowOf(r.runDir, await this.deps.readHistory(r.runDir, { histograms: false }));
      if (!row) continue;
      if (!dirs.has(r.runDir)) {
        if (!row.float || floatsSeen.has(row.experiment)) continue;
        floatsSeen.add(row.experiment);
      }
      rows.push(row);
    }
    return rows;
  }

  private async sendRows(): Promise<void> {
    if (!this.isOpen) return;
    try {
      const title = this.sweepIds.size ? `sweep ${[...this.sweepIds].join(', ')}` : 'runs';
      this.post({ type: MessageType.Tradeoff, title, rows: await this.rows() });
    } catch (err) {
      this.post({
        type: MessageType.Error,
        message: `Could not read the runs: ${errorText(err)}. Is the training server running? (Ternary: Restart Server)`,
      });
    }
  }
}
