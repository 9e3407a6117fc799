/** Export of a run or a model file: `tern export` and the server's `ternary/export`. */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { exportModelTarget, exportRun, type ExportOptions, type ExportResult } from '../export';
import { isUserError } from '../../shared/userError';
import { notFound } from './errors';

export interface ExportJob extends ExportOptions {
  /** A run folder, or a model.json (or its folder), model.tern or .onnx file. */
  target: string;
  /** Export `target` as a run (model/, metrics.csv, layers.csv, report.md with the run's summary) or as a model file alone. */
  asRun: boolean;
  outDir: string;
}

/** True when `path` is a run folder (it holds the run's config.json). */
export function isRunFolder(path: string): boolean {
  return existsSync(join(path, 'config.json'));
}

/**
 * Writes the export. A failure of the export itself (`exportFailed`) carries the output folder
 * in its data, and for parity the figures of the files written (shared/userError.ts).
 */
export async function exportTarget(job: ExportJob): Promise<ExportResult> {
  const { target, asRun, outDir, ...options } = job;
  // A missing model file is told by the model loader, with the kinds of files it takes.
  if (asRun && !existsSync(target)) throw notFound('Run folder', target);
  try {
    return asRun ? await exportRun(target, outDir, options) : await exportModelTarget(target, outDir, options);
  } catch (err) {
    if (isUserError(err) && err.code === 'exportFailed') err.data.outDir ??= resolve(outDir);
    throw err;
  }
}
