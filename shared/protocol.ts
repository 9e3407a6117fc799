/**
 * The wire protocol between the extension (client) and the training server: JSON-RPC with the
 * LSP base protocol over stdio. One namespace per message, its direction in the doc comment
 * (docs/protocol.md is the same contract in prose). Imported by the server, the extension and (types only) the webview;
 * shared/tsconfig.json keeps `vscode`, tfjs and Node out of it.
 *
 * Besides these, the server uses the standard LSP messages: `initialize` (its result carries
 * `TernaryServerInfo` under `capabilities.experimental.ternary`), `shutdown`/`exit`,
 * `window/logMessage` for log lines, `window/workDoneProgress/create` + `$/progress` for long work,
 * and `$/cancelRequest` to stop a request (a train request is stopped within one batch).
 */
import { ErrorCodes, LSPErrorCodes, NotificationType, RequestType } from 'vscode-languageserver-protocol';
import type { UserErrorCode } from './userError';
import type { ExperimentConfig } from './experimentConfig';
import type { LayerStats, ModelSummary, WeightHistogram } from './layerStats';
import type { HistogramsRecord, LayersRecord, MetricsRecord, RunConfigRecord, RunStatus, RunSummary } from './runRecords';
import type { ModelExportSummary } from './exportSummary';
import type { SweepPoint, SweepTag } from './sweep';

export type {
  ExperimentConfig,
  LayerStats,
  ModelSummary,
  WeightHistogram,
  HistogramsRecord,
  LayersRecord,
  MetricsRecord,
  RunConfigRecord,
  RunStatus,
  RunSummary,
};

/** What the server tells about itself in `initialize` (`capabilities.experimental.ternary`). */
export interface TernaryServerInfo {
  backend: string;
  threads: number;
  versions: Record<string, string>;
  /** Method names of this protocol the server implements. */
  methods: string[];
}

/** Error codes of failed requests (besides JSON-RPC's own). */
export namespace TernaryErrorCodes {
  /** The config file or one of its properties is invalid; `data` is `{ path: string, property?: string }`. */
  export const InvalidConfig = -32001;
  /** Data could not be read; `data` is `{ file: string }`. */
  export const BadData = -32002;
  /** The training loss became NaN or Inf. */
  export const NonFiniteLoss = -32003;
  /** The run, model or experiment asked for does not exist. */
  export const NotFound = -32004;
  /** The job queue is full. */
  export const Busy = -32005;
  /**
   * A model could not be exported (a layer with no ONNX form, ONNX Runtime missing) or an exported
   * file does not compute what our inference does (parity above 1e-4 relative); `data` is
   * `{ outDir, model? }` with the sizes and parity figures when the files were written.
   */
  export const ExportFailed = -32006;
  /** Another live process is training this run (`ternary/train` with `resumeDir`); `data` is `{ path, pid, host }`. */
  export const RunLocked = -32007;
  /** The disk refused: full, read-only, or a file where a folder should be; `data` is `{ path, code }`. */
  export const FileSystem = -32008;
  /**
   * The training engine asked for cannot run on this machine: no Python, no PyTorch or one older
   * than 1.13, `device: "cuda"` without CUDA (docs/engines.md). The message says what to install or
   * change; `data` is `{ engine, setting }`, `setting` being the VS Code setting that changes it
   * (`ternary.torch.python`, `ternary.torch.device` or `ternary.engine`).
   */
  export const EngineUnavailable = -32009;
}

/**
 * The protocol's error code for each kind of user mistake (shared/userError.ts): the server answers
 * a UserError with it (server/rpc/errors.ts). A backend that cannot start is the machine's, not the
 * request's: InternalError, as a bug, with the log.
 */
export const USER_ERROR_PROTOCOL_CODES: Readonly<Record<UserErrorCode, number>> = {
  invalidConfig: TernaryErrorCodes.InvalidConfig,
  invalidArgument: ErrorCodes.InvalidParams,
  badData: TernaryErrorCodes.BadData,
  badModel: TernaryErrorCodes.BadData,
  notFound: TernaryErrorCodes.NotFound,
  unavailable: ErrorCodes.InternalError,
  runLocked: TernaryErrorCodes.RunLocked,
  fileSystem: TernaryErrorCodes.FileSystem,
  engineUnavailable: TernaryErrorCodes.EngineUnavailable,
  exportFailed: TernaryErrorCodes.ExportFailed,
  cancelled: LSPErrorCodes.RequestCancelled,
  busy: TernaryErrorCodes.Busy,
};

