/** `tern ternarize`: the ternary twin of a float model.json, written with its per-layer stats. */
import { parseArgs } from 'node:util';
import * as path from 'node:path';
import { initBackend } from '../../backends/ladder';
import { UsageError, type CliCommand } from '../command';
import type { QuantConfig } from '../../../shared/experimentConfig';
import { loadModel, resolveModelJsonPath, saveModel, ModelFileError, MODEL_JSON } from '../../core/modelIO';
import { convertToTernary } from '../../models';
import { branchFactors } from '../../core/quantizer';
import { writeModelStats } from '../../stats/report';
import type { CommandIO } from './stats';

const usage = `Usage: tern ternarize <model.json | model-folder | model.onnx> --out DIR [options]

Rewrites every Conv2D as TernaryConv2D and every Dense as TernaryDense (the float weights become
the latent weights), writes DIR/model.json + DIR/weights.bin, and prints the per-layer stats.
An .onnx CNN is imported first (NCHW → NHWC; supported ops in docs/onnx-import.md).

Options:
  --out DIR                 output folder (required; must differ from the input's folder)
  --method he2019|twn       ternarization rule (default he2019)
  --threshold-factor F      f in Δ = f·max|W|, 0 ≤ F ≤ 1 (default 0.05; he2019 with --tex 1)
  --tex 1|2|4               REL branches (default 1)
  --first-last ternary|float  keep the first and last conv/dense layers float (default ternary)
  --json                    stats as JSON lines (as tern stats --json)`;

/** The quantization settings from the command line, or a UsageError naming the bad option. */
export function quantFromArgs(values: { method?: string; 'threshold-factor'?: string; tex?: string; 'first-last'?: string }): QuantConfig {
  const method = values.method ?? 'he2019';
  if (method !== 'he2019' && method !== 'twn') throw new UsageError(`--method must be he2019 or twn (got '${method}')`);
  const thresholdFactor = values['threshold-factor'] === undefined ? 0.05 : Number(values['threshold-factor']);
  if (!Number.isFinite(thresholdFactor) || thresholdFactor < 0 || thresholdFactor > 1) {
    throw new UsageError(`--threshold-factor must be a number in [0, 1] (got '${values['threshold-factor']}')`);
  }
  const tex = values.tex === undefined ? 1 : Number(values.tex);
  if (tex !== 1 && tex !== 2 && tex !== 4) throw new UsageError(`--tex must be 1, 2 or 4 (got '${values.tex}')`);
  if (method === 'twn' && tex !== 1) throw new UsageError('--tex 2 and 4 need --method he2019: REL branches are he2019 threshold factors');
  const firstLast = values['first-last'] ?? 'ternary';
  if (firstLast !== 'ternary' && firstLast !== 'float') throw new UsageError(`--first-last must be ternary or float (got '${firstLast}')`);
  return { method, thresholdFactor, tex, firstLast };
}

export async function run(argv: string[], io: CommandIO = { out: process.stdout, err: process.stderr }): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        out: { type: 'string' },
        method: { type: 'string' },
        'threshold-factor': { type: 'string' },
        tex: { type: 'string' },
        'first-last': { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const [target, ...extra] = parsed.positionals;
  if (!target) throw new UsageError('missing the float model.json (or a folder containing one, or an .onnx file)');
  if (extra.length) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  if (!parsed.values.out) throw new UsageError('--out DIR is required (where the ternary model is written)');
  const quant = quantFromArgs(parsed.values);
  // Conversion rewrites JSON and copies weights: the plain cpu backend is all it needs.
  await initBackend({ backend: 'cpu' });
  try {
    const source = await resolveModelJsonPath(target);
    const outDir = path.resolve(parsed.values.out);
    if (path.resolve(path.dirname(source)) === outDir) {
      throw new UsageError(`--out ${parsed.values.out} is the input model's folder; choose another folder so the float model is kept`);
    }
    const twin = await convertToTernary(await loadModel(source), quant);
    await saveModel(twin, outDir, { ternarizedFrom: path.resolve(source), quant });
    if (!parsed.values.json) {
      const threshold = quant.method === 'twn' ? 'Δ = 0.7·mean|W|' : quant.tex === 1 ? `Δ = ${quant.thresholdFactor}·max|W|` : `REL factors ${branchFactors(quant).join(', ')}`;
      io.out.write(`Wrote ${path.join(outDir, MODEL_JSON)} (${quant.method}, t_ex = ${quant.tex}, ${threshold}, first/last ${quant.firstLast})\n\n`);
    }
    writeModelStats(twin, parsed.values.json === true, io.out);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    if (err instanceof ModelFileError) {
      io.err.write(`tern ternarize: ${err.message}\n`);
      return 1;
    }
    // convertToTernary's errors name the layer that cannot be converted and why.
    if (err instanceof Error && /^(Layer '|The model has no|quant\.method)/.test(err.message)) {
      io.err.write(`tern ternarize: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

export const command: CliCommand = {
  summary: 'Write the ternary twin of a float model.json or .onnx CNN and print its per-layer stats',
  usage,
  run: (argv) => run(argv),
};
