/**
 * Checks request params before any work starts, so a client's mistake comes back as an
 * `InvalidParams` error that names the method and the field instead of a crash deep in a job.
 * Paths may be relative: they are resolved against the server's working directory.
 */
import { isAbsolute, resolve } from 'node:path';
import { ErrorCodes, ResponseError } from 'vscode-languageserver/node';
import { parseTernaryQuant } from '../../shared/quant';
import { isUserError } from '../../shared/userError';
import type {
  CancelParams,
  EvaluateParams,
  ExportParams,
  InitializationOptions,
  ListRunsParams,
  FollowRunsParams,
  RunHistoryParams,
  StatsParams,
  TernarizeParams,
  TrainParams,
  ValidateConfigParams,
  SweepPlanParams,
} from '../../shared/protocol';

/** Any request may carry an LSP work-done progress token. */
export interface WithProgress {
  workDoneToken?: string | number;
}

type FieldType =
  | 'text'
  | 'string'
  | 'path'
  | 'paths'
  | 'boolean'
  | 'positiveInteger'
  | 'nonNegativeInteger'
  | 'positiveNumber'
  | 'progressToken'
  | 'quant';
interface Field {
  type: FieldType;
  required?: boolean;
  oneOf?: readonly unknown[];
  /** Shown in the error: what the field is for. */
  hint: string;
}
type Spec = Record<string, Field>;