/**
 * Codes of failures that are the user's to fix (a config, data, path, folder or engine), not
 * bugs: the server does not log them as errors, the extension shows their message and logs it as
 * a warning, without a stack trace. Cancellation is neither and is left out.
 */
export const USER_MISTAKE_CODES: ReadonlySet<number> = new Set(
  [...Object.values(USER_ERROR_PROTOCOL_CODES), TernaryErrorCodes.NonFiniteLoss].filter(
    (code) => code !== ErrorCodes.InternalError && code !== LSPErrorCodes.RequestCancelled,
  ),
);

// ---------------------------------------------------------------------------------------------
// Requests (client → server)

export interface TrainParams {
  /** Absolute path of the `*.tern.json` file. */
  configPath: string;
  /** Experiment name; may be omitted when the file holds one experiment. */
  experiment?: string;
  /** Root of run folders; default `runs` beside the config file. */
  runsDir?: string;
  /** Override of `train.epochs`. */
  epochs?: number;
  /** Continue this run folder from its last checkpoint. */
  resumeDir?: string;
  /** Train this point (0-based, in `ternary/sweepPlan`'s order) of the experiment's `sweep` instead of the experiment as written. */
  sweepIndex?: number;
  /** Where the run computes; default: the experiment's `engine`, else tfjs (docs/engines.md). */
  engine?: 'tfjs' | 'torch';
  /** Torch engine: device, processes per machine, machines, this machine's rank, node 0's host:port, torchrun --max-restarts, Python. */
  device?: 'cpu' | 'cuda';
  nprocPerNode?: number;
  nnodes?: number;
  nodeRank?: number;
  rdzvEndpoint?: string;
  maxRestarts?: number;
  python?: string;
  /** Token for `$/progress` reports of this run. */
  workDoneToken?: string | number;
}
export interface TrainResult {
  runDir: string;
  summary: RunSummary;
}
/**
 * Train an experiment; answers when the run ends (completed, cancelled or failed: the summary's
 * status says which). While another job runs, the request waits in a queue and the server sends
 * `ternary/queued` with its position. Cancel with `$/cancelRequest` or `ternary/cancel`.
 * Direction: client → server.
 */
export namespace TrainRequest {
  export const method = 'ternary/train';
  export const type = new RequestType<TrainParams, TrainResult, void>(method);
}

export interface EvaluateParams {
  /** A run folder or a `model.json`. */
  target: string;
  /** Config file giving the data (and the experiment when it holds several). */
  configPath: string;
  experiment?: string;
}
export interface EvaluateResult {
  loss: number;
  top1: number;
  top5: number;
  examples: number;
}
/** Evaluate a run's final model (or a model.json) on an experiment's test data. Direction: client → server. */
export namespace EvaluateRequest {
  export const method = 'ternary/evaluate';
  export const type = new RequestType<EvaluateParams, EvaluateResult, void>(method);
}

export interface TernarizeParams {
  /** A float tfjs LayersModel `model.json`. */
  modelPath: string;
  /** Output folder of the ternary twin. */
  outDir: string;
  thresholdFactor?: number;
  threshold?: 'fixed' | 'optimal';
  tex?: 1 | 2 | 4;
  method?: 'he2019' | 'twn';
  firstLast?: 'ternary' | 'float';
}
export interface StatsResult {
  layers: LayerStats[];
  summary: ModelSummary;
  histograms: WeightHistogram[];
}
/** Write the ternary twin of a float model; answers with its stats. Direction: client → server. */
/**
 * What `ternary/ternarize` wrote: `files` (model.json, weights.bin) with their sizes, relative to
 * `outDir`. They hold the float32 latent weights (for fine-tuning and export); the stats'
 * `summary.ternaryBytes` is what `ternary/export` packs them to (model.tern), not a file written here.
 */
