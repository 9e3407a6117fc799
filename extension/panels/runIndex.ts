/**
 * Which run folder a live notification belongs to. Notifications name runs by id; the panels key
 * everything by run folder (unique, and what history loading takes).
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
  private readonly dirById = new Map<string, string>();
  private readonly subscription: { dispose(): void };

  constructor(
    private readonly hub: RunEventHub,
    private readonly deps: PanelDeps,
  ) {
    this.subscription = hub.onRunStarted((p) => this.dirById.set(p.runId, p.runDir));
  }

  dispose(): void {
    this.subscription.dispose();
  }

  /** The run folder of a run id, or undefined when the run is unknown (not started in this session nor listed). */
  runDirOf(runId: string): string | undefined {
    return this.hub.active.get(runId)?.runDir ?? this.dirById.get(runId);
  }

  /** Whether a run is in progress right now. */
  isRunning(runDir: string): boolean {
    for (const run of this.hub.active.values()) if (run.runDir === runDir) return true;
    return false;
  }

  /** The runs on disk, ordered for the pickers; also learns their ids. */
  async list(): Promise<RunInfo[]> {
    const runs = orderRuns(await this.deps.listRuns());
    for (const run of runs) this.dirById.set(run.runId, run.runDir);
    return runs;
  }
}
