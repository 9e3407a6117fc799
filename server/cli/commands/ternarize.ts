/** `tern ternarize`: the ternary twin of a float model.json, written with its per-layer stats. */
import { formatBytes } from '../../../shared/format';
import { parseArgs } from 'node:util';
import * as path from 'node:path';
import { initBackend } from '../../backends/ladder';
import { onePositional, parsingArgs, reportingUserErrors, UsageError, type CliCommand } from '../command';
import { numberFromText, parseTernaryQuant, QUANT_DEFAULTS, THRESHOLD_FACTOR_RANGE, type TernaryQuant } from '../../../shared/quant';
import { ternarizeModel } from '../../jobs/ternarize';
import { branchFactors } from '../../core/quantizer';
import { writeModelStats } from '../../stats/report';
import type { CommandIO } from './stats';

const usage = `Usage: tern ternarize <model.json | model-folder | model.onnx> --out DIR [options]

Rewrites every Conv2D as TernaryConv2D and every Dense as TernaryDense (the float weights become
the latent weights), writes DIR/model.json + DIR/weights.bin (float32, as large as the input: the
latent weights, to fine-tune or export), and prints the per-layer stats; \`tern export DIR\` packs
it to 2 bits a ternary weight (model.tern, model.onnx).
An .onnx CNN is imported first (NCHW → NHWC; supported ops in docs/onnx-import.md).

Options:
  --out DIR                 output folder (required; not the input's folder, nor a link to it)
  --method he2019|twn       ternarization rule (default ${QUANT_DEFAULTS.method})
  --threshold-factor F      f in Δ = f·max|W|, ${THRESHOLD_FACTOR_RANGE.min} ≤ F ≤ ${THRESHOLD_FACTOR_RANGE.max} (default ${QUANT_DEFAULTS.thresholdFactor}; he2019 with --tex 1)
  --threshold fixed|optimal  fixed factors of max|W|, or least-squares Δ and α per layer (default ${QUANT_DEFAULTS.threshold}; he2019)
  --tex 1|2|4               REL branches (default ${QUANT_DEFAULTS.tex})
  --first-last ternary|float  keep the first and last conv/dense layers float (default ${QUANT_DEFAULTS.firstLast})
  --json                    stats as JSON lines (as tern stats --json)`;

/** How the quantization settings are called on this command line, for parseTernaryQuant's messages. */
const OPTION_NAMES = {
  method: '--method',
  thresholdFactor: '--threshold-factor',
  threshold: '--threshold',
  tex: '--tex',
  firstLast: '--first-last',
};

/** The quantization settings from the command line; a UserError (`invalidArgument`) names the bad option. */
export function quantFromArgs(values: {
  method?: string;
  'threshold-factor'?: string;
  threshold?: string;
  tex?: string;
  'first-last'?: string;
}): TernaryQuant {
  return parseTernaryQuant(
    {
      method: values.method,
      thresholdFactor: numberFromText(values['threshold-factor']),
      threshold: values.threshold,
      tex: numberFromText(values.tex),
      firstLast: values['first-last'],
    },
    OPTION_NAMES,
  );
}

export async function run(argv: string[], io: CommandIO = { out: process.stdout, err: process.stderr }): Promise<number> {
  const parsed = parsingArgs(() =>
    parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        out: { type: 'string' },
        method: { type: 'string' },
        'threshold-factor': { type: 'string' },
        threshold: { type: 'string' },
        tex: { type: 'string' },
        'first-last': { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    }),
  );
  const target = onePositional(parsed.positionals, 'missing the float model.json (or a folder containing one, or an .onnx file)');
  if (!parsed.values.out) throw new UsageError('--out DIR is required (where the ternary model is written)');
  const quant = quantFromArgs(parsed.values);
  // Conversion rewrites JSON and copies weights: the plain cpu backend is all it needs.
  await initBackend({ backend: 'cpu' });
  const out = parsed.values.out;
  return reportingUserErrors('ternarize', io.err, async () => {
    const result = await ternarizeModel({ modelPath: target, outDir: out, quant, outOption: '--out' });
    if (!parsed.values.json) {
      const threshold =
        quant.method === 'twn'
          ? 'Δ = 0.7·mean|W|'
          : quant.threshold === 'optimal'
            ? `least-squares Δ, α per layer${quant.tex > 1 ? ' and branch' : ''}`
            : quant.tex === 1
              ? `Δ = ${quant.thresholdFactor}·max|W|`
              : `REL factors ${branchFactors(quant).join(', ')}`;
      const size = result.files.reduce((sum, f) => sum + f.bytes, 0);
      io.out.write(
        `Wrote ${result.files.map((f) => path.join(result.outDir, f.path)).join(' + ')} (${formatBytes(size)}: the float32 latent weights, ` +
          `to fine-tune or to pack with \`tern export\`; ${quant.method}, t_ex = ${quant.tex}, ${threshold}, first/last ${quant.firstLast})\n\n`,
      );
    }
    writeModelStats(result, parsed.values.json === true, io.out);
    return 0;
  });
}

export const command: CliCommand = {
  summary: 'Write the ternary twin of a float model.json or .onnx CNN and print its per-layer stats',
  usage,
  run: (argv) => run(argv),
};
