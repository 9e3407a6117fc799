/**
 * The torch engine's protocol: what the TypeScript side (server/engines/torch/) and the Python
 * ranks under torchrun (engines/torch/ternary_torch/) say to each other. Defined here once; the
 * Python twins are the dataclasses of engines/torch/ternary_torch/events.py and job.py.
 *
 *   TS → Python   the job file (TorchJob, JSON), then replies on the worker's stdin (EngineReply,
 *                 one JSON object per line)
 *   Python → TS   rank 0's messages on stdout (EngineMessage): one line each, ENGINE_LINE_PREFIX
 *                 then a JSON object with `v` = ENGINE_PROTOCOL_VERSION and a `type`
 *
 * Python computes and emits; the run lifecycle (server/runs/lifecycle.ts) writes every record.
 * Before Python saves the checkpoint of an epoch it waits for the `recorded` reply of that epoch,
 * so a checkpoint is never ahead of the records on disk. Every message is checked on receipt by
 * `parseEngineMessage`: a malformed or unknown one is an EngineMessageError naming it, never a cast.
 */
import type { ExperimentConfig } from './experimentConfig';
import type { BranchStats } from './layerStats';
import type { TernaryQuant } from './quant';
import type { MetricsRecord } from './runRecords';

export const ENGINE_PROTOCOL_VERSION = 3;
/** Marks a protocol line among whatever else a rank prints on stdout. */
export const ENGINE_LINE_PREFIX = '@tern ';

/** The job file (`<run>/engine/job.json`): everything Python needs, resolved by TypeScript. */
export interface TorchJob {
  v: typeof ENGINE_PROTOCOL_VERSION;
  runId: string;
  runDir: string;
  /** The initial model (a tfjs model.json made by server/models/, or converted from model.from). */
  initModel: string;
  device: 'cpu' | 'cuda';
  /** Written before the launcher's SIGTERM: the SIGTERM is a cancel, not torchrun tearing the group down. */
  cancelFile: string;
  /** Whether the model's last layer outputs probabilities (softmax) rather than logits. */
  outputsProbabilities: boolean;
  experiment: ExperimentConfig;
  /**
   * How each ternary layer of the initial model is ternarized, by layer name, every setting resolved
   * (the layer's own, as server/core/layers/ holds it): Python reads no quantization setting from
   * the model.json and assumes no default.
   */
  layerQuant: Record<string, TorchLayerQuant>;
  /** The rule of the int8 layers' input ranges (used when a layer has `inputQuant`). */
  activationRanges: TorchActivationRanges;
  /** Examples per evaluation batch (server/train/evaluate.ts evalBatchSize). */
  evalBatchSize: number;
  /**
   * Where rank 0 keeps its checkpoint (server/runs/checkpointSlots.ts): `file` in the slot folders
   * of `dir`, `slots` newest role first — a checkpoint is written into `slots[0]`, the one it
   * replaces kept as `slots[1]`, and a leftover `slots[2]` removed once both are on disk; a
   * resume loads the newest intact one of them.
   */
  checkpoints: { dir: string; file: string; slots: readonly string[] };
  /** Where the final model goes (the run's model/ folder). */
  modelDir: string;
  /**
   * The marker of temporary file and folder names (server/files/atomicFiles.ts TEMP_MARKER): what a
   * killed session leaves under such names in the run folder is removed when the run resumes.
   */
  tempMarker: string;
  /** The learning rate of each epoch (index 0 = epoch 1), from server/train/schedule.ts. */
  learningRates: number[];
  /** Bins of the per-epoch weight histograms. */
  histogramBins: number;
  /** About this many batch records per epoch (plus the last batch). */
  batchRecordsPerEpoch: number;
  /** experiment.data resolved for engines/torch/ternary_torch/data.py (server/engines/torch/dataJob.ts). */
  data: TorchDataJob;
}

/**
 * A ternary layer's quantization, resolved: with fixed thresholds branch k's Δ is
 * `factors[k]`·max|W| (he2019) or `factors[k]`·mean|W| (TWN) — server/core/quantizer.ts deltaFactors,
 * so the engine holds no factor of its own; `factors` has `tex` entries either way.
 */
export type TorchLayerQuant = Pick<TernaryQuant, 'method' | 'threshold' | 'tex'> & {
  factors: number[];
  /** `int8`: the layer fake-quantizes its input with its `input_range` weight (docs/method.md, 8-bit activations); absent: float. */
  inputQuant?: 'int8';
};

/** How int8 layers observe their input ranges (server/core/activationQuant.ts): the engine restates none of it. */
export interface TorchActivationRanges {
  /** Training epochs, from the first, during which the ranges move; frozen after. */
  observeEpochs: number;
  /** r ← momentum·r + (1 − momentum)·(batch min, batch max). */
  momentum: number;
}

