/**
 * The trainer's public face: what the CLI and the training server call. The records it writes
 * into a run folder are in `shared/runRecords.ts` (they cross to the extension and the panels).
 */
import type { ExperimentConfig } from '../../shared/experimentConfig';
import type { HistogramsRecord, LayersRecord, MetricsRecord, RunSummary } from '../../shared/runRecords';
import type { SweepTag } from '../../shared/sweep';

/** Callbacks during a run; all optional. Called synchronously from the training loop. */
export interface TrainListener {
  /** `epoch`: epochs completed when it starts (a resumed run's standing; 0 for a new run). */
  onStart?(info: {
    runId: string;
    runDir: string;
    experiment: string;
    epochs: number;
    epoch: number;
    stepsPerEpoch: number;
    backend: string;
  }): void;
  onMetrics?(record: MetricsRecord): void;
  onLayers?(record: LayersRecord): void;
  onHistograms?(record: HistogramsRecord): void;
  onLog?(level: 'info' | 'warn' | 'error', message: string): void;
}

export interface TrainOptions {
  experiment: ExperimentConfig;
  /** The config file (relative data/model paths are resolved against its folder). */
  configPath?: string;
  /** Root of run folders (default `runs` next to the config). */
  runsDir: string;
  /** Continue this run folder from its last checkpoint. */
  resumeDir?: string;
  /** Overrides `train.epochs`. */
  epochs?: number;
  /** A new run of a sweep: recorded in config.json and summary.json (`experiment` is the point's). A resumed run keeps its own. */
  sweep?: SweepTag;
  /** The backend the caller started (server/backends/ladder.ts `initBackend`), recorded in the run; default: tfjs's current backend, 1 thread. */
  backend?: { name: string; threads: number };
  /** Aborting stops the run within one batch; it ends as `cancelled`. */
  signal?: AbortSignal;
  listener?: TrainListener;
}

export interface TrainResult {
  runDir: string;
  summary: RunSummary;
}
