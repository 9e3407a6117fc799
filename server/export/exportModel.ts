/**
 * Writes a model in the formats that leave the studio (docs/formats.md) and checks them:
 *   model.onnx   standard ONNX with the ternary codes (server/formats/onnx/export/toOnnx.ts)
 *   model.tern   the packed format (server/formats/tern/ternFile.ts)
 *   tfjs/        a stock tfjs LayersModel (server/formats/tfjs/stockTfjs.ts)
 *   model-int8.onnx  with 8-bit activations: the QDQ model ONNX Runtime runs with integer kernels,
 *                calibrated on training images (server/export/int8Activations.ts)
 * Parity: each exported file is loaded back by an independent path — model.onnx in ONNX Runtime,
 * tfjs/ through stock loadLayersModel, model.tern through our loader — and run on the same
 * inputs as our own inference; a relative difference above PARITY_TOLERANCE is an error.
 */
import { formatBytes, formatCount, formatNumber, formatPercent, formatQuantity } from '../../shared/format';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadLayersModel, type LayersModel } from '@tensorflow/tfjs-layers';
import { writeFileAtomic } from '../files/atomicFiles';
import { prepareOutputFolder } from './outputFolder';
import { exportOnnx, type OnnxCodes } from '../formats/onnx/export/toOnnx';
import { loadOrt, nchwToNhwc, openSession } from '../formats/onnx/runtime';
import { packModel, ternaryValues, type PackedModel } from '../formats/packedModel';
import {
  calibrate,
  fakeQuantPredict,
  Int8ExportError,
  trainedActivations,
  type CalibrationImages,
  type ExportActivations,
} from './int8Activations';
import { inputRanges } from '../core/activationQuant';
import { withFloatActivations } from '../models/convert';
import { sideBySideLatency, type LatencyTarget } from './latency';
import { stockTfjsModel } from '../formats/tfjs/stockTfjs';
import { encodeTern, loadTernModel, TERN_FILE, ternSize } from '../formats/tern/ternFile';
import type { AccuracyResult, ExportedFile, ModelExportSummary, ParityResult } from '../../shared/exportSummary';
import { UserError } from '../../shared/userError';

/** Largest accepted max|Δ logit| / max|logit| between an exported model and our inference. */
export const PARITY_TOLERANCE = 1e-4;

export const ONNX_FILE = 'model.onnx';
/** The QDQ model with 8-bit activations (docs/formats.md), written with `activations: 'int8'`. */
export const INT8_ONNX_FILE = 'model-int8.onnx';
/**
 * The int8 file's parity criterion against our fake-quantized inference: top-1 agreement at least
 * this, and max |Δ logit| at most INT8_LOGIT_STEPS steps of an 8-bit grid over the calibrated logit
 * range. Why steps and not 1e-4: ONNX Runtime adds the bias on the int32 grid (input scale × weight
 * scale, up to half a step off) and sums in another order, so a quantized value near a rounding
 * boundary can land one step away, and such steps add up through the layers.
 */
export const INT8_MIN_AGREEMENT = 0.995;
export const INT8_LOGIT_STEPS = 8;
/** Rounds of the side-by-side latency measurement in the report. */
export const REPORT_LATENCY_ROUNDS = 30;
export const STOCK_DIR = 'tfjs';
/** What an export folder is for, in file-system errors. */
export const EXPORT_FOLDER_ROLE = 'the export (tern export --out)';

/** Inputs for the parity check: NHWC float32 images, already normalized as the model expects. */
export interface ParityInputs {
  x: Float32Array;
  n: number;
  /** Says where they come from, for the report ("first 1000 test images of …", "random"). */
  source: string;
  /** Their classes, when they are labelled test images: the report then gives each model's accuracy. */
  labels?: Int32Array;
}

export type { ExportedFile, ModelExportSummary, ParityResult };

