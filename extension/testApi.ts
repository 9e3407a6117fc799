/**
 * What `activate` returns: a read-only window on the views' data, so the integration tests in a
 * real VS Code can check what the user sees (tree labels and descriptions, status bar text)
 * without scraping the DOM. Nothing here changes state.
 */
import * as vscode from 'vscode';
import type { LayerStats } from '../shared/layerStats';
import type { Services } from './commands/services';
import type { RunLensProvider } from './lenses';
import type { ModelFileEditorProvider } from './modelFile/modelFileEditor';
import type { TrainingStatusBar } from './statusBar';
import type { LayersSource } from './trees/layersTree';

export interface RenderedItem {
  id?: string;
  /** The ThemeIcon id, e.g. `sync` or `pass`. */
  icon?: string;
  label: string;
  description?: string;
  contextValue?: string;
  tooltip?: string;
  children: RenderedItem[];
}

export interface TernaryApi {
  /** The Experiments tree as rendered (labels, descriptions, context values), fully expanded. */
  experimentsTree(): Promise<RenderedItem[]>;
  /** The Layers tree as rendered, and the stats behind it. */
  layersTree(): Promise<RenderedItem[]>;
  layersData(): { source: LayersSource | undefined; layers: LayerStats[] };
  /** The status bar text while a job runs. */
  statusBarText(): string | undefined;
  /** Whether the training server runs, and what it said about itself. */
  serverRunning(): boolean;
  serverBackend(): string | undefined;
  /** Called when the server reports a run's end, after the views' own handlers. */
  onRunEnded(listener: (runId: string) => void): vscode.Disposable;
  /** The lens titles the config's lenses show now (computed as VS Code asks for them). */
  lensTitles(document: vscode.TextDocument): string[];
  /** The node of a run in the Experiments tree, as a context-menu command receives it. */
  runNode(configPath: string, runDir: string): Promise<unknown>;
  /** The HTML of the model file pages open now (`.tern`, `.onnx` in the model file editor), by file. */
  modelPages(): Record<string, string>;
}

function labelOf(item: vscode.TreeItem): string {
  const label = item.label;
  return typeof label === 'string' ? label : (label?.label ?? '');
}

function tooltipOf(item: vscode.TreeItem): string | undefined {
  const tooltip = item.tooltip;
  return typeof tooltip === 'string' ? tooltip : tooltip?.value;
}

async function render<T>(provider: vscode.TreeDataProvider<T>, node?: T): Promise<RenderedItem[]> {
  const children = (await provider.getChildren(node)) ?? [];
  return Promise.all(
    children.map(async (child) => {
      const item = await provider.getTreeItem(child);
      const expandable = item.collapsibleState !== undefined && item.collapsibleState !== vscode.TreeItemCollapsibleState.None;
      return {
        ...(item.id !== undefined ? { id: item.id } : {}),
        ...(item.iconPath instanceof vscode.ThemeIcon ? { icon: item.iconPath.id } : {}),
        label: labelOf(item),
        description: typeof item.description === 'string' ? item.description : undefined,
        contextValue: item.contextValue,
        tooltip: tooltipOf(item),
        children: expandable ? await render(provider, child) : [],
      };
    }),
  );
}

export function createTestApi(
  s: Services,
  statusBar: TrainingStatusBar,
  lenses: RunLensProvider,
  modelFiles: ModelFileEditorProvider,
): TernaryApi {
  return {
    experimentsTree: () => render(s.experiments),
    layersTree: () => render(s.layers),
    layersData: () => s.layers.current(),
    statusBarText: () => statusBar.text,
    serverRunning: () => s.ctx.serverRunning,
    serverBackend: () => s.ctx.serverInfo?.backend,
    onRunEnded: (listener) => s.ctx.hub.onRunEnded((p) => listener(p.runId)),
    lensTitles: (document) => lenses.provideCodeLenses(document).map((l) => l.command?.title ?? ''),
    runNode: async (configPath, runDir) => {
      const runs = await s.catalog.runsOf({
        configPath,
        experiment: (await s.catalog.allRuns()).find((r) => r.runDir === runDir)?.experiment ?? '',
      });
      const run = runs.find((r) => r.runDir === runDir);
      if (!run) throw new Error(`No run ${runDir} under ${configPath}.`);
      return { kind: 'run', run, runDir, configPath };
    },
    modelPages: () => Object.fromEntries([...modelFiles.open.values()].map((p) => [p.file, p.html])),
  };
}