/**
 * What the engine measures of one ternary layer's weights after an epoch: each REL branch's factor,
 * Δ, α and counts, and ‖W − Σ_k T_k‖ / ‖W‖. The lifecycle side makes the layers.jsonl record of
 * them with what the model fixes (type, shape, params, bits, threshold, sparsity, the model's
 * sizes: server/engines/torch/layersRecord.ts), so those rules stay in server/stats/.
 */
export interface EngineLayerValues {
  layer: string;
  branches: Omit<BranchStats, 'sparsity'>[];
  relError: number;
  /** An int8 layer's input range [min, max] after the epoch (docs/method.md, 8-bit activations); absent for float inputs. */
  inputRange?: [number, number];
}

/**
 * One conv/dense layer's weight histogram as the engine bins it, with its first branch's Δ, α and
 * counts (null for a float layer); the record is made of it by server/stats/histograms.ts histogramOf.
 */
export interface EngineHistogram {
  layer: string;
  min: number;
  max: number;
  bins: number[];
  first: Pick<BranchStats, 'delta' | 'alpha' | 'counts'> | null;
}

/** The data of a job: what data.py needs, every rule of server/data/ already applied. */
export interface TorchDataJob {
  format: ExperimentConfig['data']['format'];
  /** data.path, absolute. */
  path: string;
  limitTrain?: number;
  limitTest?: number;
  mean: number[];
  std: number[];
  /** Transform names in order (server/data/augment.ts's Pipeline): random when training, their deterministic twins in `eval`. */
  transforms: { train: string[]; eval: string[] };
  /** Image folders without rrc / resize…center…: every image is resized to [height, width] first. */
  resizeTo?: [number, number];
  /** Image folders: the JSON listing file of each split ({ dir, classNames, files relative to dir, labels }). */
  listings?: { train: string; test: string };
}

/** Where a (re)started worker group continues from: its checkpoint's state, or nothing for a fresh run. */
export interface EngineResumePoint {
  /** Epochs completed. */
  epoch: number;
  /** Global step after them. */
  step: number;
  /** Training seconds before this session. */
  elapsedSeconds: number;
  /** The epoch records up to `epoch`, as they were when the checkpoint was saved. */
  epochs: MetricsRecord[];
}

/** How the engine's training ended (failures it could not report arrive as `fatal` or as a dead process). */
export type EngineEnd =
  | { status: 'completed' }
  | { status: 'cancelled'; epoch: number }
  | { status: 'nonFinite'; epoch: number; batch: number; step: number; loss: 'NaN' | 'Infinity' | '-Infinity' };

export type EngineMessage =
  /** Rank 0 is set up: steps of an epoch, the resume point, torchrun's restart count. */
  | { v: typeof ENGINE_PROTOCOL_VERSION; type: 'started'; stepsPerEpoch: number; restart: number; resumed: EngineResumePoint | null }
  /** A running batch record of metrics.jsonl. */
  | { v: typeof ENGINE_PROTOCOL_VERSION; type: 'batch'; record: MetricsRecord }
  /** An epoch's records: its metrics line, the values of its ternary layers, its histograms. */
  | {
      v: typeof ENGINE_PROTOCOL_VERSION;
      type: 'epoch';
      metrics: MetricsRecord;
      layers: { epoch: number; layers: EngineLayerValues[] };
      histograms: { epoch: number; histograms: EngineHistogram[] };
    }
  /** checkpoints/last now holds the checkpoint of `epoch`. */
  | { v: typeof ENGINE_PROTOCOL_VERSION; type: 'checkpoint'; epoch: number }
  | { v: typeof ENGINE_PROTOCOL_VERSION; type: 'log'; level: 'info' | 'warn' | 'error'; message: string }
  /** Training ended; with `completed`, model/ holds the final weights. */
  | { v: typeof ENGINE_PROTOCOL_VERSION; type: 'ended'; end: EngineEnd }
  /** A problem the user must fix (unsupported layer, CUDA missing): the run's reason, no traceback. */
  | { v: typeof ENGINE_PROTOCOL_VERSION; type: 'fatal'; rank: number; message: string };

export type EngineMessageType = EngineMessage['type'];

/** TS → Python: the records of `epoch` are on disk (for the worker group of torchrun restart `restart`). */
export interface EngineReply {
  v: typeof ENGINE_PROTOCOL_VERSION;
  type: 'recorded';
  epoch: number;
  restart: number;
}

/** A message that breaks the protocol; the message names what is wrong and where. */
export class EngineMessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EngineMessageError';
  }
}

// ---- checks

type Check = (value: unknown, at: string) => void;

function fail(at: string, what: string, value: unknown): never {
  const shown = JSON.stringify(value);
  throw new EngineMessageError(`${at} ${what} (got ${shown === undefined ? 'nothing' : shown.slice(0, 80)})`);
}