export interface ModelExportOptions {
  /** Run the parity check (default true). */
  parity?: boolean;
  /** Inputs for parity; random ones (seeded) when omitted. */
  inputs?: ParityInputs;
  /** Random inputs when there is no data (default 64). */
  randomSamples?: number;
  onnxCodes?: OnnxCodes;
  /** `int8`: also write model-int8.onnx, with trained ranges or calibrated on `calibration` (default float). */
  activations?: ExportActivations;
  /**
   * Training images for the int8 calibration, or how to read them when they are needed: always
   * for a model trained with float activations; for one trained with int8 activations only for the
   * tensors training did not observe, or for all of them with `int8Ranges: 'calibrated'`.
   */
  calibration?: CalibrationImages | (() => Promise<CalibrationImages>);
  /** A model trained with int8 activations: use its `trained` ranges (default) or `calibrated` ones instead. */
  int8Ranges?: 'trained' | 'calibrated';
  /** Rounds of the latency measurement (default REPORT_LATENCY_ROUNDS; 0 skips it). */
  latencyRounds?: number;
  metadata?: Record<string, unknown>;
  onProgress?: (message: string) => void;
}

/** An exported model that does not compute what ours does: the comparison, and what to do. */
export class ParityError extends UserError {
  constructor(
    message: string,
    readonly summary: ModelExportSummary,
  ) {
    // The figures travel in the error's data, so callers read them by code, not by class.
    super('exportFailed', message, { model: summary });
    this.name = 'ParityError';
  }
}

/** Output shapes of every OptionAShortcut's input, which the stock tfjs model needs. */
function shortcutInputShapes(model: LayersModel): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  for (const layer of model.layers) {
    if (layer.getClassName() === 'OptionAShortcut') {
      const input = layer.input as { shape: (number | null)[] };
      shapes.set(layer.name, input.shape.slice(1) as number[]);
    }
  }
  return shapes;
}

/** Seeded standard-normal inputs for a model (when there is no data). */
export function randomInputs(model: LayersModel, n: number, seed = 20191): ParityInputs {
  const shape = [n, ...(model.inputs[0].shape.slice(1) as number[])];
  const x = tf.tidy(() => tf.randomNormal(shape, 0, 1, 'float32', seed).dataSync() as Float32Array);
  return { x: Float32Array.from(x), n, source: `${n} random inputs (normal, seed ${seed}; no test data)` };
}

/** Runs `predict` on the inputs in batches and returns the logits [n, classes]. */
async function logitsOf(
  inputs: ParityInputs,
  inputShape: number[],
  predict: (x: Float32Array, n: number) => Promise<Float32Array>,
): Promise<Float32Array> {
  const size = inputShape.reduce((a, b) => a * b, 1);
  const parts: Float32Array[] = [];
  const batch = 100;
  for (let i = 0; i < inputs.n; i += batch) {
    const n = Math.min(batch, inputs.n - i);
    parts.push(await predict(inputs.x.subarray(i * size, (i + n) * size), n));
  }
  const total = parts.reduce((a, p) => a + p.length, 0);
  const out = new Float32Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function tfjsPredict(model: LayersModel, inputShape: number[]) {
  return async (x: Float32Array, n: number): Promise<Float32Array> => {
    const y = tf.tidy(() => (model.predict(tf.tensor(x, [n, ...inputShape])) as tf.Tensor).dataSync() as Float32Array);
    return Float32Array.from(y);
  };
}

/** max|Δ|, max|Δ| / max|ref| and top-1 agreement of `got` against `ref` ([n, classes]). */
export function compareLogits(
  ref: Float32Array,
  got: Float32Array,
  n: number,
): { maxAbsDiff: number; maxRelDiff: number; top1Agreement: number } {
  if (ref.length !== got.length) return { maxAbsDiff: Infinity, maxRelDiff: Infinity, top1Agreement: 0 };
  const classes = ref.length / n;
  let maxAbsDiff = 0;
  let maxRef = 0;
  let agree = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(ref[i] - got[i]);
    // NaN anywhere is a failure, not a zero difference.
    maxAbsDiff = Number.isNaN(d) ? Infinity : Math.max(maxAbsDiff, d);
    maxRef = Math.max(maxRef, Math.abs(ref[i]));
  }
  for (let s = 0; s < n; s++) {
    let a = 0;
    let b = 0;
    for (let c = 1; c < classes; c++) {
      if (ref[s * classes + c] > ref[s * classes + a]) a = c;
      if (got[s * classes + c] > got[s * classes + b]) b = c;
    }
    if (a === b) agree++;
  }
  return { maxAbsDiff, maxRelDiff: maxRef > 0 ? maxAbsDiff / maxRef : maxAbsDiff, top1Agreement: n ? agree / n : 1 };
}

