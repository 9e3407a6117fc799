import type { RunHistory, RunInfo, SweepPlan } from '../../shared/protocol';

/** What the panels need from the rest of the extension (the language client, in practice). */
export interface PanelDeps {
  /** The runs on disk, running ones included. */
  listRuns(): Promise<RunInfo[]>;
  /** Everything recorded in a run folder; histograms only when asked (they are the bulk). */
  readHistory(runDir: string, opts: { histograms: boolean }): Promise<RunHistory>;
  /** An experiment's sweep and what its runs have (`ternary/sweepPlan`). */
  sweepPlan(configPath: string, experiment: string): Promise<SweepPlan>;
}