export interface TernarizeResult extends StatsResult {
  outDir: string;
  files: { path: string; bytes: number }[];
}

export namespace TernarizeRequest {
  export const method = 'ternary/ternarize';
  export const type = new RequestType<TernarizeParams, TernarizeResult, void>(method);
}

export interface StatsParams {
  /** A `model.json` (float or ternary) or a run folder (its final model). */
  target: string;
}
/** Per-layer statistics of a model. Direction: client → server. */
export namespace StatsRequest {
  export const method = 'ternary/stats';
  export const type = new RequestType<StatsParams, StatsResult, void>(method);
}

export interface ExportParams {
  /** The run folder to export; or, instead, `modelPath`. */
  runDir?: string;
  /** A model that is not a run: a model.json (or its folder), model.tern or .onnx file; or, instead, `runDir`. */
  modelPath?: string;
  /** Output folder; default `<workspace>/ternary-export/<experiment>-<run-id>` for a run, `<workspace>/ternary-export/<model>` for a model. */
  outDir: string;
  /** Check the exported model files against our inference (default true). */
  parity?: boolean;
  /** Test images for the parity check (default 1000). */
  samples?: number;
  /** `int8`: also write model-int8.onnx with 8-bit activations calibrated on training images (a run only; default `float`). */
  activations?: 'float' | 'int8';
  /** Training images the 8-bit activations are calibrated on (default 256). */
  calibration?: number;
  /** LSP work-done progress token: the export's steps arrive as `$/progress` reports. */
  workDoneToken?: string | number;
}
export interface ExportResult {
  outDir: string;
  /** Written files, relative to outDir (model/…, model.onnx, model.tern, tfjs/…, metrics.csv, layers.csv, report.md). */
  files: string[];
  /** Sizes and parity of the exported model files (when the run has a final model). */
  model?: ModelExportSummary;
}
/**
 * Export a run (model as trained, model.onnx, model.tern, stock tfjs, metrics.csv, layers.csv,
 * report.md) or a model (model.onnx, model.tern, stock tfjs, report.md): exactly one of `runDir`
 * and `modelPath`. Queued (it runs the model). Direction: client → server.
 */
export namespace ExportRequest {
  export const method = 'ternary/export';
  export const type = new RequestType<ExportParams, ExportResult, void>(method);
}

export interface CancelParams {
  /** The run to stop; omitted: the job that is running now. */
  runId?: string;
  /** A queued (or running) job, by the `jobId` of its `ternary/queued` notification. */
  jobId?: string;
}
/** Stop the running job (within one batch) or drop a queued one. Direction: client → server. */
export namespace CancelRequest {
  export const method = 'ternary/cancel';
  export const type = new RequestType<CancelParams, { cancelled: boolean }, void>(method);
}

export interface ListRunsParams {
  /** Roots to scan (each holds `<experiment>/<run-id>/`). */
  runsDirs: string[];
}
export interface FollowRunsParams {
  /** Runs folders to watch (each holds `<experiment>/<run-id>/`); added to those of earlier calls. */
  runsDirs: string[];
}
/**
 * Follow the live runs of these runs folders: runs trained by processes this server did not start
 * (`tern train` in a terminal, another window's, one started before this server). A live run is a
 * run folder whose lock a live process holds (docs/architecture.md, The run folder); the folders
 * are watched from now on, so runs started later are found too. Each followed run is reported as
 * one this server trains (`ternary/runStarted`, `ternary/metrics`, …, `ternary/runEnded`), can be
 * stopped with `ternary/cancel` and its `runId`, and counts as the running job of the queue.
 * Answers with the run folders followed now. Direction: client → server.
 */
export namespace FollowRunsRequest {
  export const method = 'ternary/followRuns';
  export const type = new RequestType<FollowRunsParams, { following: string[] }, void>(method);
}

