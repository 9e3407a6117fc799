/**
 * `tern export`: a run's model, metrics.csv, layers.csv and report.md, plus the model as
 * model.onnx, model.tern and a stock tfjs model, checked against our inference (parity).
 */
import { formatCount, formatNumber, formatPercent } from '../../../shared/format';
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { onePositional, parsingArgs, reportingUserErrors, UsageError, usageError, type CliCommand } from '../command';
import { BACKEND_USAGE, backendOptionsFromArgs } from '../../backends/options';
import { initBackend } from '../../backends/ladder';
import {
  DEFAULT_CALIBRATION_IMAGES,
  defaultExportDir,
  EXPORT_ACTIVATIONS,
  exportSummaryLine,
  type ExportActivations,
  type ExportResult,
} from '../../export';
import { exportTarget, isRunFolder } from '../../jobs/export';
import { isUserError } from '../../../shared/userError';
import { modelExportDir } from '../../../shared/exportFolder';
import { integerOption } from '../../../shared/optionText';

const usage = `Usage: tern export <run-dir | model.json | model.tern | model-dir> [--out DIR] [--no-parity] [--samples N] [--onnx-codes smallest|int8]
                  [--activations float|int8] [--calibration N]

Writes, into DIR (default: ./ternary-export/<experiment>-<run-id>, or ./ternary-export/<model>):
  model.onnx   standard ONNX (input NCHW) with the ternary codes as INT2/INT4 tensors
  model.tern   the packed ternary model (2 bits a weight; docs/formats.md)
  tfjs/        a stock tfjs LayersModel (plain tf.loadLayersModel, no custom layers)
  model-int8.onnx  with --activations int8: the ternary model with 8-bit activations in QDQ form,
               which ONNX Runtime runs with integer convolutions (faster than float)
  report.md    sizes, the parity check, accuracy on the test images and ONNX Runtime latency
               of float / ternary / ternary int8 at batch 1 (and, for a run: summary, per-layer table)
and for a run folder also model/ (as trained), metrics.csv and layers.csv.

Parity: each exported file runs on the experiment's first N test images (random inputs when
there is no data) next to our own inference; a relative difference in the logits above 1e-4
is an error (exit 1).
  --no-parity        skip the check (ONNX Runtime is then not needed)
  --samples N        inputs for the check: the first N test images (default 1000), or N
                     random inputs for a model without data (default 64)
  --onnx-codes int8  INT8 codes at ONNX opset 13, for runtimes older than ONNX Runtime 1.23
                     (default smallest: INT2 for ternary layers at opset 25, INT4 for REL)
  --activations int8 also write model-int8.onnx: activation ranges calibrated on training
                     images of the run's experiment (a run folder only; default float), or, for
                     a model trained with quant.activations int8, the trained ranges (no data needed)
  --calibration N    calibration images (default ${DEFAULT_CALIBRATION_IMAGES}), picked with the experiment's seed;
                     given for a model trained with int8 activations, calibrated ranges replace the trained ones
model-int8.onnx is checked against our inference with the same 8-bit activations: top-1
agreement ≥ 99.5 % and logits within 8 steps of 1/255 of their calibrated range (docs/formats.md).
Our inference, the reference of the check, runs on:
${BACKEND_USAGE}`;

async function run(argv: string[]): Promise<number> {
  const backendArgs = parsingArgs(() => backendOptionsFromArgs(argv));
  const parsed = parsingArgs(() =>
    parseArgs({
      args: backendArgs.rest,
      allowPositionals: true,
      options: {
        out: { type: 'string' },
        'no-parity': { type: 'boolean' },
        samples: { type: 'string' },
        'onnx-codes': { type: 'string' },
        activations: { type: 'string' },
        calibration: { type: 'string' },
      },
    }),
  );
  const target = onePositional(parsed.positionals, 'missing the run folder or model to export');
  const samples = parsed.values.samples === undefined ? undefined : integerOption('samples', parsed.values.samples, 1, usageError);
  const codes = parsed.values['onnx-codes'] ?? 'smallest';
  if (codes !== 'smallest' && codes !== 'int8') throw new UsageError(`--onnx-codes must be smallest or int8 (got ${codes})`);
  const activations = parsed.values.activations ?? 'float';
  if (!(EXPORT_ACTIVATIONS as readonly string[]).includes(activations)) {
    throw new UsageError(
      `--activations must be ${EXPORT_ACTIVATIONS.join(' or ')} (got ${activations}); int8 is the only quantized activation export`,
    );
  }
  const calibration =
    parsed.values.calibration === undefined ? undefined : integerOption('calibration', parsed.values.calibration, 1, usageError);
  if (calibration !== undefined && activations !== 'int8') {
    throw new UsageError('--calibration N sets the calibration images of --activations int8; add --activations int8 or drop --calibration');
  }
  const isRun = isRunFolder(target);
  return reportingUserErrors('export', process.stderr, async () => {
    let outDir: string;
    if (isRun) {
      let experiment: string | undefined;
      try {
        experiment = (JSON.parse(readFileSync(join(target, 'config.json'), 'utf8')) as { experiment?: { name?: string } }).experiment?.name;
      } catch {
        // exportRun reports an unreadable run folder.
      }
      outDir = resolve(parsed.values.out ?? defaultExportDir(process.cwd(), target, experiment));
    } else {
      outDir = resolve(parsed.values.out ?? modelExportDir(process.cwd(), target, { resolve, dirname }));
    }
    await initBackend(backendArgs.options);
    const options = {
      parity: !parsed.values['no-parity'],
      samples,
      onnxCodes: codes as 'smallest' | 'int8',
      activations: activations as ExportActivations,
      calibration,
      onProgress: (message: string) => process.stderr.write(`tern export: ${message}\n`),
    };
    let result: ExportResult;
    try {
      result = await exportTarget({ target, asRun: isRun, outDir, ...options });
    } catch (err) {
      // A parity failure carries the figures of the files it wrote.
      if (isUserError(err) && err.data.model) process.stdout.write(`${exportSummaryLine(err.data.model)}\n`);
      throw err;
    }
    process.stdout.write(
      `Exported ${result.files.length} files to ${relative(process.cwd(), result.outDir) || result.outDir}:\n${result.files.map((f) => `  ${f}`).join('\n')}\n`,
    );
    if (result.model) {
      process.stdout.write(`${exportSummaryLine(result.model)}\n`);
      for (const r of result.model.parity?.results ?? []) {
        process.stdout.write(
          `  ${r.file.padEnd(11)} ${r.target.padEnd(29)} max |Δ logit| ${formatNumber(r.maxAbsDiff)}, relative ${formatNumber(r.maxRelDiff)}, top-1 agreement ${formatPercent(r.top1Agreement, 2)} of ${formatCount(r.samples)}\n`,
        );
      }
      const t = result.model.tern;
      process.stdout.write(
        `  model.tern ${formatCount(t.bytes)} bytes, arithmetic minimum ${formatCount(t.minimumBytes)} bytes (+${formatCount(t.overheadBytes)})\n`,
      );
    }
    return 0;
  });
}

export const command: CliCommand = {
  summary: 'export a run or model: model.onnx, model.tern, stock tfjs, report.md with parity',
  usage,
  run,
};