function invalid(method: string, message: string, data?: { property: string }): ResponseError<unknown> {
  return new ResponseError(ErrorCodes.InvalidParams, `${method}: ${message}`, data);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 60 ? value.slice(0, 60) + '…' : value)}`;
  if (typeof value === 'object') return 'an object';
  return typeof value === 'number' || typeof value === 'boolean' ? `${typeof value} ${value}` : typeof value;
}

function check(field: Field, value: unknown): unknown {
  switch (field.type) {
    case 'text':
      return typeof value === 'string' ? value : undefined;
    case 'string':
      return typeof value === 'string' && value.length > 0 ? value : undefined;
    case 'path':
      return typeof value === 'string' && value.length > 0 ? (isAbsolute(value) ? value : resolve(value)) : undefined;
    case 'paths':
      return Array.isArray(value) && value.every((v) => typeof v === 'string' && v.length > 0)
        ? value.map((v: string) => resolve(v))
        : undefined;
    case 'boolean':
      return typeof value === 'boolean' ? value : undefined;
    case 'positiveInteger':
      return Number.isInteger(value) && (value as number) > 0 ? value : undefined;
    case 'nonNegativeInteger':
      return Number.isInteger(value) && (value as number) >= 0 ? value : undefined;
    case 'positiveNumber':
      return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined;
    case 'progressToken':
      return typeof value === 'string' || Number.isInteger(value) ? value : undefined;
    case 'quant':
      // Checked as a whole by parseTernaryQuant (shared/quant.ts), as the CLI and configs are.
      return value;
  }
}

const expected: Record<FieldType, string> = {
  text: 'a string',
  string: 'a non-empty string',
  path: 'a path (string)',
  paths: 'an array of paths (strings)',
  boolean: 'true or false',
  positiveInteger: 'a positive integer',
  nonNegativeInteger: 'an integer ≥ 0',
  positiveNumber: 'a positive number',
  progressToken: 'a string or an integer',
  quant: 'a quantization setting',
};

/** Validates `raw` against `spec`; unknown fields are an error too (they are usually typos). */
function validate<T>(method: string, raw: unknown, spec: Spec): T {
  if (raw === undefined || raw === null) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw invalid(method, `params must be an object, got ${describe(raw)}.`);
  const input = raw as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(input)) {
    if (!(key in spec))
      throw invalid(
        method,
        `unknown field ${JSON.stringify(key.length > 60 ? key.slice(0, 60) + '…' : key)}; the fields are ${Object.keys(spec).join(', ')}.`,
      );
  }
  for (const [key, field] of Object.entries(spec)) {
    const value = input[key];
    if (value === undefined) {
      if (field.required) throw invalid(method, `"${key}" is missing: ${field.hint}.`);
      continue;
    }
    const ok = field.oneOf ? (field.oneOf.includes(value) ? value : undefined) : check(field, value);
    if (ok === undefined) {
      const what = field.oneOf ? `one of ${field.oneOf.map((v) => JSON.stringify(v)).join(', ')}` : expected[field.type];
      throw invalid(method, `"${key}" must be ${what} (${field.hint}), got ${describe(value)}.`);
    }
    out[key] = ok;
  }
  return out as T;
}

export const validateTrainParams = (raw: unknown) =>
  validate<TrainParams>('ternary/train', raw, {
    configPath: { type: 'path', required: true, hint: 'the *.tern.json file' },
    experiment: { type: 'string', hint: 'the experiment name in that file' },
    runsDir: { type: 'path', hint: 'root of the run folders' },
    epochs: { type: 'positiveInteger', hint: 'override of train.epochs' },
    resumeDir: { type: 'path', hint: 'a run folder to continue' },
    sweepIndex: { type: 'nonNegativeInteger', hint: "a point of the experiment's sweep, as ternary/sweepPlan numbers them" },
    engine: { type: 'string', oneOf: ['tfjs', 'torch'], hint: "where the run computes; default: the experiment's engine" },
    device: { type: 'string', oneOf: ['cpu', 'cuda'], hint: 'torch engine device' },
    nprocPerNode: { type: 'positiveInteger', hint: 'torch engine processes on this machine' },
    nnodes: { type: 'positiveInteger', hint: 'torch engine machines' },
    nodeRank: { type: 'nonNegativeInteger', hint: "this machine's torch node rank" },
    rdzvEndpoint: { type: 'string', hint: "node 0's host:port" },
    maxRestarts: { type: 'nonNegativeInteger', hint: 'torchrun --max-restarts' },
    python: { type: 'path', hint: 'the Python with PyTorch' },
    workDoneToken: { type: 'progressToken', hint: 'token for $/progress' },
  });

export const validateEvaluateParams = (raw: unknown) =>
  validate<EvaluateParams & WithProgress>('ternary/evaluate', raw, {
    target: { type: 'path', required: true, hint: 'a run folder or a model.json' },
    configPath: { type: 'path', required: true, hint: 'the *.tern.json file giving the data' },
    experiment: { type: 'string', hint: 'the experiment name in that file' },
    workDoneToken: { type: 'progressToken', hint: 'token for $/progress' },
  });

export function validateTernarizeParams(raw: unknown): TernarizeParams & WithProgress {
  const method = 'ternary/ternarize';
  const params = validate<TernarizeParams & WithProgress>(method, raw, {
    modelPath: { type: 'path', required: true, hint: 'a float tfjs model.json' },
    outDir: { type: 'path', required: true, hint: 'output folder of the ternary model' },
    thresholdFactor: { type: 'quant', hint: 'f in Δ = f·max|W|' },
    threshold: { type: 'quant', hint: 'fixed or optimal thresholds' },
    tex: { type: 'quant', hint: 'residual expansion branches' },
    method: { type: 'quant', hint: 'ternarization method' },
    firstLast: { type: 'quant', hint: 'how to treat the first and last layers' },
    workDoneToken: { type: 'progressToken', hint: 'token for $/progress' },
  });
  try {
    parseTernaryQuant(params);
  } catch (err) {
    if (!isUserError(err)) throw err;
    throw invalid(method, err.message, err.data.property === undefined ? undefined : { property: err.data.property });
  }
  return params;
}

export const validateStatsParams = (raw: unknown) =>
  validate<StatsParams & WithProgress>('ternary/stats', raw, {
    target: { type: 'path', required: true, hint: 'a model.json or a run folder' },
    workDoneToken: { type: 'progressToken', hint: 'token for $/progress' },
  });

export const validateExportParams = (raw: unknown) => {
  const params = validate<ExportParams & WithProgress>('ternary/export', raw, {
    runDir: { type: 'path', hint: 'the run folder to export (or modelPath)' },
    modelPath: { type: 'path', hint: 'a model.json, model.tern or .onnx file to export (or runDir)' },
    outDir: { type: 'path', required: true, hint: 'the output folder' },
    parity: { type: 'boolean', hint: 'check the exported files against our inference (default true)' },
    samples: { type: 'positiveInteger', hint: 'test images for the parity check (default 1000)' },
    activations: { type: 'string', oneOf: ['float', 'int8'], hint: 'int8 also writes model-int8.onnx (default float)' },
    calibration: { type: 'positiveInteger', hint: 'training images for the int8 calibration (default 256)' },
    workDoneToken: { type: 'progressToken', hint: 'token for $/progress' },
  });
  if ((params.runDir === undefined) === (params.modelPath === undefined))
    throw invalid(
      'ternary/export',
      'give exactly one of "runDir" (a run folder) and "modelPath" (a model.json, model.tern or .onnx file).',
    );
  return params;
};

export const validateCancelParams = (raw: unknown) =>
  validate<CancelParams & { jobId?: string }>('ternary/cancel', raw, {
    runId: { type: 'string', hint: 'the run to stop; omit for the running job' },
    jobId: { type: 'string', hint: 'a queued job (from ternary/queued)' },
    workDoneToken: { type: 'progressToken', hint: 'token for $/progress' },
  });

export const validateListRunsParams = (raw: unknown) =>
  validate<ListRunsParams>('ternary/listRuns', raw, {
    runsDirs: { type: 'paths', required: true, hint: 'roots holding <experiment>/<run-id>/ folders' },
    workDoneToken: { type: 'progressToken', hint: 'token for $/progress' },
  });

export const validateFollowRunsParams = (raw: unknown) =>
  validate<FollowRunsParams>('ternary/followRuns', raw, {
    runsDirs: { type: 'paths', required: true, hint: 'roots holding <experiment>/<run-id>/ folders' },
  });

export const validateRunHistoryParams = (raw: unknown) =>
  validate<RunHistoryParams>('ternary/runHistory', raw, {
    runDir: { type: 'path', required: true, hint: 'a run folder' },
    histograms: { type: 'boolean', hint: 'include the histograms' },
    workDoneToken: { type: 'progressToken', hint: 'token for $/progress' },
  });

export const validateSweepPlanParams = (raw: unknown) =>
  validate<SweepPlanParams>('ternary/sweepPlan', raw, {
    configPath: { type: 'path', required: true, hint: 'the *.tern.json file' },
    experiment: { type: 'string', hint: 'the experiment name in that file' },
    runsDir: { type: 'path', hint: 'root of the run folders' },
    workDoneToken: { type: 'progressToken', hint: 'token for $/progress' },
  });

export const validateValidateConfigParams = (raw: unknown) =>
  validate<ValidateConfigParams>('ternary/validateConfig', raw, {
    path: { type: 'path', required: true, hint: 'the *.tern.json file' },
    text: { type: 'text', hint: 'its text as the editor holds it; omit to read the file' },
    workDoneToken: { type: 'progressToken', hint: 'token for $/progress' },
  });

/** `initializationOptions`; unknown keys are ignored here since editors may send their whole settings object. */
export function validateInitializationOptions(raw: unknown): InitializationOptions {
  if (raw === undefined || raw === null) return {};
  const spec: Spec = {
    backend: { type: 'string', hint: 'the compute backend: auto, onednn, wasm, cpu or tensorflow' },
    threads: { type: 'nonNegativeInteger', hint: 'threads of the native and wasm backends; 0 = all cores' },
    metricsRate: { type: 'positiveNumber', hint: 'max metrics notifications per second' },
    lowPriority: { type: 'boolean', hint: 'true to run below normal CPU priority' },
  };
  if (typeof raw !== 'object' || Array.isArray(raw))
    throw invalid('initialize', `initializationOptions must be an object, got ${describe(raw)}.`);
  const known = Object.fromEntries(Object.entries(raw as Record<string, unknown>).filter(([k]) => k in spec));
  return validate<InitializationOptions>('initialize', known, spec);
}
