/**
 * Writes a model in the formats that leave the studio (docs/formats.md) and checks them:
 *   model.onnx   standard ONNX with the ternary codes (server/onnx/export/toOnnx.ts)
 *   model.tern   the packed format (server/export/ternFile.ts)
 *   tfjs/        a stock tfjs LayersModel (server/export/stockTfjs.ts)
 * Parity: each exported file is loaded back by an independent path — model.onnx in ONNX Runtime,
 * tfjs/ through stock loadLayersModel, model.tern through our loader — and run on the same
 * inputs as our own inference; a relative difference above PARITY_TOLERANCE is an error.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadLayersModel, type LayersModel } from '@tensorflow/tfjs-layers';
import { writeFileAtomic } from '../files/atomicFiles';
import { prepareOutputFolder } from '../core/outputFolder';
import { exportOnnx, type OnnxCodes } from '../onnx/export/toOnnx';
import { loadOrt, nchwToNhwc, openSession } from '../onnx/runtime';
import { packModel, type PackedModel } from './packedModel';
import { stockTfjsModel } from './stockTfjs';
import { encodeTern, loadTernModel, ternSize } from './ternFile';
import type { ExportedFile, ModelExportSummary, ParityResult } from '../../shared/exportSummary';
import { UserError } from '../../shared/userError';

/** Largest accepted max|Δ logit| / max|logit| between an exported model and our inference. */
export const PARITY_TOLERANCE = 1e-4;

export const ONNX_FILE = 'model.onnx';
export const TERN_FILE = 'model.tern';
export const STOCK_DIR = 'tfjs';
/** What an export folder is for, in file-system errors. */
export const EXPORT_FOLDER_ROLE = 'the export (tern export --out)';

/** Inputs for the parity check: NHWC float32 images, already normalized as the model expects. */
export interface ParityInputs {
  x: Float32Array;
  n: number;
  /** Says where they come from, for the report ("first 1000 test images of …", "random"). */
  source: string;
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
  metadata?: Record<string, unknown>;
  onProgress?: (message: string) => void;
}

/** An exported model that does not compute what ours does: the comparison, and what to do. */
export class ParityError extends UserError {
  constructor(
    message: string,
    readonly summary: ModelExportSummary,
  ) {
    super('exportFailed', message);
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

/** Writes model.onnx, model.tern and tfjs/ for `model` into `outDir`, then checks parity. */
export async function exportModelFiles(model: LayersModel, outDir: string, options: ModelExportOptions = {}): Promise<ModelExportSummary> {
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
    { path: TERN_FILE, bytes: ternBytes.byteLength, what: 'packed ternary model (Ternary Studio)' },
    { path: `${STOCK_DIR}/model.json`, bytes: await size(`${STOCK_DIR}/model.json`), what: 'stock tfjs LayersModel topology' },
    { path: `${STOCK_DIR}/weights.bin`, bytes: stock.weights.byteLength, what: 'stock tfjs weights' },
  ];
  const summary: ModelExportSummary = {
    files,
    tern: ternSize(packed, ternBytes),
    onnx: { opset: onnx.opset, codeTypes: onnx.codeTypes },
    ternaryLayers,
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
  const record = (target: string, file: string, got: Float32Array) => {
    const c = compareLogits(reference, got, inputs.n);
    results.push({ target, file, ...c, samples: inputs.n, ok: c.maxRelDiff <= PARITY_TOLERANCE });
  };

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
      record(
        'ONNX Runtime',
        ONNX_FILE,
        await logitsOf(inputs, inputShape, async (x, n) => {
          // A feature-map output comes back NCHW from ONNX Runtime; ours is NHWC: compare like with like.
          const out = await session.run(x, [n, ...inputShape]);
          return Float32Array.from(nchwToNhwc(out.data, out.dims).data);
        }),
      );
    } finally {
      await session.release();
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
  if (ortMissing) summary.paritySkipped = `model.onnx not run: ${ortMissing}`;
  return summary;
}

/** Throws ParityError when a parity result is above the tolerance. */
export function assertParity(summary: ModelExportSummary): void {
  const bad = summary.parity?.results.filter((r) => !r.ok) ?? [];
  if (bad.length) {
    throw new ParityError(
      `Exported model differs from our inference: ${bad.map((r) => `${r.file} (${r.target}) max |Δ logit| ${r.maxAbsDiff.toPrecision(3)}, relative ${r.maxRelDiff.toPrecision(3)} > ${PARITY_TOLERANCE}`).join('; ')}. ` +
        'The files were written for inspection (see report.md); do not ship them. Report this with the model.',
      summary,
    );
  }
}

const kib = (bytes: number) => (bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(2)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`);

/** The report.md section: files, sizes, the .tern minimum, parity. */
export function exportSummaryMarkdown(summary: ModelExportSummary): string {
  const lines = ['## Exported model files', '', '| file | size | what |', '|---|---:|---|'];
  for (const f of summary.files) lines.push(`| ${f.path} | ${f.bytes.toLocaleString('en-US')} B (${kib(f.bytes)}) | ${f.what} |`);
  const t = summary.tern;
  lines.push(
    '',
    `model.tern: ${t.bytes.toLocaleString('en-US')} bytes; arithmetic minimum ${t.minimumBytes.toLocaleString('en-US')} bytes ` +
      `(code bits + 4 bytes per float parameter and per α), overhead ${t.overheadBytes.toLocaleString('en-US')} bytes (${((100 * t.overheadBytes) / Math.max(1, t.minimumBytes)).toFixed(2)} %: header, topology, alignment).`,
    '',
  );
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
        `| ${r.file} | ${r.target} | ${r.maxAbsDiff.toExponential(2)} | ${r.maxRelDiff.toExponential(2)} | ${(100 * r.top1Agreement).toFixed(2)} % (${r.samples}) | ${r.ok ? 'ok' : '**FAILED**'} |`,
      );
    }
    if (summary.paritySkipped) lines.push('', `Not checked: ${summary.paritySkipped}`);
    lines.push('');
  } else if (summary.paritySkipped) {
    lines.push('## Parity', '', `Not checked: ${summary.paritySkipped}.`, '');
  }
  return lines.join('\n');
}

/** A one-line summary for toasts and the CLI. */
export function exportSummaryLine(summary: ModelExportSummary): string {
  const size = (p: string) => summary.files.filter((f) => f.path.startsWith(p)).reduce((a, f) => a + f.bytes, 0);
  const parts = [`model.onnx ${kib(size('model.onnx'))}`, `model.tern ${kib(size('model.tern'))}`, `tfjs/ ${kib(size('tfjs/'))}`];
  const parity = summary.parity
    ? `parity: max rel Δ ${Math.max(...summary.parity.results.map((r) => r.maxRelDiff)).toExponential(1)}, top-1 agreement ${(100 * Math.min(...summary.parity.results.map((r) => r.top1Agreement))).toFixed(1)} % on ${summary.parity.results[0]?.samples ?? 0} inputs`
    : `parity ${summary.paritySkipped ?? 'not checked'}`;
  return `${parts.join(', ')}; ${parity}`;
}
