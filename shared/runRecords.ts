/**
 * The records written into a run folder, read back by the server and sent over the protocol to
 * the extension and the panels:
 *
 *   runs/<experiment>/<run-id>/
 *     config.json      RunConfigRecord
 *     metrics.jsonl    MetricsRecord per line
 *     layers.jsonl     LayersRecord per line (one per epoch)
 *     histograms/epoch-<NNN>.json   HistogramsRecord
 *     checkpoints/     last/, previous/ (the one before last) and best/ (best validation top-1):
 *                      weights, optimizer state, epoch, rng state (server/train/checkpointStore.ts;
 *                      torch runs: checkpoint.pt, engines/torch/ternary_torch/checkpoint.py)
 *     .lock            the writing process (pid, host) while the run trains (server/runs/runLock.ts)
 *     model/           final tfjs LayersModel
 *     summary.json     RunSummary
 *     note.txt         the user's note on the run (RUN_NOTE_FILE; the editor writes it, nothing else does)
 */
import type { ExperimentConfig } from './experimentConfig';
import type { LayerStats, ModelSummary, WeightHistogram } from './layerStats';
import type { SweepTag } from './sweep';

/** The user's note on a run, plain text in the run folder (extension/runNote.ts writes it; server/runs/runFiles.ts lists it). */
export const RUN_NOTE_FILE = 'note.txt';

/**
 * How a run stands. `crashed` is never written: a reader (server/runs/runFiles.ts) reports it for
 * a run whose summary says `running` while no live process holds its lock (server/runs/runLock.ts).
 */
export type RunStatus = 'running' | 'completed' | 'cancelled' | 'failed' | 'crashed';

/** config.json: the resolved experiment and where/how it ran. */
export interface RunConfigRecord {
  runId: string;
  experiment: ExperimentConfig;
  configPath?: string;
  backend: string;
  threads: number;
  versions: Record<string, string>;
  seed: number;
  startedAt: string;
  /** Written for torch-engine runs (server/engines/torch/torchEngine.ts): where the run computed. Absent: tfjs. */
  engine?: 'tfjs' | 'torch';
  device?: 'cpu' | 'cuda';
  /** Processes in all (nnodes × nprocPerNode). */
  worldSize?: number;
  nnodes?: number;
  nprocPerNode?: number;
  /** A run of a sweep: the sweep's id and this run's point (shared/sweep.ts); `experiment` has the point applied. */
  sweep?: SweepTag;
}

/** One line of metrics.jsonl. `kind: 'batch'` lines are logged every few steps; `epoch` lines once per epoch. */
export interface MetricsRecord {
  kind: 'batch' | 'epoch';
  /** 1-based number of the epoch (batch lines: the epoch in progress; `train.schedule` counts from 0, so epoch n runs at schedule epoch n−1). */
  epoch: number;
  /** Global step (batches seen since the start of the run). */
  step: number;
  /** Fraction of the epoch done, 0..1 (batch lines). */
  progress?: number;
  lr: number;
  /** Training loss / top-1 / top-5 (running means over the epoch so far). */
  loss: number;
  top1: number;
  top5?: number;
  /** Validation metrics (epoch lines). */
  valLoss?: number;
  valTop1?: number;
  valTop5?: number;
  imgPerSec?: number;
  /** Seconds since the start of the run. */
  time: number;
}

/** One line of layers.jsonl. */
export interface LayersRecord {
  /** 1-based epoch number, as in MetricsRecord. */
  epoch: number;
  layers: LayerStats[];
  summary: ModelSummary;
}

/** histograms/epoch-NNN.json */
export interface HistogramsRecord {
  epoch: number;
  histograms: WeightHistogram[];
}

/** summary.json */
export interface RunSummary {
  runId: string;
  experiment: string;
  status: RunStatus;
  /** Epochs completed. */
  epochs: number;
  /** Message when status is failed or cancelled. */
  reason?: string;
  final: { top1: number; top5: number; loss: number };
  best: { top1: number; top5: number; loss: number; epoch: number };
  backend: string;
  fp32Bytes: number;
  ternaryBytes: number;
  compression: number;
  wallSeconds: number;
  /**
   * Batches per epoch, written once training has started (a run followed from its folder is
   * announced with it: server/runs/runFollower.ts).
   */
  stepsPerEpoch?: number;
  /** Torch-engine runs: engine, device and number of processes. */
  engine?: 'tfjs' | 'torch';
  device?: 'cpu' | 'cuda';
  worldSize?: number;
  /** A run of a sweep, as config.json records it. */
  sweep?: SweepTag;
}
