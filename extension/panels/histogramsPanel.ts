/** Host of the Weight histograms panel: one run's per-epoch histograms and layer stats, live. */
import * as vscode from 'vscode';
import type { RunEventHub } from '../runEventHub';
import { HistogramsViewType, MessageType, type HistogramsHostMessage, type WebviewToHostMessage } from '../../shared/webviewProtocol';
import type { PanelDeps } from './deps';
import { loadHistory } from './historyMessage';
import type { RunIndex } from './runIndex';
import { saveExport } from './saveExport';
import { SingletonPanel, errorText } from './singletonPanel';

export class HistogramsPanel extends SingletonPanel<HistogramsHostMessage> {
  constructor(
    context: vscode.ExtensionContext,
    hub: RunEventHub,
    private readonly runs: RunIndex,
    private readonly deps: PanelDeps,
  ) {
    super(context, { viewType: HistogramsViewType, title: 'Ternary Weight Histograms', bundle: 'histograms' });
    this.disposables.push(
      hub.onHistograms((p) => this.post({ type: MessageType.Histograms, runDir: p.runDir, record: p.record })),
      hub.onLayerStats((p) => this.post({ type: MessageType.Layers, runDir: p.runDir, record: p.record })),
      hub.onRunStarted((p) => {
        this.post({ type: MessageType.RunStarted, runDir: p.runDir });
        void this.sendRuns();
      }),
      hub.onRunEnded((p) => {
        this.post({ type: MessageType.RunEnded, runDir: p.runDir, status: p.status });
        void this.sendRuns();
      }),
    );
  }

  /** Open (or reveal) the panel; with a run folder (and a layer), show that. */
  async show(target?: { runDir?: string; layer?: string }): Promise<void> {
    await this.reveal();
    if (target?.runDir || target?.layer) {
      this.postOrQueue({ type: MessageType.Select, runDirs: target.runDir ? [target.runDir] : [], layer: target.layer });
    }
  }

  protected async handle(message: WebviewToHostMessage): Promise<void> {
    switch (message.type) {
      case MessageType.Ready:
        this.flushQueued();
        await this.sendRuns();
        return;
      case MessageType.LoadRuns:
        for (const runDir of message.runDirs) {
          try {
            this.post(await loadHistory(this.deps, this.runs, runDir, true));
          } catch (err) {
            this.post({ type: MessageType.Error, message: errorText(err), runDir });
          }
        }
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
}