export interface RunInfo {
  runDir: string;
  runId: string;
  experiment: string;
  status: RunStatus;
  /** Epochs done and planned. */
  epoch: number;
  epochs: number;
  bestTop1?: number;
  startedAt?: string;
  /** The config file the run was started from (its config.json's `configPath`), when recorded. */
  configPath?: string;
  /** Torch-engine runs: the engine, its device and the number of processes (tfjs runs leave these out). */
  engine?: 'tfjs' | 'torch';
  device?: 'cpu' | 'cuda';
  worldSize?: number;
  /**
   * True when `ternary/train` with `resumeDir: runDir` can continue the run: it is `crashed`
   * (its process died) or `cancelled`, has a checkpoint, and has epochs left.
   */
  resumable?: boolean;
  /** A run of a sweep: its id and point (config.json's `sweep`). */
  sweep?: SweepTag;
  /** The user's note on the run (`note.txt` in its folder), when it has one. */
  note?: string;
}
export interface SweepPlanParams {
  configPath: string;
  experiment?: string;
  runsDir?: string;
}
/** One point of a sweep and what running the sweep does with it. */
export interface SweepPlanPoint {
  index: number;
  point: SweepPoint;
  /** `done`: a completed run has it; `resume`: a stopped run of it can continue; `train`: a new run. */
  action: 'done' | 'resume' | 'train';
  /** The run that has it (done, resume). */
  runDir?: string;
}
export interface SweepPlan {
  sweepId: string;
  experiment: string;
  points: SweepPlanPoint[];
}
/**
 * The points of an experiment's `sweep` and which of them its runs already have: running a sweep
 * trains the `train` points with `sweepIndex`, resumes the `resume` ones with `resumeDir`, and skips
 * the `done` ones. Reads files only. Direction: client → server.
 */
export namespace SweepPlanRequest {
  export const method = 'ternary/sweepPlan';
  export const type = new RequestType<SweepPlanParams, SweepPlan, void>(method);
}

/** The runs found on disk (running ones included). Direction: client → server. */
export namespace ListRunsRequest {
  export const method = 'ternary/listRuns';
  export const type = new RequestType<ListRunsParams, RunInfo[], void>(method);
}

export interface RunHistoryParams {
  runDir: string;
  /** Include histograms (they are the bulk); default false. */
  histograms?: boolean;
}
export interface RunHistory {
  config?: RunConfigRecord;
  metrics: MetricsRecord[];
  layers: LayersRecord[];
  histograms: HistogramsRecord[];
  /** summary.json as written: a run killed mid-run still says `running` there. */
  summary?: RunSummary;
  /** How the run stands now, as the run list says it: `crashed` when it says `running` but its writer is gone. */
  status: RunStatus;
}
/** Everything recorded in a run folder. Direction: client → server. */
export namespace RunHistoryRequest {
  export const method = 'ternary/runHistory';
  export const type = new RequestType<RunHistoryParams, RunHistory, void>(method);
}

export interface ValidateConfigParams {
  /** The `*.tern.json` file (messages name it; sibling configs are looked up next to it). */
  path: string;
  /** Its text as the editor holds it (unsaved edits included); omitted: read from disk. */
  text?: string;
}
/** One problem of a config: what, where (0-based LSP range and 1-based line:column) and how bad. */
export interface ConfigDiagnostic {
  /** `experiments[0].train.lr: must be >= 0.`, without the file and position. */
  message: string;
  property?: string;
  severity: 'error' | 'warning';
  /** The text is not JSON with comments (a JSON editor marks the same spot itself). */
  syntax?: true;
  line: number;
  column: number;
  range: { start: { line: number; character: number }; end: { line: number; character: number } };
}
/**
 * Checks config text with the loader's own validation (the JSON Schema plus the checks it cannot
 * express) and returns every problem, so an editor can show the messages `ternary/train` and
 * `tern train` would give before anything runs. Warnings: an experiment name another config of
 * the same folder uses (their runs go to separate folders). Direction: client → server.
 */
export namespace ValidateConfigRequest {
  export const method = 'ternary/validateConfig';
  export const type = new RequestType<ValidateConfigParams, { problems: ConfigDiagnostic[] }, void>(method);
}

// ---------------------------------------------------------------------------------------------
// Notifications (server → client)