/** Loads the stock tfjs model the way a web app would: tfjs-layers' own loader, the files' bytes. */
async function loadStock(dir: string): Promise<LayersModel> {
  const modelJson = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as tf.io.ModelJSON;
  const weights = await readFile(join(dir, 'weights.bin'));
  return loadLayersModel(
    tf.io.fromMemory({
      modelTopology: modelJson.modelTopology,
      weightSpecs: modelJson.weightsManifest[0].weights,
      weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer,
    }),
  );
}

/**
 * Writes model.onnx, model.tern and tfjs/ for `model` into `outDir`, then checks parity. A model
 * trained with 8-bit activations is written as its float-activation twin (docs/formats.md), its
 * trained ranges going to model-int8.onnx.
 */
export async function exportModelFiles(
  trained: LayersModel,
  outDir: string,
  options: ModelExportOptions = {},
): Promise<ModelExportSummary> {
  const ranges = inputRanges(trained);
  if (ranges.size === 0) return exportWith(trained, undefined, outDir, options);
  const model = await withFloatActivations(trained);
  try {
    return await exportWith(model, ranges, outDir, options);
  } finally {
    model.dispose();
  }
}

/** The 8-bit activations of `model` (its float-activation form) for model-int8.onnx. */
async function int8ActivationsOf(
  model: LayersModel,
  packed: PackedModel,
  ranges: Map<string, { min: number; max: number }> | undefined,
  options: ModelExportOptions,
): Promise<ReturnType<typeof calibrate>> {
  const images = async () => (typeof options.calibration === 'function' ? await options.calibration() : options.calibration);
  if (ranges && options.int8Ranges !== 'calibrated') {
    return trainedActivations(model, packed, ranges, images);
  }
  const calibration = await images();
  if (!calibration) {
    throw new Int8ExportError(
      '8-bit activations (--activations int8) are calibrated on training images, and this model has no data: ' +
        "export the run folder that trained it (its experiment's data), or export with float activations.",
    );
  }
  options.onProgress?.(`calibrating 8-bit activations on ${calibration.n} training images`);
  return calibrate(model, packed, calibration);
}

