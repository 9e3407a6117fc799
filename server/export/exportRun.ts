/**
 * Export of a run (`tern export`, README.md): the final model as the trainer saved it (model/), metrics.csv, layers.csv (per
 * layer, last epoch), the model in the formats that leave the studio (model.onnx, model.tern,
 * tfjs/; server/export/exportModel.ts) with their parity check, and report.md (summary, per-layer
 * table, compression, file sizes, parity).
 */
import { EXPORT_FOLDER, runExportName } from '../../shared/exportFolder';
import { existsSync } from 'node:fs';
import { copyFile, readdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { inputRanges } from '../core/activationQuant';
import { loadModel } from '../models/loadModel';
import { openDataset } from '../data/open';
import { readRunHistory } from '../runs';
import {
  assertParity,
  EXPORT_FOLDER_ROLE,
  exportModelFiles,
  exportSummaryMarkdown,
  type ModelExportOptions,
  type ModelExportSummary,
  type ParityInputs,
} from './exportModel';
import { DEFAULT_CALIBRATION_IMAGES, Int8ExportError, type CalibrationImages } from './int8Activations';
import type { LayerStats, ModelSummary } from '../../shared/layerStats';
import { UserError } from '../../shared/userError';
import type { MetricsRecord, RunConfigRecord, RunStatus, RunSummary } from '../../shared/runRecords';
import { writeFileAtomic } from '../files/atomicFiles';
import { prepareOutputFolder } from './outputFolder';
import { csvText, METRIC_COLUMNS, type CsvValue } from '../../shared/csv';
import {
  formatBytes,
  formatCompression,
  formatCount,
  formatDuration,
  formatEpochs,
  formatList,
  formatNumber,
  formatPercent,
  formatQuantity,
} from '../../shared/format';

/** A run that cannot be exported (code `notFound`): what is missing and what to do. */
export class ExportError extends UserError {
  constructor(message: string, path: string) {
    super('notFound', message, { path });
    this.name = 'ExportError';
  }
}

export interface ExportResult {
  outDir: string;
  /** Files written, relative to outDir. */
  files: string[];
  /** The exported model formats, their sizes and parity (when the run has a final model). */
  model?: ModelExportSummary;
}

/** Options of a run or model export. */
export interface ExportOptions extends Pick<ModelExportOptions, 'parity' | 'onnxCodes' | 'onProgress' | 'activations' | 'latencyRounds'> {
  /** Training images the int8 activations are calibrated on (default DEFAULT_CALIBRATION_IMAGES). */
  calibration?: number;
  /** Seed picking the calibration images (default: the experiment's training seed). */
  calibrationSeed?: number;
  /** Inputs for the parity check: test images (default 1000), or random inputs when there is no data (default 64). */
  samples?: number;
  signal?: AbortSignal;
}

/** `n` images of a split of a run's experiment (normalized as in evaluation, no augmentation), with their labels. */
async function imagesOf(
  config: RunConfigRecord,
  split: 'train' | 'test',
  n: number,
  order: { shuffle: boolean; seed: number },
): Promise<{ x: Float32Array; labels: Int32Array; n: number } | undefined> {
  const spec = config.experiment?.data;
  if (!spec) return undefined;
  const base = config.configPath ? dirname(config.configPath) : process.cwd();
  const data = await openDataset(spec, split, base);
  const chunks: Float32Array[] = [];
  const labels: Int32Array[] = [];
  let count = 0;
  for await (const batch of data.batches({
    batchSize: Math.min(n, 250),
    shuffle: order.shuffle,
    seed: order.seed,
    epoch: 0,
    augment: false,
  })) {
    const take = Math.min(batch.n, n - count);
    chunks.push(batch.x.subarray(0, (batch.x.length / batch.n) * take));
    labels.push(batch.y.subarray(0, take));
    count += take;
    if (count >= n) break;
  }
  if (count === 0) return undefined;
  const concat = <T extends Float32Array | Int32Array>(parts: T[], out: T): T => {
    let o = 0;
    for (const c of parts) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  };
  return {
    x: concat(chunks, new Float32Array(chunks.reduce((a, c) => a + c.length, 0))),
    labels: concat(labels, new Int32Array(count)),
    n: count,
  };
}

/** The first `n` test images of a run's experiment, normalized as in evaluation; undefined without data. */
async function testInputs(config: RunConfigRecord | undefined, n: number): Promise<ParityInputs | undefined> {
  if (!config?.experiment?.data) return undefined;
  try {
    const images = await imagesOf(config, 'test', n, { shuffle: false, seed: 0 });
    return images && { ...images, source: `first ${images.n} test images of ${config.experiment.data.path}` };
  } catch {
    // Data moved or unreadable: parity still runs, on random inputs (the report says so).
    return undefined;
  }
}

/**
 * `n` training images of a run's experiment for the int8 calibration: the first `n` of the
 * training set shuffled with `seed` (the same seed picks the same images), without augmentation.
 */
export async function calibrationImages(
  config: RunConfigRecord | undefined,
  n: number,
  seed: number,
  runDir: string,
): Promise<CalibrationImages> {
  const where = config?.experiment?.data?.path;
  let images: Awaited<ReturnType<typeof imagesOf>>;
  try {
    images = config ? await imagesOf(config, 'train', n, { shuffle: true, seed }) : undefined;
  } catch (err) {
    throw new Int8ExportError(
      `8-bit activations are calibrated on the training images of ${where ?? 'the experiment'}, which cannot be read: ${(err as Error).message} ` +
        'Restore the data, or export with float activations.',
    );
  }
  if (!images) {
    throw new Int8ExportError(
      `8-bit activations are calibrated on training images, and the run ${runDir} has ${where ? `no training images in ${where}` : 'no data in its experiment'}: ` +
        'export with float activations, or train with data.',
    );
  }
  return { x: images.x, n: images.n, source: `${images.n} training images of ${where} (shuffled with seed ${seed})` };
}

export function metricsCsv(metrics: MetricsRecord[]): string {
  return csvText(
    METRIC_COLUMNS,
    metrics.map((m) => METRIC_COLUMNS.map((c) => m[c])),
    '\n',
  );
}

export function layersCsv(layers: LayerStats[]): string {
  const maxBranches = Math.max(1, ...layers.map((l) => l.branches.length));
  const header = ['layer', 'type', 'ternary', 'shape', 'params', 'bits', 'delta', 'alpha', 'sparsity', 'neg', 'zero', 'pos'];
  for (let k = 1; k < maxBranches; k++)
    header.push(`branch${k + 1}_factor`, `branch${k + 1}_delta`, `branch${k + 1}_alpha`, `branch${k + 1}_sparsity`);
  const rows = layers.map((l) => {
    const row: CsvValue[] = [
      l.layer,
      l.type,
      l.ternary,
      l.shape,
      l.params,
      l.bits,
      l.delta,
      l.alpha,
      l.sparsity,
      l.counts.neg,
      l.counts.zero,
      l.counts.pos,
    ];
    for (let k = 1; k < maxBranches; k++) {
      const b = l.branches[k];
      row.push(b?.factor, b?.delta, b?.alpha, b?.sparsity);
    }
    return row;
  });
  return csvText(header, rows, '\n');
}

// The report is read by people: numbers as every view writes them (shared/format.ts); the CSVs keep plain ones.
const pct = (v: number | undefined) => (v === undefined ? '–' : formatPercent(v, 2));
const num = (v: number, digits = 4) => (Number.isFinite(v) ? formatNumber(v, digits) : '–');

/** Why the run stands where it does: the summary's reason, or for a crashed run how to go on. */
function statusNote(status: RunStatus, summary: RunSummary): string {
  const reason =
    status === 'crashed'
      ? 'the process training it ended without finishing it; continue it with `tern train --resume` on its folder, or Resume in the Experiments view'
      : summary.reason;
  return reason ? ` (${reason.replace(/\|/g, '\\|')})` : '';
}

/** The Markdown report of a run. */
export function reportMarkdown(
  config: RunConfigRecord | undefined,
  summary: RunSummary | undefined,
  /** How the run stands (server/runs/runFiles.ts `runStatus`): a dead writer's summary still says running. */
  status: RunStatus,
  layers: LayerStats[],
  modelSummary: ModelSummary | undefined,
  epochs: MetricsRecord[],
): string {
  const e = config?.experiment;
  const lines: string[] = [`# Run ${summary?.runId ?? config?.runId ?? ''} — ${e?.name ?? summary?.experiment ?? ''}`, ''];
  if (summary) {
    lines.push(
      '## Summary',
      '',
      '| | |',
      '|---|---|',
      `| status | ${status}${statusNote(status, summary)} |`,
      `| epochs | ${formatCount(summary.epochs)}${e ? ` of ${formatCount(e.train.epochs)}` : ''} |`,
      `| final top-1 / top-5 / loss | ${pct(summary.final.top1)} / ${pct(summary.final.top5)} / ${num(summary.final.loss)} |`,
      `| best top-1 (epoch) | ${pct(summary.best.top1)} (${summary.best.epoch}) |`,
      `| backend | ${summary.backend}${config ? `, ${formatQuantity(config.threads, 'thread')}` : ''} |`,
      `| wall time | ${formatDuration(summary.wallSeconds)} |`,
      '',
    );
  }
  if (e) {
    const q = e.quant;
    lines.push(
      '## Setup',
      '',
      `- model: ${e.model.arch ?? `fine-tuned from ${e.model.from}`}, ${e.model.classes} classes`,
      `- quantization: ${q.method === 'none' ? 'none (float)' : `${q.method}, threshold factor ${q.thresholdFactor}, t_ex ${q.tex}, first/last layers ${q.firstLast}`}`,
      `- data: ${e.data.format} at ${e.data.path}${e.data.augment.length ? `, augment ${e.data.augment.join(', ')}` : ''}${e.data.normalize ? `, normalize ${typeof e.data.normalize === 'string' ? e.data.normalize : JSON.stringify(e.data.normalize)}` : ''}`,
      `- training: ${e.train.optimizer}${e.train.optimizer === 'sgd' ? ` (momentum ${e.train.momentum}${e.train.nesterov ? ', Nesterov' : ''})` : ''}, lr ${e.train.lr}` +
        `${e.train.schedule.length ? ` × ${formatList(e.train.gammas.map(String))} at ${formatEpochs(e.train.schedule)}` : ''}, weight decay ${e.train.weightDecay}, batch ${e.train.batchSize}, seed ${e.train.seed}`,
      '',
    );
  }
  if (modelSummary) {
    lines.push(
      '## Size',
      '',
      `${formatCount(modelSummary.params)} parameters (${formatCount(modelSummary.ternaryParams)} ternary, in ${modelSummary.ternaryLayers} of ${modelSummary.layers} layers): ` +
        `${formatBytes(modelSummary.fp32Bytes)} in float32, ${formatBytes(modelSummary.ternaryBytes)} with 2-bit ternary weights — **${formatCompression(modelSummary.compression)}**.`,
      '',
    );
  }
  if (layers.length) {
    lines.push(
      '## Layers (last epoch)',
      '',
      '| layer | type | shape | params | bits | Δ | α | sparsity | −α | 0 | +α |',
      '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    );
    for (const l of layers) {
      lines.push(
        `| ${l.layer} | ${l.type} | ${l.shape.join('×')} | ${formatCount(l.params)} | ${l.bits} | ${l.ternary ? num(l.delta) : '–'} | ${l.ternary ? num(l.alpha) : '–'} | ${l.ternary ? pct(l.sparsity) : '–'} | ` +
          `${l.ternary ? formatCount(l.counts.neg) : '–'} | ${l.ternary ? formatCount(l.counts.zero) : '–'} | ${l.ternary ? formatCount(l.counts.pos) : '–'} |`,
      );
    }
    lines.push('');
  }
  if (epochs.length) {
    lines.push('## Epochs', '', '| epoch | lr | loss | top-1 | val loss | val top-1 | val top-5 |', '|---:|---:|---:|---:|---:|---:|---:|');
    for (const r of epochs)
      lines.push(
        `| ${r.epoch} | ${num(r.lr, 3)} | ${num(r.loss)} | ${pct(r.top1)} | ${num(r.valLoss ?? NaN)} | ${pct(r.valTop1)} | ${pct(r.valTop5)} |`,
      );
    lines.push('');
  }
  return lines.join('\n');
}

/** Exports `runDir` into `outDir` (created if needed); returns the files written. */
export async function exportRun(runDir: string, outDir: string, options: ExportOptions = {}): Promise<ExportResult> {
  runDir = resolve(runDir);
  outDir = resolve(outDir);
  if (!existsSync(join(runDir, 'config.json'))) {
    throw new ExportError(`${runDir} is not a run folder (no config.json); pass a folder like runs/<experiment>/<run-id>.`, runDir);
  }
  const history = await readRunHistory(runDir);
  await prepareOutputFolder(outDir, EXPORT_FOLDER_ROLE);
  const files: string[] = [];
  const modelDir = join(runDir, 'model');
  if (existsSync(join(modelDir, 'model.json'))) {
    await prepareOutputFolder(join(outDir, 'model'), EXPORT_FOLDER_ROLE);
    for (const f of await readdir(modelDir)) {
      await copyFile(join(modelDir, f), join(outDir, 'model', f));
      files.push(`model/${f}`);
    }
  }
  let model: ModelExportSummary | undefined;
  if (existsSync(join(modelDir, 'model.json'))) {
    const loaded = await loadModel(join(modelDir, 'model.json'));
    try {
      const inputs = options.parity === false ? undefined : await testInputs(history.config, options.samples ?? 1000);
      // Read only when needed: a run trained with int8 activations has its ranges (docs/formats.md).
      const calibration = () =>
        calibrationImages(
          history.config,
          options.calibration ?? DEFAULT_CALIBRATION_IMAGES,
          options.calibrationSeed ?? history.config?.experiment?.train?.seed ?? 0,
          runDir,
        );
      model = await exportModelFiles(loaded, outDir, {
        ...options,
        calibration: options.activations === 'int8' ? calibration : undefined,
        // An explicit --calibration replaces trained ranges by calibrated ones.
        int8Ranges: options.calibration === undefined ? 'trained' : 'calibrated',
        inputs,
        randomSamples: options.samples,
        metadata: { runId: history.config?.runId, experiment: history.config?.experiment?.name },
      });
    } finally {
      loaded.dispose();
    }
    files.push(...model.files.map((f) => f.path));
  }
  await writeFileAtomic(join(outDir, 'metrics.csv'), metricsCsv(history.metrics));
  files.push('metrics.csv');
  const last = history.layers[history.layers.length - 1];
  await writeFileAtomic(join(outDir, 'layers.csv'), layersCsv(last?.layers ?? []));
  files.push('layers.csv');
  const epochs = history.metrics.filter((m) => m.kind === 'epoch');
  const report = reportMarkdown(history.config, history.summary, history.status, last?.layers ?? [], last?.summary, epochs);
  await writeFileAtomic(join(outDir, 'report.md'), model ? insertModelSection(report, exportSummaryMarkdown(model)) : report);
  files.push('report.md');
  // After report.md is written: a parity failure leaves the files and the report to look at.
  if (model) assertParity(model);
  return { outDir, files, model };
}

/** The exported-files section goes after "## Size" (before the per-layer table). */
function insertModelSection(report: string, section: string): string {
  const at = report.indexOf('\n## Layers');
  return at < 0 ? `${report}\n${section}` : `${report.slice(0, at + 1)}${section}\n${report.slice(at + 1)}`;
}

/**
 * Exports a model that is not a run (a model.json, a model.tern, a folder holding one): the
 * model formats and a report.md with their sizes and parity on random inputs.
 */
export async function exportModelTarget(target: string, outDir: string, options: ExportOptions = {}): Promise<ExportResult> {
  outDir = resolve(outDir);
  const loaded = await loadModel(resolve(target));
  let model: ModelExportSummary;
  try {
    // A model trained with int8 activations carries its ranges; any other needs training images.
    if (options.activations === 'int8' && (inputRanges(loaded).size === 0 || options.calibration !== undefined)) {
      throw new Int8ExportError(
        `8-bit activations (--activations int8) are calibrated on training images, and ${target} is a model without data: ` +
          "export the run folder that trained it (its experiment's data), or export with float activations.",
      );
    }
    await prepareOutputFolder(outDir, EXPORT_FOLDER_ROLE);
    model = await exportModelFiles(loaded, outDir, { ...options, calibration: undefined, randomSamples: options.samples });
  } finally {
    loaded.dispose();
  }
  const report = [`# Export of ${target}`, '', exportSummaryMarkdown(model)].join('\n');
  await writeFileAtomic(join(outDir, 'report.md'), report);
  const files = [...model.files.map((f) => f.path), 'report.md'];
  assertParity(model);
  return { outDir, files, model };
}

/** The default export folder of a run (shared/exportFolder.ts). */
export function defaultExportDir(base: string, runDir: string, experiment?: string): string {
  return join(base, EXPORT_FOLDER, runExportName(basename(resolve(runDir)), experiment));
}
