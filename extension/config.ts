/**
 * The extension's settings, read in one typed place (docs/extension.md, Settings). Everything else asks this
 * module instead of calling `workspace.getConfiguration` with string keys.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { isBackendChoice, type BackendChoice } from '../shared/backends';
import type { InitializationOptions } from '../shared/protocol';
import { DEFAULT_RUNS_FOLDER } from '../shared/runsFolder';

/** Settings the server reads once at start: changing one asks for a server restart. */
export const settingsNeedingRestart = [
  'ternary.backend',
  'ternary.server.nodePath',
  'ternary.server.threads',
  'ternary.server.lowPriority',
  'ternary.metricsRate',
] as const;

export class TernaryConfig {
  private get section(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration('ternary');
  }

  /** Compute backend the server picks at start. */
  get backend(): BackendChoice {
    const value = this.section.get<string>('backend', 'auto');
    return isBackendChoice(value) ? value : 'auto';
  }

  /** Where runs compute: the experiment's "engine" (`experiment`), or always `tfjs` / `torch` (docs/engines.md). */
  get engine(): 'tfjs' | 'torch' | undefined {
    const value = this.section.get<string>('engine', 'experiment');
    return value === 'tfjs' || value === 'torch' ? value : undefined;
  }

  /** Export-request fields: the activations of the exported model and the int8 calibration images (docs/formats.md). */
  exportParams(): { activations: 'float' | 'int8'; calibration?: number } {
    const activations = this.section.get<string>('export.activations', 'float') === 'int8' ? 'int8' : 'float';
    // Sent only when the user set it: a count replaces a run's trained ranges (docs/formats.md), and
    // without one the server calibrates what needs it on its default number of images.
    const set = this.section.inspect<number>('export.calibrationImages');
    const images = set?.workspaceFolderValue ?? set?.workspaceValue ?? set?.globalValue;
    return {
      activations,
      ...(activations === 'int8' && images !== undefined && Number.isInteger(images) && images >= 1 ? { calibration: images } : {}),
    };
  }

  /** Train-request fields of the torch engine's settings (device, processes, Python). */
  torchTrainParams(): { device?: 'cpu' | 'cuda'; nprocPerNode?: number; python?: string } {
    const device = this.section.get<string>('torch.device', 'cpu');
    const processes = this.section.get<number>('torch.processes', 1);
    const python = this.section.get<string>('torch.python', '').trim();
    return {
      device: device === 'cuda' ? 'cuda' : 'cpu',
      nprocPerNode: Number.isInteger(processes) && processes >= 1 ? processes : 1,
      ...(python ? { python } : {}),
    };
  }

  /**
   * Folder of run folders for a config file. The setting is `scope: resource`: each workspace
   * folder (or the file itself) may have its own value, so it is read for that file.
   */
  runsFolderFor(configPath: string): string {
    const value = vscode.workspace.getConfiguration('ternary', vscode.Uri.file(configPath)).get<string>('runsFolder', DEFAULT_RUNS_FOLDER);
    return (typeof value === 'string' ? value.trim() : '') || DEFAULT_RUNS_FOLDER;
  }

  /** Node executable for the server; empty: the Node runtime VS Code's extension host runs on. */
  get serverNodePath(): string | undefined {
    const value = this.section.get<string>('server.nodePath', '').trim();
    return value === '' ? undefined : value;
  }

  /** Compute threads of the native and wasm backends; 0 = all cores. */
  get serverThreads(): number {
    const value = this.section.get<number>('server.threads', 0);
    return Number.isInteger(value) && value >= 0 ? value : 0;
  }

  /** Whether the server runs below normal CPU priority (the editor stays responsive while it trains). */
  get serverLowPriority(): boolean {
    return this.section.get<boolean>('server.lowPriority', true) !== false;
  }

  /** Max metrics notifications a second during training. */
  get metricsRate(): number {
    const value = this.section.get<number>('metricsRate', 10);
    return Number.isFinite(value) && value > 0 ? value : 10;
  }

  /** The runs root of a config file (its `runsFolder` resolved against the config's folder). */
  runsDirFor(configPath: string): string {
    return path.resolve(path.dirname(configPath), this.runsFolderFor(configPath));
  }

  /** What the server receives in `initializationOptions`. */
  initializationOptions(): InitializationOptions {
    return { backend: this.backend, threads: this.serverThreads, lowPriority: this.serverLowPriority, metricsRate: this.metricsRate };
  }

  /** True when a configuration change touches a setting the running server read at start. */
  static needsRestart(event: vscode.ConfigurationChangeEvent): boolean {
    return settingsNeedingRestart.some((key) => event.affectsConfiguration(key));
  }
}
