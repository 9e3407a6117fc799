/**
 * Entry point of the VS Code side (docs/extension.md, docs/architecture.md): builds the context object, the views, the lenses
 * and the commands, starts the training server, and returns an API the integration tests read.
 * The extension host never imports tfjs: all math happens in the server process.
 */
import * as vscode from 'vscode';
import { RunHistoryRequest, SweepPlanRequest } from '../shared/protocol';
import { AttachedRuns } from './attachedRuns';
import { SeenLiveRuns } from './seenLiveRuns';
import { Catalog } from './catalog';
import { registerExportCommand } from './commands/exportRun';
import { registerModelCommands, showRunLayers } from './commands/models';
import { registerNewConfigCommand } from './commands/newConfig';
import { registerServerCommands } from './commands/server';
import type { Services } from './commands/services';
import { registerTrainingCommands } from './commands/training';
import { registerRunManagementCommands } from './commands/runManagement';
import { ConfigDiagnostics } from './configDiagnostics';
import { Ctx } from './ctx';
import { JobTracker } from './jobs';
import { ModelFileEditorProvider } from './modelFile/modelFileEditor';
import { configSelector, RunLensProvider } from './lenses';
import { registerPanels } from './panels';
import { RunEventHub } from './runEventHub';
import { TrainingStatusBar } from './statusBar';
import { createTestApi, type TernaryApi } from './testApi';
import { ExperimentsTreeProvider, type ExperimentsNode } from './trees/experimentsTree';
import { LayersTreeProvider, type LayersNode } from './trees/layersTree';

export type { RenderedItem, TernaryApi } from './testApi';

let current: Ctx | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<TernaryApi | undefined> {
  const log = vscode.window.createOutputChannel('Ternary', { log: true });
  context.subscriptions.push(log);
  try {
    return await activateWith(context, log);
  } catch (error) {
    // VS Code does not tell the user when an activation fails; we do.
    log.error(`Activation failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    void vscode.window
      .showErrorMessage(`Ternary Studio failed to activate: ${error instanceof Error ? error.message : String(error)}`, 'Show Log')
      .then((choice) => {
        if (choice) log.show();
      });
    return undefined;
  }
}

async function activateWith(context: vscode.ExtensionContext, log: vscode.LogOutputChannel): Promise<TernaryApi> {
  const hub = new RunEventHub();
  context.subscriptions.push(hub);
  const ctx = new Ctx(context, hub, log);
  current = ctx;
  context.subscriptions.push(ctx);

  const catalog = new Catalog(ctx);
  const jobs = new JobTracker(hub);
  const experiments = new ExperimentsTreeProvider(catalog, hub, jobs);
  const layers = new LayersTreeProvider(hub, async (runDir) => {
    const { layers: records } = await ctx.request(RunHistoryRequest.type, { runDir, histograms: false });
    return records[records.length - 1];
  });
  const lenses = new RunLensProvider(jobs, catalog);
  const statusBar = new TrainingStatusBar(jobs, hub);
  const diagnostics = new ConfigDiagnostics(ctx);
  for (const d of [jobs, experiments, layers, lenses, statusBar, diagnostics]) ctx.pushExtCleanup(d);

  const experimentsView = vscode.window.createTreeView<ExperimentsNode>('ternary.experiments', {
    treeDataProvider: experiments,
    showCollapseAll: true,
  });
  const layersView = vscode.window.createTreeView<LayersNode>('ternary.layers', { treeDataProvider: layers });
  layers.attach(layersView);
  ctx.pushExtCleanup(experimentsView);
  ctx.pushExtCleanup(layersView);
  ctx.pushExtCleanup(vscode.languages.registerCodeLensProvider(configSelector, lenses));

  const services: Services = { ctx, catalog, jobs, experiments, layers };
  // Before the server starts: it follows the live runs once it runs (after the job tracker, so runs of ours are linked first).
  ctx.pushExtCleanup(new AttachedRuns(services, new SeenLiveRuns(vscode.Uri.joinPath(context.globalStorageUri, 'runs-seen-live'))));
  registerTrainingCommands(services);
  registerRunManagementCommands(services);
  registerModelCommands(services);
  registerExportCommand(services);
  registerServerCommands(services);
  registerNewConfigCommand(services);
  const modelFiles = ModelFileEditorProvider.register(ctx);
  ctx.pushExtCleanup(vscode.commands.registerCommand('ternary.refreshExperiments', () => experiments.refresh()));

  // Selecting a run shows its layers; a failure to read them is logged, not thrown at the user.
  ctx.pushExtCleanup(
    experimentsView.onDidChangeSelection(({ selection }) => {
      const node = selection[0];
      if (node?.kind !== 'run') return;
      showRunLayers(services, node.run.runDir, node.run.experiment, node.run.runId).catch((error: unknown) =>
        log.warn(`Layers of ${node.run.runDir}: ${error instanceof Error ? error.message : String(error)}`),
      );
    }),
  );
  ctx.pushExtCleanup(
    ctx.onDidChangeServerRunning((running) => {
      void vscode.commands.executeCommand('setContext', 'ternary.serverRunning', running);
      experiments.refresh();
    }),
  );

  registerPanels(context, hub, {
    listRuns: () => catalog.allRuns(),
    readHistory: (runDir, opts) => ctx.request(RunHistoryRequest.type, { runDir, histograms: opts.histograms }),
    sweepPlan: (configPath, experiment) => ctx.request(SweepPlanRequest.type, { configPath, experiment }),
  });

  // Start the server now, so the views fill in; a failure is reported, the views still work.
  ctx.start().catch((error: unknown) => {
    log.error(`The training server did not start: ${error instanceof Error ? error.message : String(error)}`);
    void vscode.window
      .showErrorMessage(
        `Ternary: the training server did not start: ${error instanceof Error ? error.message : String(error)}`,
        'Restart Server',
        'Show Server Log',
      )
      .then((choice) => {
        if (choice === 'Restart Server') void vscode.commands.executeCommand('ternary.restartServer');
        if (choice === 'Show Server Log') log.show();
      });
  });

  return createTestApi(services, statusBar, lenses, modelFiles);
}

export async function deactivate(): Promise<void> {
  await current?.stop();
  current = undefined;
}
