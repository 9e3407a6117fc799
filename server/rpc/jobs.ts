/**
 * What the server asks of the rest of the product. The server itself only speaks the protocol,
 * queues and reports; the work is done by a `Jobs` implementation: the real one
 * (`realJobs.ts`: trainer, stats, export, run folders on tfjs) or a fake in protocol tests.
 */
import type {
  EvaluateParams,
  EvaluateResult,
  ExportParams,
  ExportResult,
  ListRunsParams,
  RunHistory,
  RunHistoryParams,
  RunInfo,
  StatsParams,
  StatsResult,
  TernarizeResult,
  TernarizeParams,
  TrainParams,
  TrainResult,
  ConfigDiagnostic,
  ValidateConfigParams,
  SweepPlan,
  SweepPlanParams,
} from '../../shared/protocol';
import type { TrainListener } from '../runs/trainTypes';

export interface BackendInfo {
  backend: string;
  threads: number;
  /** Versions worth recording (node, tfjs, the server). */
  versions: Record<string, string>;
}

export interface MemoryInfo {
  /** `tf.memory().numTensors` (0 when no tfjs is loaded). */
  numTensors: number;
  numBytes: number;
}

/** Train parameters with the paths resolved (no progress token: progress is the server's business). */
export type TrainJobParams = Omit<TrainParams, 'workDoneToken'>;

export interface Jobs {
  /** Chooses and initialises the compute backend; called once, from `initialize`. */
  initialize(options: { backend?: string; threads?: number }): Promise<BackendInfo>;
  /** Trains; resolves when the run ends (its summary says completed, cancelled or failed). */
  train(params: TrainJobParams, listener: TrainListener, signal: AbortSignal): Promise<TrainResult>;
  evaluate(params: EvaluateParams, signal: AbortSignal): Promise<EvaluateResult>;
  ternarize(params: TernarizeParams, signal: AbortSignal): Promise<TernarizeResult>;
  stats(params: StatsParams, signal: AbortSignal): Promise<StatsResult>;
  export(params: ExportParams, signal: AbortSignal, report?: (message: string) => void): Promise<ExportResult>;
  listRuns(params: ListRunsParams): Promise<RunInfo[]>;
  runHistory(params: RunHistoryParams): Promise<RunHistory>;
  /** A sweep's points and what its runs already have (`server/runs/sweep.ts`); files only, never queued. */
  sweepPlan(params: SweepPlanParams): Promise<SweepPlan>;
  /** Every problem of a config text (`server/config/configDiagnostics.ts`); no tfjs, never queued. */
  validateConfig(params: ValidateConfigParams): Promise<{ problems: ConfigDiagnostic[] }>;
  /** Tensor bookkeeping, for the leak checks of `ternary/serverStats`. */
  memory(): MemoryInfo;
}
