/**
 * Export of a run (`tern export`, README.md): the final model, metrics.csv, layers.csv (per layer, last
 * epoch) and report.md (summary, per-layer table, compression). Plain fs, no tfjs: the model files
 * are copied as the trainer saved them.
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { readRunHistory } from '../runs';
import type { LayerStats, ModelSummary } from '../../shared/layerStats';
import { UserError } from '../../shared/userError';
import type { MetricsRecord, RunConfigRecord, RunSummary } from '../../shared/runRecords';
import { writeFileAtomic } from '../files/atomicFiles';

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
}

/** A CSV field: quoted when it holds a comma, quote or newline. */
function csvField(value: unknown): string {
  if (value === undefined || value === null) return '';
  const s = typeof value === 'number' ? (Number.isFinite(value) ? String(value) : '') : Array.isArray(value) ? value.join('x') : String(value);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function csv(header: string[], rows: unknown[][]): string {
  return [header, ...rows].map((r) => r.map(csvField).join(',')).join('\n') + '\n';
}

const METRIC_COLUMNS: (keyof MetricsRecord)[] = ['kind', 'epoch', 'step', 'progress', 'lr', 'loss', 'top1', 'top5', 'valLoss', 'valTop1', 'valTop5', 'imgPerSec', 'time'];

export function metricsCsv(metrics: MetricsRecord[]): string {
  return csv(METRIC_COLUMNS as string[], metrics.map((m) => METRIC_COLUMNS.map((c) => m[c])));
}

export function layersCsv(layers: LayerStats[]): string {
  const maxBranches = Math.max(1, ...layers.map((l) => l.branches.length));
  const header = ['layer', 'type', 'ternary', 'shape', 'params', 'bits', 'delta', 'alpha', 'sparsity', 'neg', 'zero', 'pos'];
  for (let k = 1; k < maxBranches; k++) header.push(`branch${k + 1}_factor`, `branch${k + 1}_delta`, `branch${k + 1}_alpha`, `branch${k + 1}_sparsity`);
  const rows = layers.map((l) => {
    const row: unknown[] = [l.layer, l.type, l.ternary, l.shape, l.params, l.bits, l.delta, l.alpha, l.sparsity, l.counts.neg, l.counts.zero, l.counts.pos];
    for (let k = 1; k < maxBranches; k++) {
      const b = l.branches[k];
      row.push(b?.factor, b?.delta, b?.alpha, b?.sparsity);
    }
    return row;
  });
  return csv(header, rows);
}

const pct = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '–' : `${(v * 100).toFixed(2)} %`);
const num = (v: number, digits = 4) => (Number.isFinite(v) ? v.toPrecision(digits) : '–');
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