const num: Check = (v, at) => {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(at, 'must be a finite number', v);
};
const int: Check = (v, at) => {
  if (!Number.isInteger(v) || (v as number) < 0) fail(at, 'must be an integer ≥ 0', v);
};
const str: Check = (v, at) => {
  if (typeof v !== 'string') fail(at, 'must be a string', v);
};
const oneOf =
  (...values: readonly unknown[]): Check =>
  (v, at) => {
    if (!values.includes(v)) fail(at, `must be one of ${values.map((x) => JSON.stringify(x)).join(', ')}`, v);
  };
const optional =
  (check: Check): Check =>
  (v, at) => {
    if (v !== undefined) check(v, at);
  };
const nullable =
  (check: Check): Check =>
  (v, at) => {
    if (v !== null) check(v, at);
  };
const list =
  (check: Check): Check =>
  (v, at) => {
    if (!Array.isArray(v)) fail(at, 'must be a list', v);
    v.forEach((x, i) => check(x, `${at}[${i}]`));
  };
const object =
  (fields: Record<string, Check>): Check =>
  (v, at) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(at, 'must be an object', v);
    for (const [name, check] of Object.entries(fields)) check((v as Record<string, unknown>)[name], `${at}.${name}`);
  };

const counts = object({ neg: int, zero: int, pos: int });
const metricsRecord = object({
  kind: oneOf('batch', 'epoch'),
  epoch: int,
  step: int,
  progress: optional(num),
  lr: num,
  loss: num,
  top1: num,
  top5: optional(num),
  valLoss: optional(num),
  valTop1: optional(num),
  valTop5: optional(num),
  imgPerSec: optional(num),
  time: num,
});
const layerValues = object({
  epoch: int,
  layers: list(
    object({
      layer: str,
      branches: list(object({ factor: num, delta: num, alpha: num, counts })),
      relError: num,
      inputRange: optional(list(num)),
    }),
  ),
});
const histogramsRecord = object({
  epoch: int,
  histograms: list(
    object({ layer: str, min: num, max: num, bins: list(int), first: nullable(object({ delta: num, alpha: num, counts })) }),
  ),
});
const resumePoint = object({ epoch: int, step: int, elapsedSeconds: num, epochs: list(metricsRecord) });
const end: Check = (v, at) => {
  object({ status: oneOf('completed', 'cancelled', 'nonFinite') })(v, at);
  const e = v as EngineEnd;
  if (e.status === 'cancelled') object({ epoch: int })(v, at);
  if (e.status === 'nonFinite') object({ epoch: int, batch: int, step: int, loss: oneOf('NaN', 'Infinity', '-Infinity') })(v, at);
};

const MESSAGE_FIELDS: Record<EngineMessageType, Record<string, Check>> = {
  started: {
    stepsPerEpoch: int,
    restart: int,
    resumed: (v, at) => {
      if (v !== null) resumePoint(v, at);
    },
  },
  batch: { record: metricsRecord },
  epoch: { metrics: metricsRecord, layers: layerValues, histograms: histogramsRecord },
  checkpoint: { epoch: int },
  log: { level: oneOf('info', 'warn', 'error'), message: str },
  ended: { end },
  fatal: { rank: int, message: str },
};

/** The message of one protocol line (the text after ENGINE_LINE_PREFIX), checked; throws EngineMessageError. */
export function parseEngineMessage(text: string): EngineMessage {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new EngineMessageError(`an engine message is not JSON (${(err as Error).message}): ${text.slice(0, 120)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new EngineMessageError(`an engine message is not a JSON object: ${text.slice(0, 120)}`);
  const { v, type } = value as { v?: unknown; type?: unknown };
  const name = typeof type === 'string' ? `'${type}'` : 'without a type';
  if (v !== ENGINE_PROTOCOL_VERSION)
    throw new EngineMessageError(
      `the engine message ${name} is of protocol version ${JSON.stringify(v)}, this studio speaks ${ENGINE_PROTOCOL_VERSION}: the engine's Python files and the studio do not match (reinstall the extension).`,
    );
  if (typeof type !== 'string' || !Object.hasOwn(MESSAGE_FIELDS, type))
    throw new EngineMessageError(`unknown engine message ${name}; expected one of ${Object.keys(MESSAGE_FIELDS).join(', ')}`);
  try {
    object(MESSAGE_FIELDS[type as EngineMessageType])(value, type);
  } catch (err) {
    if (err instanceof EngineMessageError) throw new EngineMessageError(`malformed engine message '${type}': ${err.message}`);
    throw err;
  }
  return value as EngineMessage;
}

/** The reply line for `parseEngineMessage`'s peer (engines/torch/ternary_torch/events.py reads it). */
export function engineReplyLine(reply: Omit<EngineReply, 'v'>): string {
  return JSON.stringify({ v: ENGINE_PROTOCOL_VERSION, ...reply }) + '\n';
}
