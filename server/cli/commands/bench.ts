/** `tern bench`: training-step throughput of a zoo model, float and ternary (BENCHMARKS.md). */
import { parseArgs } from 'node:util';
import { parsingArgs, usageError, type CliCommand } from '../command';
import { BACKEND_USAGE, backendOptionsFromArgs } from '../../backends/options';
import { describeBackend, initBackend } from '../../backends/ladder';
import { isUserError } from '../../../shared/userError';
import { benchCases, benchTrainStep, type BenchMode, type BenchResult } from '../../bench/trainStep';
import { integerOption, listOption } from '../../../shared/optionText';
import { TEX_VALUES, THRESHOLD_MODES, type ThresholdMode } from '../../../shared/quant';

const usage = `Usage: tern bench [options]

Times full training steps (forward, softmax cross-entropy, backward, SGD-momentum update of every
trainable variable) on one random batch of the model's input shape, and prints images per second.

Options:
  --model NAME     zoo architecture (default resnet20)
  --batch N        batch size (default 128)
  --mode LIST      fp, tern or fp,tern (default fp,tern)
  --tex LIST       REL expansions for tern: any of 1,2,4 (default 1,2,4)
  --threshold LIST threshold rules for tern: fixed, optimal or fixed,optimal (default fixed)
  --classes N      number of classes (default 10)
  --steps N        timed steps per case (default 10)
  --warmup N       untimed steps first (default 2)
  --seed N         weights and batch seed (default 1)
  --json           one JSON line per case instead of a table
${BACKEND_USAGE}`;

function table(rows: BenchResult[]): string {
  const header = ['model', 'mode', 'tex', 'threshold', 'batch', 'ms/step', 'img/s', 'vs fp', 'cpu ms/step'];
  const fp = rows.find((r) => r.mode === 'fp');
  const body = rows.map((r) => [
    r.model,
    r.mode,
    r.tex === null ? '-' : String(r.tex),
    r.mode === 'fp' ? '-' : (r.threshold ?? 'fixed'),
    String(r.batch),
    r.msPerStep.toFixed(1),
    r.imgPerSec.toFixed(1),
    fp ? `${(r.msPerStep / fp.msPerStep).toFixed(2)}×` : '-',
    r.cpuMsPerStep.toFixed(1),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  return [header, ...body].map((row) => row.map((cell, i) => cell.padStart(widths[i]!)).join('  ')).join('\n');
}

async function run(argv: string[]): Promise<number> {
  const backendArgs = parsingArgs(() => backendOptionsFromArgs(argv));
  const { values } = parsingArgs(() =>
    parseArgs({
      args: backendArgs.rest,
      options: {
        model: { type: 'string', default: 'resnet20' },
        batch: { type: 'string', default: '128' },
        mode: { type: 'string', default: 'fp,tern' },
        tex: { type: 'string', default: '1,2,4' },
        threshold: { type: 'string', default: 'fixed' },
        classes: { type: 'string', default: '10' },
        steps: { type: 'string', default: '10' },
        warmup: { type: 'string', default: '2' },
        seed: { type: 'string', default: '1' },
        json: { type: 'boolean', default: false },
      },
    }),
  );
  const modes = listOption<BenchMode>('mode', values.mode, ['fp', 'tern'], (s) => s as BenchMode, usageError);
  const texes = listOption('tex', values.tex, TEX_VALUES, (s) => Number(s) as 1 | 2 | 4, usageError);
  const thresholds = listOption('threshold', values.threshold, THRESHOLD_MODES, (s) => s as ThresholdMode, usageError);
  const batch = integerOption('batch', values.batch, 1, usageError);
  const settings = {
    classes: integerOption('classes', values.classes, 1, usageError),
    steps: integerOption('steps', values.steps, 1, usageError),
    warmup: integerOption('warmup', values.warmup, 0, usageError),
    seed: integerOption('seed', values.seed, 1, usageError),
  };

  let backend;
  try {
    backend = await initBackend(backendArgs.options);
  } catch (err) {
    // A backend this machine cannot start (code `unavailable`): one line, as every command.
    if (!isUserError(err) || err.code !== 'unavailable') throw err;
    process.stderr.write(`tern bench: ${err.message}\n`);
    return 1;
  }
  // The backend line goes to stderr with --json so stdout stays pure JSON lines.
  (values.json ? process.stderr : process.stdout).write(`${describeBackend(backend)}\n`);

  const results: BenchResult[] = [];
  for (const c of benchCases(values.model, batch, modes, texes, thresholds)) {
    let result: BenchResult;
    try {
      result = await benchTrainStep(c, settings);
    } catch (err) {
      process.stderr.write(
        `tern bench: ${c.model} ${c.mode}${c.tex ? ` tex ${c.tex}` : ''}${c.threshold === 'optimal' ? ' optimal' : ''}: ${err instanceof Error ? err.message : String(err)}\n`,
      );
      return 1;
    }
    results.push(result);
    if (values.json) {
      process.stdout.write(JSON.stringify({ backend: backend.name, threads: backend.threads, ...result }) + '\n');
    } else if (result.tensorsLeaked !== 0) {
      process.stderr.write(`tern bench: warning: ${result.tensorsLeaked} tensors leaked during the timed steps\n`);
    }
  }
  if (!values.json) process.stdout.write(table(results) + '\n');
  return 0;
}

export const command: CliCommand = {
  summary: 'time training steps (img/s) of a model, float and ternary',
  usage,
  run,
};
