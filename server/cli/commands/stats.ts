/** `tern stats`: per-layer Δ, α, sparsity, −α/0/+α counts, bits, and the model's size, from a model.json. */
import { parseArgs } from 'node:util';
import { initBackend } from '../../backends/ladder';
import { onePositional, parsingArgs, reportingUserErrors, type CliCommand } from '../command';
import { statsOfModelFile } from '../../jobs/stats';
import { writeModelStats } from '../../stats/report';

const usage = `Usage: tern stats <model.json | model-folder | run-dir> [--json]

Prints, for every conv/dense layer: type, kernel shape, parameters, bits, and for ternary layers
Δ, α, sparsity, the relative reconstruction error ‖W − Ŵ‖/‖W‖ (Rel. err) and the counts of
−α / 0 / +α (one extra row per REL branch); then the model's
size in float32 and packed as model.tern stores the ternary kernels, and the compression ratio.

Options:
  --json   one JSON object per layer per line (layer, type, ternary, shape, params, bits, delta,
           alpha, sparsity, counts {neg, zero, pos}, branches, relError, threshold), then {"summary": {...}}`;

/** Where a command writes; tests pass buffers (the test runner owns the process's stdout). */
export interface CommandIO {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

export async function run(argv: string[], io: CommandIO = { out: process.stdout, err: process.stderr }): Promise<number> {
  const parsed = parsingArgs(() =>
    parseArgs({ args: argv, allowPositionals: true, options: { json: { type: 'boolean', default: false } } }),
  );
  const target = onePositional(parsed.positionals, 'missing the model.json (or a folder containing one)');
  // Statistics read weights on the host: the plain cpu backend is all they need.
  await initBackend({ backend: 'cpu' });
  return reportingUserErrors('stats', io.err, async () => {
    writeModelStats(await statsOfModelFile(target), parsed.values.json === true, io.out);
    return 0;
  });
}

export const command: CliCommand = {
  summary: 'Per-layer Δ, α, sparsity, ternary counts and model size of a model.json',
  usage,
  run: (argv) => run(argv),
};
