/**
 * The Weight histograms panel's state in one object: what the user chose (run, layer, epoch; kept
 * by VS Code across reloads), the run list, and the histograms and layer stats of the runs
 * opened. It applies the host's messages; main.ts draws it. DOM-free, so it is unit-tested in
 * Node (test/unit/webview-state.test.ts).
 */
import type {
  HistogramsRecord,
  HistogramsState,
  HistoryMessage,
  LayersRecord,
  RunInfo,
  RunStatus,
  WeightHistogram,
} from '../../shared/webviewProtocol';
import { RunList } from '../shared/runList';
import { mergeLayers } from '../transforms/metricsSeries';

/** What the panel holds of one run. */
export interface RunData {
  /** One record per epoch, in epoch order. */
  histograms: HistogramsRecord[];
  layers: LayersRecord[];
  status?: RunStatus;
  /** Its recorded history has arrived (or could not be read). */
  loaded: boolean;
}

export class HistogramsModel {
  /** What the user chose; persisted with `setState`. `epoch` undefined = follow the newest. */
  readonly view: HistogramsState;
  readonly runs = new RunList();
  private readonly data = new Map<string, RunData>();

  constructor(saved: HistogramsState | undefined) {
    this.view = { ...saved };
  }

  /** The data of the run shown. */
  current(): RunData | undefined {
    return this.view.runDir ? this.data.get(this.view.runDir) : undefined;
  }

  /** Epochs with histograms in the run shown, ascending. */
  epochs(): number[] {
    return (this.current()?.histograms ?? []).map((r) => r.epoch);
  }

  /** Layers of the run shown, as in its newest histograms. */
  layerNames(): string[] {
    const recs = this.current()?.histograms ?? [];
    const last = recs[recs.length - 1];
    return last ? last.histograms.map((h) => h.layer) : [];
  }

  /** The chosen layer while the run has it, else its first. */
  shownLayer(): string | undefined {
    const layers = this.layerNames();
    return this.view.layer && layers.includes(this.view.layer) ? this.view.layer : layers[0];
  }

  /** The pinned epoch while the run has it, else the newest. */
  shownEpoch(): number | undefined {
    const list = this.epochs();
    if (list.length === 0) return undefined;
    return this.view.epoch !== undefined && list.includes(this.view.epoch) ? this.view.epoch : list[list.length - 1];
  }

  /** The histogram of the shown layer at the shown epoch. */
  shownHistogram(): WeightHistogram | undefined {
    const epoch = this.shownEpoch();
    const layer = this.shownLayer();
    return this.current()
      ?.histograms.find((r) => r.epoch === epoch)
      ?.histograms.find((h) => h.layer === layer);
  }

  /** Show this run (another run starts at its newest epoch); returns the folders whose history must be loaded. */
  selectRun(runDir: string | undefined): string[] {
    if (runDir !== this.view.runDir) this.view.epoch = undefined;
    this.view.runDir = runDir;
    return runDir ? this.open(runDir) : [];
  }

  selectLayer(layer: string | undefined): void {
    this.view.layer = layer;
  }

  /** Step to the index-th epoch (clamped); the newest means "follow live", any other is pinned. */
  stepTo(index: number): void {
    const list = this.epochs();
    if (list.length === 0) return;
    const i = Math.min(Math.max(index, 0), list.length - 1);
    this.view.epoch = i === list.length - 1 ? undefined : list[i];
  }

  /**
   * The host's run list. On the first one, returns the folders to load: the saved run's (its
   * epoch and layer kept) or the default run's; afterwards undefined.
   */
  setRuns(runs: RunInfo[]): string[] | undefined {
    if (!this.runs.update(runs)) return undefined;
    if (this.view.runDir) return this.open(this.view.runDir);
    return this.selectRun(this.runs.defaultSelection()[0]);
  }

  applyHistory(m: HistoryMessage): boolean {
    const d = this.data.get(m.runDir);
    if (!d) return false;
    for (const r of m.histograms) mergeHistograms(d.histograms, r);
    for (const l of m.layers) mergeLayers(d.layers, l);
    d.status = m.status ?? d.status;
    d.loaded = true;
    return true;
  }

  /** Live histograms at the end of an epoch; false when the run is not open here. */
  applyHistograms(runDir: string, record: HistogramsRecord): boolean {
    const d = this.data.get(runDir);
    if (!d) return false;
    mergeHistograms(d.histograms, record);
    return true;
  }

  /** Live layer stats at the end of an epoch (they also keep the picker's "epoch e/E" current). */
  applyLayers(runDir: string, record: LayersRecord): void {
    this.runs.noteEpoch(runDir, record.epoch);
    const d = this.data.get(runDir);
    if (d) mergeLayers(d.layers, record);
  }

  /** A run began; it is followed only when no running run is being looked at. Returns the folders to load. */
  runStarted(runDir: string): string[] {
    const shown = this.view.runDir;
    const load = !shown || this.data.get(shown)?.status !== 'running' ? this.selectRun(runDir) : [];
    const d = this.data.get(runDir);
    if (d) d.status = 'running';
    return load;
  }

  runEnded(runDir: string, status: RunStatus): void {
    const d = this.data.get(runDir);
    if (d) d.status = status;
  }

  /** The run's history could not be read: stop saying "Loading". */
  failed(runDir: string): void {
    const d = this.data.get(runDir);
    if (d) d.loaded = true;
  }

  private open(runDir: string): string[] {
    if (this.data.has(runDir)) return [];
    this.data.set(runDir, { histograms: [], layers: [], loaded: false, status: this.runs.find(runDir)?.status });
    return [runDir];
  }
}

/** Insert or replace an epoch's record, keeping epoch order. */
function mergeHistograms(into: HistogramsRecord[], rec: HistogramsRecord): void {
  const at = into.findIndex((r) => r.epoch === rec.epoch);
  if (at >= 0) into[at] = rec;
  else {
    into.push(rec);
    into.sort((a, b) => a.epoch - b.epoch);
  }
}
