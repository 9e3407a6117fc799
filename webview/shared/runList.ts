/**
 * Run picking, shared by both panels: the run list the host sends (newest first, running ones
 * included), which runs to show when nothing is chosen yet, and the options of a run picker.
 * DOM-free, so it is unit-tested in Node (test/unit/webview-state.test.ts).
 */
import type { RunInfo } from '../../shared/webviewProtocol';
import { epochProgress } from '../../shared/progressText';
import { formatChartPercent } from '../transforms/chartData';
import { runLabel } from '../transforms/runLabel';

export interface PickerOption {
  value: string;
  label: string;
}

export class RunList {
  private list: RunInfo[] = [];
  private gotList = false;

  get runs(): readonly RunInfo[] {
    return this.list;
  }
  /** The host has sent a list (until then the panels say "Loading runs…"). */
  get received(): boolean {
    return this.gotList;
  }

  /** Takes the host's list; true for the first list since the webview loaded. */
  update(runs: RunInfo[]): boolean {
    const first = !this.gotList;
    this.list = runs;
    this.gotList = true;
    return first;
  }

  find(runDir: string): RunInfo | undefined {
    return this.list.find((r) => r.runDir === runDir);
  }

  /** "experiment · run-id" of a folder, known to the list or not (with its config when two configs share the name). */
  label(runDir: string): string {
    return runLabel(this.find(runDir), runDir, this.list);
  }

  /**
   * The host reads the list at the start and end of runs; a live epoch keeps its "epoch e/E"
   * current in between. True when the list changed.
   */
  noteEpoch(runDir: string, epoch: number): boolean {
    const run = this.find(runDir);
    if (!run || run.epoch >= epoch) return false;
    run.epoch = epoch;
    return true;
  }

  /** Nothing chosen yet (first open, no argument): the running runs, else the newest one. */
  defaultSelection(): string[] {
    const running = this.list.filter((r) => r.status === 'running').map((r) => r.runDir);
    return running.length ? running : this.list.slice(0, 1).map((r) => r.runDir);
  }

  /** A picker's options: every run, plus chosen folders the list does not know (yet), so they stay choosable. */
  options(selected: readonly string[], opts: { best: boolean }): PickerOption[] {
    const options = this.list.map((r) => ({ value: r.runDir, label: runOptionLabel(r, opts.best, this.list) }));
    for (const d of selected) if (!this.find(d)) options.push({ value: d, label: runLabel(undefined, d) });
    return options;
  }
}

/** "experiment · run-id (status, epoch e/E · best 91.2%)" for a picker; `runs`: the others, to tell configs apart. */
export function runOptionLabel(r: RunInfo, withBest: boolean, runs: readonly RunInfo[] = []): string {
  const best = withBest && r.bestTop1 !== undefined ? ` · best ${formatChartPercent(r.bestTop1)}` : '';
  return `${runLabel(r, r.runDir, runs)} (${r.status}, ${epochProgress(r.epoch, r.epochs)}${best})`;
}