/** The Markdown report of a run. */
export function reportMarkdown(config: RunConfigRecord | undefined, summary: RunSummary | undefined, layers: LayerStats[], modelSummary: ModelSummary | undefined, epochs: MetricsRecord[]): string {
  const e = config?.experiment;
  const lines: string[] = [`# Run ${summary?.runId ?? config?.runId ?? ''} — ${e?.name ?? summary?.experiment ?? ''}`, ''];
  if (summary) {
    lines.push(
      '## Summary',
      '',
      '| | |',
      '|---|---|',
      `| status | ${summary.status}${summary.reason ? ` (${summary.reason.replace(/\|/g, '\\|')})` : ''} |`,
      `| epochs | ${summary.epochs}${e ? ` of ${e.train.epochs}` : ''} |`,
      `| final top-1 / top-5 / loss | ${pct(summary.final.top1)} / ${pct(summary.final.top5)} / ${num(summary.final.loss)} |`,
      `| best top-1 (epoch) | ${pct(summary.best.top1)} (${summary.best.epoch}) |`,
      `| backend | ${summary.backend}${config ? `, ${config.threads} thread(s)` : ''} |`,
      `| wall time | ${summary.wallSeconds.toFixed(1)} s |`,
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
        `${e.train.schedule.length ? ` × ${e.train.gammas.join(', ')} at epochs ${e.train.schedule.join(', ')}` : ''}, weight decay ${e.train.weightDecay}, batch ${e.train.batchSize}, seed ${e.train.seed}`,
      '',
    );
  }
  if (modelSummary) {
    lines.push(
      '## Size',
      '',
      `${modelSummary.params.toLocaleString('en-US')} parameters (${modelSummary.ternaryParams.toLocaleString('en-US')} ternary, in ${modelSummary.ternaryLayers} of ${modelSummary.layers} layers): ` +
        `${kib(modelSummary.fp32Bytes)} in float32, ${kib(modelSummary.ternaryBytes)} with 2-bit ternary weights — **${modelSummary.compression.toFixed(2)}× smaller**.`,
      '',
    );
  }
  if (layers.length) {
    lines.push('## Layers (last epoch)', '', '| layer | type | shape | params | bits | Δ | α | sparsity | −α | 0 | +α |', '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const l of layers) {
      lines.push(
        `| ${l.layer} | ${l.type} | ${l.shape.join('×')} | ${l.params} | ${l.bits} | ${l.ternary ? num(l.delta) : '–'} | ${l.ternary ? num(l.alpha) : '–'} | ${l.ternary ? pct(l.sparsity) : '–'} | ` +
          `${l.ternary ? l.counts.neg : '–'} | ${l.ternary ? l.counts.zero : '–'} | ${l.ternary ? l.counts.pos : '–'} |`,
      );
    }
    lines.push('');
  }
  if (epochs.length) {
    lines.push('## Epochs', '', '| epoch | lr | loss | top-1 | val loss | val top-1 | val top-5 |', '|---:|---:|---:|---:|---:|---:|---:|');
    for (const r of epochs) lines.push(`| ${r.epoch} | ${num(r.lr, 3)} | ${num(r.loss)} | ${pct(r.top1)} | ${num(r.valLoss ?? NaN)} | ${pct(r.valTop1)} | ${pct(r.valTop5)} |`);
    lines.push('');
  }
  return lines.join('\n');
}

/** Exports `runDir` into `outDir` (created if needed); returns the files written. */
export async function exportRun(runDir: string, outDir: string): Promise<ExportResult> {
  runDir = resolve(runDir);
  outDir = resolve(outDir);
  if (!existsSync(join(runDir, 'config.json'))) {
    throw new ExportError(`${runDir} is not a run folder (no config.json); pass a folder like runs/<experiment>/<run-id>.`, runDir);
  }
  const history = await readRunHistory(runDir);
  await mkdir(outDir, { recursive: true });
  const files: string[] = [];
  const modelDir = join(runDir, 'model');
  if (existsSync(join(modelDir, 'model.json'))) {
    await mkdir(join(outDir, 'model'), { recursive: true });
    for (const f of await readdir(modelDir)) {
      await copyFile(join(modelDir, f), join(outDir, 'model', f));
      files.push(`model/${f}`);
    }
  }
  await writeFileAtomic(join(outDir, 'metrics.csv'), metricsCsv(history.metrics));
  files.push('metrics.csv');
  const last = history.layers[history.layers.length - 1];
  await writeFileAtomic(join(outDir, 'layers.csv'), layersCsv(last?.layers ?? []));
  files.push('layers.csv');
  const epochs = history.metrics.filter((m) => m.kind === 'epoch');
  await writeFileAtomic(join(outDir, 'report.md'), reportMarkdown(history.config, history.summary, last?.layers ?? [], last?.summary, epochs));
  files.push('report.md');
  return { outDir, files };
}

/** The default export folder of a run: `<base>/ternary-export/<experiment>-<run-id>`. */
export function defaultExportDir(base: string, runDir: string, experiment?: string): string {
  const runId = basename(resolve(runDir));
  return join(base, 'ternary-export', experiment ? `${experiment}-${runId}` : runId);
}
