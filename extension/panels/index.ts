/**
 * The webview panels (docs/panels.md): the Dashboard (live and recorded curves of several runs) and
 * the Weight histograms (latent weights with ±Δ and the exact ternary counts, per layer and epoch).
 * The extension calls `registerPanels` once in `activate`; `package.json` contributes the commands
 * and the `onWebviewPanel:` activation events.
 */
import * as vscode from 'vscode';
import type { RunEventHub } from '../runEventHub';
import { DashboardViewType, HistogramsViewType, TradeoffViewType } from '../../shared/webviewProtocol';
import { folderExists, goneRunDirs, goneRunsMessage } from '../goneRuns';
import { dashboardRunDirs, histogramsTarget } from './commandArgs';
import { DashboardPanel } from './dashboardPanel';
import type { PanelDeps } from './deps';
import { HistogramsPanel } from './histogramsPanel';
import { RunIndex } from './runIndex';
import { TradeoffPanel } from './tradeoffPanel';

export type { PanelDeps } from './deps';

/** Register `ternary.showDashboard`, `ternary.showHistograms` and the serializers of both panels. */
export function registerPanels(context: vscode.ExtensionContext, hub: RunEventHub, deps: PanelDeps): void {
  const runs = new RunIndex(hub, deps);
  const dashboard = new DashboardPanel(context, hub, runs, deps);
  const histograms = new HistogramsPanel(context, hub, runs, deps);
  const tradeoff = new TradeoffPanel(context, hub, deps);
  context.subscriptions.push(
    dashboard,
    histograms,
    tradeoff,
    // From the Sweep lens ({configPath, experiment}: that sweep and its config's float baselines) or with run folders.
    vscode.commands.registerCommand('ternary.showTradeoff', async (arg?: unknown, selection?: unknown) => {
      const ref = arg as { configPath?: unknown; experiment?: unknown } | undefined;
      if (typeof ref?.configPath === 'string' && typeof ref.experiment === 'string') {
        const plan = await deps.sweepPlan(ref.configPath, ref.experiment);
        return tradeoff.show({ sweepId: plan.sweepId, configPath: ref.configPath });
      }
      return tradeoff.show({ runDirs: dashboardRunDirs(arg, selection) });
    }),
    // Experiments view: add the selected runs (from a sweep or not) to the open plot.
    vscode.commands.registerCommand('ternary.addToTradeoff', (arg?: unknown, selection?: unknown) =>
      tradeoff.show({ runDirs: dashboardRunDirs(arg, selection) }, true),
    ),
    vscode.commands.registerCommand('ternary.showDashboard', async (arg?: unknown, selection?: unknown) => {
      const runDirs = dashboardRunDirs(arg, selection);
      // A notification's button may name a run deleted since (extension/goneRuns.ts): say so, and
      // show the others; with none left there is nothing to open.
      const gone = await goneRunDirs(runDirs, folderExists);
      if (gone.length > 0) {
        void vscode.window.showWarningMessage(
          `Ternary: ${goneRunsMessage(gone, 'show', (d) => vscode.workspace.asRelativePath(d, false))}`,
        );
        if (gone.length === runDirs.length) return;
      }
      return dashboard.show(runDirs.filter((d) => !gone.includes(d)));
    }),
    vscode.commands.registerCommand('ternary.showHistograms', (arg?: unknown) => histograms.show(histogramsTarget(arg))),
    // The webview keeps its own state (selection, smoothing, epoch…) with setState and reads it
    // back with getState when it boots, so restoring only has to adopt the panel.
    vscode.window.registerWebviewPanelSerializer(DashboardViewType, {
      deserializeWebviewPanel: async (panel) => dashboard.adopt(panel),
    }),
    vscode.window.registerWebviewPanelSerializer(HistogramsViewType, {
      deserializeWebviewPanel: async (panel) => histograms.adopt(panel),
    }),
    vscode.window.registerWebviewPanelSerializer(TradeoffViewType, {
      deserializeWebviewPanel: async (panel) => tradeoff.adopt(panel),
    }),
  );
}