async function exportWith(
  model: LayersModel,
  ranges: Map<string, { min: number; max: number }> | undefined,
  outDir: string,
  options: ModelExportOptions,
): Promise<ModelExportSummary> {
  const progress = options.onProgress ?? (() => undefined);
  for (const dir of [outDir, join(outDir, STOCK_DIR)]) await prepareOutputFolder(dir, EXPORT_FOLDER_ROLE);
  progress('packing the ternary weights');
  const packed: PackedModel = packModel(model);
  const ternaryLayers = packed.weights.filter((w) => w.kind === 'ternary').length;

  progress('writing model.onnx');
  const onnx = exportOnnx(model, packed, {
    codes: options.onnxCodes,
    docString: 'Exported by Ternary Studio: input NCHW float32, normalized as in training; output: logits.',
  });
  await writeFileAtomic(join(outDir, ONNX_FILE), onnx.bytes);

  let int8: ReturnType<typeof calibrate> | undefined;
  let int8Bytes: Uint8Array | undefined;
  if (options.activations === 'int8') {
    int8 = await int8ActivationsOf(model, packed, ranges, options);
    progress(`writing ${INT8_ONNX_FILE}`);
    int8Bytes = exportOnnx(model, packed, {
      activations: int8.quant,
      docString: 'Exported by Ternary Studio with 8-bit activations (QDQ): input NCHW float32, normalized as in training; output: logits.',
    }).bytes;
    await writeFileAtomic(join(outDir, INT8_ONNX_FILE), int8Bytes);
  }

  progress('writing model.tern');
  const ternBytes = encodeTern(packed, { metadata: options.metadata });
  await writeFileAtomic(join(outDir, TERN_FILE), ternBytes);

  progress('writing the stock tfjs model');
  const stock = stockTfjsModel(packed, shortcutInputShapes(model));
  await writeFileAtomic(join(outDir, STOCK_DIR, 'weights.bin'), stock.weights);
  await writeFileAtomic(join(outDir, STOCK_DIR, 'model.json'), JSON.stringify(stock.modelJson));

  const size = async (p: string) => (await stat(join(outDir, p))).size;
  const files: ExportedFile[] = [
    {
      path: ONNX_FILE,
      bytes: onnx.bytes.byteLength,
      what: `ONNX, opset ${onnx.opset}${onnx.codeTypes.length ? `, ternary codes as ${onnx.codeTypes.join('/')}` : ''}`,
    },
    ...(int8Bytes
      ? [
          {
            path: INT8_ONNX_FILE,
            bytes: int8Bytes.byteLength,
            what: 'ONNX (QDQ), int8 ternary weights and uint8 activations, for ONNX Runtime integer kernels',
          },
        ]
      : []),
    { path: TERN_FILE, bytes: ternBytes.byteLength, what: 'packed ternary model (Ternary Studio)' },
    { path: `${STOCK_DIR}/model.json`, bytes: await size(`${STOCK_DIR}/model.json`), what: 'stock tfjs LayersModel topology' },
    { path: `${STOCK_DIR}/weights.bin`, bytes: stock.weights.byteLength, what: 'stock tfjs weights' },
  ];
  const summary: ModelExportSummary = {
    files,
    tern: ternSize(packed, ternBytes),
    onnx: { opset: onnx.opset, codeTypes: onnx.codeTypes },
    ternaryLayers,
    ...(int8 ? { int8: { calibration: int8.source, int8Layers: int8.plan.layers.length, quantizedTensors: int8.plan.points.length } } : {}),
  };
  if (options.parity === false) {
    summary.paritySkipped = 'skipped (--no-parity)';
    return summary;
  }

  const inputs = options.inputs ?? randomInputs(model, options.randomSamples ?? 64);
  const inputShape = model.inputs[0].shape.slice(1) as number[];
  progress(`parity: our inference on ${inputs.n} inputs`);
  const reference = await logitsOf(inputs, inputShape, tfjsPredict(model, inputShape));
  const results: ParityResult[] = [];
  const accuracy: AccuracyResult[] = [];
  const scoreAccuracy = (model: string, logits: Float32Array) => {
    if (inputs.labels) accuracy.push({ model, top1: top1Accuracy(logits, inputs.labels) });
  };
  scoreAccuracy('our inference (float activations)', reference);
  const record = (target: string, file: string, got: Float32Array) => {
    const c = compareLogits(reference, got, inputs.n);
    results.push({ target, file, ...c, samples: inputs.n, ok: c.maxRelDiff <= PARITY_TOLERANCE });
    return got;
  };
  const onnxLogits = (session: Awaited<ReturnType<typeof openSession>>) =>
    logitsOf(inputs, inputShape, async (x, n) => {
      // A feature-map output comes back NCHW from ONNX Runtime; ours is NHWC: compare like with like.
      const out = await session.run(x, [n, ...inputShape]);
      return Float32Array.from(nchwToNhwc(out.data, out.dims).data);
    });

  progress('parity: model.onnx in ONNX Runtime');
  let ortMissing: string | undefined;
  try {
    await loadOrt();
  } catch (err) {
    // The .vsix carries ONNX Runtime for linux-x64 only (docs/formats.md): elsewhere model.onnx is
    // written but not run, and the report says why; the other two files are still checked.
    ortMissing = (err as Error).message;
  }
  if (!ortMissing) {
    const session = await openSession(onnx.bytes, { source: join(outDir, ONNX_FILE) });
    try {
      scoreAccuracy(`${ONNX_FILE} (ternary)`, record('ONNX Runtime', ONNX_FILE, await onnxLogits(session)));
    } finally {
      await session.release();
    }
  }
  if (int8 && int8Bytes) {
    progress(`parity: ${INT8_ONNX_FILE} against our inference with 8-bit activations`);
    const int8Model = int8;
    const fakeQuant = await logitsOf(inputs, inputShape, async (x, n) =>
      tf.tidy(() => Float32Array.from(fakeQuantPredict(model, int8Model, tf.tensor(x, [n, ...inputShape])).dataSync() as Float32Array)),
    );
    scoreAccuracy('our inference with 8-bit activations', fakeQuant);
    if (!ortMissing) {
      const session = await openSession(int8Bytes, { source: join(outDir, INT8_ONNX_FILE) });
      try {
        const got = await onnxLogits(session);
        const c = compareLogits(fakeQuant, got, inputs.n);
        // Trained ranges without calibration: the logits' range of our 8-bit inference on the parity inputs.
        const outputRange = int8.outputRange ?? {
          min: fakeQuant.reduce((a, b) => Math.min(a, b), Infinity),
          max: fakeQuant.reduce((a, b) => Math.max(a, b), -Infinity),
        };
        const rangeOf = int8.outputRange ? 'the calibrated logit range' : 'the logit range on these inputs';
        const step = (outputRange.max - outputRange.min) / 255;
        const bound = INT8_LOGIT_STEPS * step;
        results.push({
          target: 'ONNX Runtime (integer kernels)',
          file: INT8_ONNX_FILE,
          ...c,
          samples: inputs.n,
          ok: c.top1Agreement >= INT8_MIN_AGREEMENT && c.maxAbsDiff <= bound,
          reference: 'our inference with the same 8-bit activations',
          criterion: `top-1 agreement ≥ ${100 * INT8_MIN_AGREEMENT} % and max |Δ logit| ≤ ${bound.toPrecision(3)} (${INT8_LOGIT_STEPS} steps of 1/255 of ${rangeOf})`,
        });
        scoreAccuracy(`${INT8_ONNX_FILE} (ternary, 8-bit activations)`, got);
      } finally {
        await session.release();
      }
    }
  }

  progress('parity: stock tfjs model');
  const stockModel = await loadStock(join(outDir, STOCK_DIR));
  try {
    record('stock tfjs (loadLayersModel)', `${STOCK_DIR}/`, await logitsOf(inputs, inputShape, tfjsPredict(stockModel, inputShape)));
  } finally {
    stockModel.dispose();
  }

  progress('parity: model.tern loaded back');
  const ternModel = await loadTernModel(join(outDir, TERN_FILE));
  try {
    record('model.tern loaded back', TERN_FILE, await logitsOf(inputs, inputShape, tfjsPredict(ternModel, inputShape)));
  } finally {
    ternModel.dispose();
  }

  summary.parity = { inputs: inputs.source, results, tolerance: PARITY_TOLERANCE };
  if (accuracy.length) summary.accuracy = { inputs: inputs.source, results: accuracy };
  if (ortMissing) summary.paritySkipped = `model.onnx not run: ${ortMissing}`;
  const rounds = options.latencyRounds ?? REPORT_LATENCY_ROUNDS;
  if (!ortMissing && rounds > 0) {
    progress('ONNX Runtime latency, batch 1: float, ternary' + (int8Bytes ? ', ternary int8' : ''));
    const targets: LatencyTarget[] = [
      { model: 'float', file: 'the same network with float32 weights (not written)', bytes: exportOnnx(model, floatTwin(packed)).bytes },
      { model: 'ternary', file: ONNX_FILE, bytes: onnx.bytes },
      ...(int8Bytes ? [{ model: 'ternary int8', file: INT8_ONNX_FILE, bytes: int8Bytes }] : []),
    ];
    const dims = onnx.inputDims.map((d) => (typeof d === 'number' ? d : 1));
    try {
      summary.latency = { runs: rounds, threads: "ONNX Runtime's default", results: await sideBySideLatency(targets, dims, rounds) };
    } catch (err) {
      // The measurement informs; the files are written and checked: say why it is missing, do not fail.
      summary.latencySkipped = (err as Error).message;
    }
  }
  return summary;
}