export interface RunStartedParams {
  runId: string;
  runDir: string;
  experiment: string;
  configPath?: string;
  epochs: number;
  /** Epochs completed when it was announced: where a resumed or followed run stands (0 for a new run). */
  epoch: number;
  stepsPerEpoch: number;
  backend: string;
}
/** A run began (after its folder and config.json exist). Direction: server → client. */
export namespace RunStartedNotification {
  export const method = 'ternary/runStarted';
  export const type = new NotificationType<RunStartedParams>(method);
}

export interface MetricsParams {
  runId: string;
  /** The run's folder, as `ternary/runStarted` gave it: panels key runs by it. */
  runDir: string;
  records: MetricsRecord[];
}
/** Metrics of a run, throttled (at most `metricsRate` a second; epoch records always). Direction: server → client. */
export namespace MetricsNotification {
  export const method = 'ternary/metrics';
  export const type = new NotificationType<MetricsParams>(method);
}

export interface LayerStatsParams {
  runId: string;
  /** The run's folder, as `ternary/runStarted` gave it: panels key runs by it. */
  runDir: string;
  record: LayersRecord;
}
/** Per-layer stats at the end of an epoch. Direction: server → client. */
export namespace LayerStatsNotification {
  export const method = 'ternary/layerStats';
  export const type = new NotificationType<LayerStatsParams>(method);
}

export interface HistogramsParams {
  runId: string;
  /** The run's folder, as `ternary/runStarted` gave it: panels key runs by it. */
  runDir: string;
  record: HistogramsRecord;
}
/** Latent-weight histograms at the end of an epoch. Direction: server → client. */
export namespace HistogramsNotification {
  export const method = 'ternary/histograms';
  export const type = new NotificationType<HistogramsParams>(method);
}

export interface RunEndedParams {
  runId: string;
  runDir: string;
  experiment: string;
  status: Exclude<RunStatus, 'running'>;
  /** Why it failed or was cancelled. */
  reason?: string;
  summary?: RunSummary;
}
/** A run ended. Direction: server → client. */
export namespace RunEndedNotification {
  export const method = 'ternary/runEnded';
  export const type = new NotificationType<RunEndedParams>(method);
}

/** A train request waits behind others; position 1 = next. Direction: server → client. */
export interface QueuedParams {
  configPath: string;
  experiment?: string;
  position: number;
  jobId?: string;
}
export namespace QueuedNotification {
  export const method = 'ternary/queued';
  export const type = new NotificationType<QueuedParams>(method);
}

export interface ServerStatsParams {
  /** Run a full garbage collection first (only when the server runs with `node --expose-gc`). */
  gc?: boolean;
}
export interface ServerStats {
  /** Resident set size and V8 heap in use, bytes. */
  rss: number;
  heapUsed: number;
  /** `tf.memory()` of the server's tfjs engine. */
  numTensors: number;
  numBytes: number;
  /** Whether `gc` was honoured. */
  gcRan: boolean;
  /** The job running now and the number waiting. */
  running?: { jobId: string; kind: string; runId?: string };
  queued: number;
}
/** The server's memory and job queue (for leak checks and diagnostics). Direction: client → server. */
export namespace ServerStatsRequest {
  export const method = 'ternary/serverStats';
  export const type = new RequestType<ServerStatsParams, ServerStats, void>(method);
}

/** Client settings the server honours, sent in `initializationOptions`. */
export interface InitializationOptions {
  /** One of BACKEND_CHOICES (shared/backends.ts): `auto`, `tensorflow-gpu`, `tensorflow`, `onednn`, `wasm`, `cpu`. */
  backend?: string;
  /** Threads for the native and wasm backends; 0 = number of cores. */
  threads?: number;
  /** Max metrics notifications per second. */
  metricsRate?: number;
  /** Run below normal CPU priority (nice 10), so an editor on the same cores stays responsive. */
  lowPriority?: boolean;
}

/** All request and notification methods of this protocol. */
export const ternaryMethods = [
  TrainRequest.method,
  EvaluateRequest.method,
  TernarizeRequest.method,
  StatsRequest.method,
  ExportRequest.method,
  CancelRequest.method,
  ListRunsRequest.method,
  FollowRunsRequest.method,
  RunHistoryRequest.method,
  ServerStatsRequest.method,
  ValidateConfigRequest.method,
  SweepPlanRequest.method,
] as const;
