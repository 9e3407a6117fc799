/** Host of the Dashboard panel: run list, histories from disk, live metrics from the hub. */
import * as vscode from 'vscode';
import type { RunEventHub } from '../runEventHub';
import { DashboardViewType, MessageType, type DashboardHostMessage, type WebviewToHostMessage } from '../../shared/webviewProtocol';
import type { PanelDeps } from './deps';
import { loadHistory } from './historyMessage';
import type { RunIndex } from './runIndex';
import { saveExport } from './saveExport';
import { SingletonPanel, errorText } from './singletonPanel';

export class DashboardPanel extends SingletonPanel<DashboardHostMessage> {
  constructor(
    context: vscode.ExtensionContext,
    hub: RunEventHub,
    private readonly runs: RunIndex,
    private readonly deps: PanelDeps,
  ) {
    super(context, { viewType: DashboardViewType, title: 'Ternary Dashboard', bundle: 'dashboard' });
    // Live events for every run go to the webview; it keeps those it shows. They are small
    // (metrics are throttled by the server) and this spares a second copy of the selection here.
    this.disposables.push(
      hub.onMetrics((p) => this.post({ type: MessageType.Metrics, runDir: p.runDir, records: p.records })),
      hub.onLayerStats((p) => this.post({ type: MessageType.Layers, runDir: p.runDir, record: p.record })),
      hub.onRunStarted((p) => {
        this.post({ type: MessageType.RunStarted, runDir: p.runDir });
        void this.sendRuns();
      }),
      hub.onRunEnded((p) => {
        this.post({ type: MessageType.RunEnded, runDir: p.runDir, status: p.status });
        void this.sendRuns();
      }),
      // A note written or a run deleted from the Experiments view.
      hub.onRunsChanged(() => void this.sendRuns()),
    );
  }

  /** Open (or reveal) the dashboard; with run folders, show exactly those. */
  async show(runDirs?: string[]): Promise<void> {
    await this.reveal();
    if (runDirs?.length) this.postOrQueue({ type: MessageType.Select, runDirs });
  }

  protected async handle(message: WebviewToHostMessage): Promise<void> {
    switch (message.type) {
      case MessageType.Ready:
        this.flushQueued();
        await this.sendRuns();
        return;
      case MessageType.LoadRuns:
        await Promise.all(message.runDirs.map((runDir) => this.sendHistory(runDir, message.histograms)));
        return;
      case MessageType.State:
        return;
      case MessageType.SaveFile: {
        const uri = await saveExport(message);
        if (uri) this.post({ type: MessageType.Saved, path: uri.fsPath });
        return;
      }
    }
  }

  private async sendRuns(): Promise<void> {
    if (!this.isOpen) return;
    try {
      this.post({ type: MessageType.Runs, runs: await this.runs.list() });
    } catch (err) {
      this.post({
        type: MessageType.Error,
        message: `Could not list the runs: ${errorText(err)}. Is the training server running? (Ternary: Restart Server)`,
      });
    }
  }

  private async sendHistory(runDir: string, histograms: boolean): Promise<void> {
    try {
      this.post(await loadHistory(this.deps, this.runs, runDir, histograms));
    } catch (err) {
      this.post({ type: MessageType.Error, message: errorText(err), runDir });
    }
  }
}