/** The model with its ternary kernels as float32 values: the float model a ternary one is measured against. */
export function floatTwin(packed: PackedModel): PackedModel {
  return {
    ...packed,
    weights: packed.weights.map((w) =>
      w.kind === 'ternary' ? { kind: 'float', name: w.name, shape: w.shape, values: ternaryValues(w) } : w,
    ),
  };
}

/** Fraction of inputs whose largest logit is their label. */
function top1Accuracy(logits: Float32Array, labels: Int32Array): number {
  const classes = logits.length / labels.length;
  let right = 0;
  for (let s = 0; s < labels.length; s++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (logits[s * classes + c] > logits[s * classes + best]) best = c;
    if (best === labels[s]) right++;
  }
  return labels.length ? right / labels.length : 0;
}

/** Throws ParityError when a parity result is above the tolerance. */
export function assertParity(summary: ModelExportSummary): void {
  const bad = summary.parity?.results.filter((r) => !r.ok) ?? [];
  if (bad.length) {
    throw new ParityError(
      `Exported model differs from our inference: ${bad
        .map(
          (r) =>
            `${r.file} (${r.target}) max |Δ logit| ${r.maxAbsDiff.toPrecision(3)}, relative ${r.maxRelDiff.toPrecision(3)}` +
            (r.criterion ? `, top-1 agreement ${formatPercent(r.top1Agreement, 2)}; required: ${r.criterion}` : ` > ${PARITY_TOLERANCE}`),
        )
        .join('; ')}. ` + 'The files were written for inspection (see report.md); do not ship them. Report this with the model.',
      summary,
    );
  }
}

