/**
 * The runs the panels offer: the run list in picker order, and which runs train now. The panels
 * key everything by run folder (unique, what history loading takes, and what every live
 * notification carries).
 */
import type { RunEventHub } from '../runEventHub';
import type { RunInfo } from '../../shared/protocol';
import type { PanelDeps } from './deps';

/** Running runs first, then newest start first, then by folder (stable for equal times). */
export function orderRuns(runs: readonly RunInfo[]): RunInfo[] {
  return [...runs].sort(
    (a, b) =>
      Number(b.status === 'running') - Number(a.status === 'running') ||
      (b.startedAt ?? '').localeCompare(a.startedAt ?? '') ||
      a.runDir.localeCompare(b.runDir),
  );
}

export class RunIndex {
  constructor(
    private readonly hub: RunEventHub,
    private readonly deps: PanelDeps,
  ) {}

  /** Whether a run is in progress right now. */
  isRunning(runDir: string): boolean {
    for (const run of this.hub.active.values()) if (run.runDir === runDir) return true;
    return false;
  }

  /** The runs on disk, ordered for the pickers. */
  async list(): Promise<RunInfo[]> {
    return orderRuns(await this.deps.listRuns());
  }
}
