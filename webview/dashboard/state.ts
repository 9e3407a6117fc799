/**
 * The Dashboard's state in one object: what the user chose (kept by VS Code across reloads), the
 * run list, and the records of the runs shown. It applies the host's messages; main.ts draws it.
 * DOM-free, so it is unit-tested in Node (test/unit/webview-state.test.ts).
 */
import type { DashboardState, HistoryMessage, LayersRecord, MetricsRecord, RunInfo, RunStatus } from '../../shared/webviewProtocol';
import { observePace, type RunPace } from '../../shared/progressText';
import { RunList } from '../shared/runList';
import { mergeLayers, mergeMetrics } from '../transforms/metricsSeries';

/** What the panel holds of one shown run. */
export interface RunData {
  metrics: MetricsRecord[];
  /** Keys of the metrics records merged so far (live and recorded records overlap). */
  seen: Set<string>;
  layers: LayersRecord[];
  status?: RunStatus;
  /** Its recorded history has arrived. */
  loaded: boolean;
  /** Images a second and time left while it trains (from its live metrics). */
  pace: RunPace;
}

export class DashboardModel {
  /** What the user chose; persisted with `setState`. */
  readonly view: DashboardState;
  readonly runs = new RunList();
  private readonly data = new Map<string, RunData>();

  constructor(saved: Partial<DashboardState> | undefined) {
    this.view = {
      runDirs: saved?.runDirs ?? [],
      smoothing: saved?.smoothing ?? 0.6,
      logScale: saved?.logScale ?? false,
      sparsityRunDir: saved?.sparsityRunDir,
    };
  }

  /** The runs shown, in the order of their colours. */
  get selected(): readonly string[] {
    return this.view.runDirs;
  }

  dataOf(runDir: string): RunData | undefined {
    return this.data.get(runDir);
  }

  /** Show exactly these runs; returns the ones whose history must be loaded. */
  select(runDirs: readonly string[]): string[] {
    this.view.runDirs = [...new Set(runDirs)];
    const missing = this.view.runDirs.filter((d) => !this.data.has(d));
    for (const d of missing)
      this.data.set(d, { metrics: [], seen: new Set(), layers: [], loaded: false, status: this.runs.find(d)?.status, pace: {} });
    return missing;
  }

  /**
   * The host's run list. On the first one, returns the selection to make: the saved one (its
   * histories are loaded now) or the default; afterwards undefined.
   */
  setRuns(runs: RunInfo[]): string[] | undefined {
    const first = this.runs.update(runs);
    // A run that ended while its end was not seen here (panel reloaded) stops showing "training".
    for (const r of runs) {
      const d = this.data.get(r.runDir);
      if (d && r.status !== 'running' && d.status === 'running') d.status = r.status;
    }
    if (!first) return undefined;
    return this.view.runDirs.length ? [...this.view.runDirs] : this.runs.defaultSelection();
  }

  /** A run's recorded history; false when the run is no longer shown. */
  applyHistory(m: HistoryMessage): boolean {
    const d = this.data.get(m.runDir);
    if (!d) return false;
    mergeMetrics(d.metrics, d.seen, m.metrics);
    for (const l of m.layers) mergeLayers(d.layers, l);
    d.status = m.status ?? d.status;
    d.loaded = true;
    return true;
  }

  /** Live metrics; true when they added points to a shown run. */
  applyMetrics(runDir: string, records: readonly MetricsRecord[]): boolean {
    const d = this.data.get(runDir);
    if (!d) return false;
    d.status = 'running';
    const epochs = this.runs.find(runDir)?.epochs;
    if (epochs !== undefined) observePace(d.pace, records, epochs);
    return mergeMetrics(d.metrics, d.seen, records) > 0;
  }

  /** Live layer stats at the end of an epoch; says what changed. */
  applyLayers(runDir: string, record: LayersRecord): { runList: boolean; data: boolean } {
    const runList = this.runs.noteEpoch(runDir, record.epoch);
    const d = this.data.get(runDir);
    if (d) mergeLayers(d.layers, record);
    return { runList, data: d !== undefined };
  }

  /** A run began: the selection to make (new runs are followed, as TensorBoard does), or undefined. */
  runStarted(runDir: string): string[] | undefined {
    return this.view.runDirs.includes(runDir) ? undefined : [...this.view.runDirs, runDir];
  }

  /** After the selection is made: a started run shows as training. */
  markRunning(runDir: string): void {
    const d = this.data.get(runDir);
    if (d) d.status = 'running';
  }

  runEnded(runDir: string, status: RunStatus): void {
    const d = this.data.get(runDir);
    if (d) d.status = status;
  }

  /** A run that cannot be read (deleted, moved) leaves the selection instead of "loading" forever; returns the new selection. */
  drop(runDir: string): string[] {
    this.data.delete(runDir);
    return this.view.runDirs.filter((d) => d !== runDir);
  }

  /** Shown runs that are training, and those whose history has not arrived. */
  counts(): { live: number; loading: number } {
    const shown = this.view.runDirs.map((d) => this.data.get(d));
    return { live: shown.filter((d) => d?.status === 'running').length, loading: shown.filter((d) => !d?.loaded).length };
  }

  /** The run whose per-layer sparsity is drawn: the chosen one while it has layers, else the first shown that has. */
  sparsityRun(): { shown: string[]; runDir: string | undefined } {
    const shown = this.view.runDirs.filter((d) => (this.data.get(d)?.layers.length ?? 0) > 0);
    const chosen = this.view.sparsityRunDir;
    return { shown, runDir: chosen && shown.includes(chosen) ? chosen : shown[0] };
  }
}
