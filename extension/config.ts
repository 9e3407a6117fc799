/**
 * The extension's settings, read in one typed place (docs/extension.md, Settings). Everything else asks this
 * module instead of calling `workspace.getConfiguration` with string keys.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { InitializationOptions } from '../shared/protocol';
import { DEFAULT_RUNS_FOLDER } from '../shared/runsFolder';

export type Backend = 'auto' | 'onednn' | 'wasm' | 'cpu' | 'tensorflow';
const backends: readonly Backend[] = ['auto', 'onednn', 'wasm', 'cpu', 'tensorflow'];

/** Settings the server reads once at start: changing one asks for a server restart. */
export const settingsNeedingRestart = [
  'ternary.backend', 'ternary.server.nodePath', 'ternary.server.threads', 'ternary.server.lowPriority', 'ternary.metricsRate',
] as const;

export class TernaryConfig {
  private get section(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration('ternary');
  }

  /** Compute backend the server picks at start. */
  get backend(): Backend {
    const value = this.section.get<string>('backend', 'auto');
    return (backends as readonly string[]).includes(value) ? (value as Backend) : 'auto';
  }

  /** Folder of run folders; relative paths are resolved against the config file's folder. */
  get runsFolder(): string {
    return this.section.get<string>('runsFolder', DEFAULT_RUNS_FOLDER).trim() || DEFAULT_RUNS_FOLDER;
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

  /** The runs root of a config file (`runsFolder` resolved against the config's folder). */
  runsDirFor(configPath: string): string {
    return path.resolve(path.dirname(configPath), this.runsFolder);
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