/** The report.md section: files, sizes, the .tern minimum, parity. */
export function exportSummaryMarkdown(summary: ModelExportSummary): string {
  const lines = ['## Exported model files', '', '| file | size | what |', '|---|---:|---|'];
  for (const f of summary.files) lines.push(`| ${f.path} | ${formatCount(f.bytes)} B (${formatBytes(f.bytes)}) | ${f.what} |`);
  const t = summary.tern;
  lines.push(
    '',
    `model.tern: ${formatCount(t.bytes)} bytes; arithmetic minimum ${formatCount(t.minimumBytes)} bytes ` +
      `(code bits + 4 bytes per float parameter and per α), overhead ${formatCount(t.overheadBytes)} bytes (${formatPercent(t.overheadBytes / Math.max(1, t.minimumBytes), 2)}: header, topology, alignment).`,
    '',
  );
  if (summary.int8) {
    const q = summary.int8;
    lines.push(`${INT8_ONNX_FILE}: ${q.int8Layers} layers in int8, ${q.quantizedTensors} quantized tensors; ranges: ${q.calibration}.`, '');
  }
  if (summary.parity) {
    lines.push(
      '## Parity',
      '',
      `Inputs: ${summary.parity.inputs}. Relative = max |Δ logit| / max |logit of our inference|; above ${summary.parity.tolerance} is an error.`,
      '',
      '| file | runs in | max abs Δ logit | max rel Δ | top-1 agreement | |',
      '|---|---|---:|---:|---:|---|',
    );
    for (const r of summary.parity.results) {
      lines.push(
        `| ${r.file} | ${r.target} | ${formatNumber(r.maxAbsDiff)} | ${formatNumber(r.maxRelDiff)} | ${formatPercent(r.top1Agreement, 2)} (${formatCount(r.samples)}) | ${r.ok ? 'ok' : '**FAILED**'} |`,
      );
    }
    for (const r of summary.parity.results.filter((r) => r.criterion)) {
      lines.push('', `${r.file} is compared with ${r.reference ?? 'our inference'}; required: ${r.criterion}.`);
    }
    if (summary.paritySkipped) lines.push('', `Not checked: ${summary.paritySkipped}`);
    lines.push('');
  } else if (summary.paritySkipped) {
    lines.push('## Parity', '', `Not checked: ${summary.paritySkipped}.`, '');
  }
  if (summary.accuracy) {
    lines.push('## Accuracy', '', `Top-1 on the ${summary.accuracy.inputs}.`, '', '| model | top-1 |', '|---|---:|');
    for (const a of summary.accuracy.results) lines.push(`| ${a.model} | ${formatPercent(a.top1, 2)} |`);
    lines.push('');
  }
  if (summary.latencySkipped) lines.push('## ONNX Runtime latency on this machine', '', `Not measured: ${summary.latencySkipped}`, '');
  if (summary.latency) {
    lines.push(
      '## ONNX Runtime latency on this machine',
      '',
      `Batch 1, ${summary.latency.threads} threads, milliseconds per run: median and 10th percentile of ${summary.latency.runs} rounds that run each model once in turn (side by side).`,
      '',
      '| model | file | median ms | p10 ms | vs float |',
      '|---|---|---:|---:|---:|',
    );
    const float = summary.latency.results.find((r) => r.model === 'float');
    for (const r of summary.latency.results) {
      lines.push(
        `| ${r.model} | ${r.file} | ${r.medianMs.toFixed(3)} | ${r.p10Ms.toFixed(3)} | ${float ? `${(float.medianMs / r.medianMs).toFixed(2)}×` : '–'} |`,
      );
    }
    if (!summary.latency.results.some((r) => r.model === 'ternary int8')) {
      lines.push('', `${INT8_ONNX_FILE} was not written: \`tern export --activations int8\` (Export Run: 8-bit activations) writes it.`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

/** ONNX Runtime latency in one line: "float 0.82 ms, ternary 0.80 ms, ternary int8 0.40 ms (batch 1)". */
export function latencyLine(summary: ModelExportSummary): string | undefined {
  if (!summary.latency) return undefined;
  return `ONNX Runtime batch 1: ${summary.latency.results.map((r) => `${r.model} ${r.medianMs.toFixed(2)} ms`).join(', ')}`;
}

/** A one-line summary for toasts and the CLI. */
export function exportSummaryLine(summary: ModelExportSummary): string {
  const size = (p: string) => summary.files.filter((f) => f.path.startsWith(p)).reduce((a, f) => a + f.bytes, 0);
  const parts = [
    `model.onnx ${formatBytes(size('model.onnx'))}`,
    `model.tern ${formatBytes(size('model.tern'))}`,
    `tfjs/ ${formatBytes(size('tfjs/'))}`,
  ];
  if (size(INT8_ONNX_FILE)) parts.splice(1, 0, `${INT8_ONNX_FILE} ${formatBytes(size(INT8_ONNX_FILE))}`);
  const exact = summary.parity?.results.filter((r) => !r.criterion) ?? [];
  const int8 = summary.parity?.results.find((r) => r.criterion);
  const parity = summary.parity
    ? `parity: max rel Δ ${formatNumber(Math.max(...exact.map((r) => r.maxRelDiff)), 2)}, top-1 agreement ${formatPercent(Math.min(...exact.map((r) => r.top1Agreement)))} on ${formatQuantity(summary.parity.results[0]?.samples ?? 0, 'input')}` +
      (int8
        ? `; ${INT8_ONNX_FILE} against 8-bit inference: top-1 agreement ${formatPercent(int8.top1Agreement)}, max |Δ logit| ${formatNumber(int8.maxAbsDiff, 2)}`
        : '')
    : `parity ${summary.paritySkipped ?? 'not checked'}`;
  const latency = latencyLine(summary);
  return `${parts.join(', ')}; ${parity}${latency ? `; ${latency}` : ''}`;
}
