/** `tern train`: runs one experiment of a config file and records it in a run folder. */
import { parseArgs } from 'node:util';
import { relative, resolve } from 'node:path';
import { UsageError, usageError, type CliCommand } from '../command';
import { printingListener, ProgressPrinter, stopOnCtrlC } from '../progress';
import { BACKEND_USAGE, BackendArgsError, backendOptionsFromArgs } from '../../backends/options';
import { initBackend } from '../../backends/ladder';
import { loadConfigFile, resolveExperiment } from '../../config/loadConfig';
import { defaultRunsDir, readRunHistory } from '../../runs';
import { formatLayerTable } from '../../stats';
import { ENGINE_USAGE, engineOptionsFromArgs } from '../../engines/args';
import { trainWithEngine } from '../../engines/dispatch';
import { sweepPointRun } from '../../runs/sweep';
import { integerOption } from '../../../shared/optionText';
import { isUserError } from '../../../shared/userError';
import type { ExperimentConfig } from '../../../shared/experimentConfig';

const usage = `Usage: tern train <config.tern.json> [options]

Trains one experiment of the config file and records the run in <runs-dir>/<experiment>/<run-id>/
(config.json, metrics.jsonl, layers.jsonl, histograms/, checkpoints/, model/, summary.json).

Options:
  --experiment NAME  the experiment to run (required when the file holds several)
  --epochs N         override train.epochs
  --runs-dir DIR     root of run folders (default: runs/ next to the config file)
  --resume RUN_DIR   continue a stopped or crashed run from its newest intact checkpoint (same
                     experiment and seed; the config argument may then be omitted); refused while
                     another process trains that run
  --sweep-point N    train point N (0-based) of the experiment's "sweep" instead of the experiment as
                     written; the run records the sweep and the point (tern sweep runs every point)
  --json             print JSON lines (one per metrics record, then the summary) instead of a progress bar
${BACKEND_USAGE}
${ENGINE_USAGE}

Ctrl-C (or SIGTERM) stops the run after the current batch (status "cancelled"; resume it with --resume).
Exit code: 0 when the run completes, 1 when it fails (bad config or data, NaN loss), 130 when cancelled.`;

/** A path relative to the working directory when it is inside it, else absolute. */
function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') ? rel : path;
}

async function run(argv: string[]): Promise<number> {
  let backendArgs;
  let engineArgs;
  try {
    engineArgs = engineOptionsFromArgs(argv);
    backendArgs = backendOptionsFromArgs(engineArgs.rest);
  } catch (err) {
    if (err instanceof BackendArgsError || (err instanceof Error && err.name === 'EngineError')) throw new UsageError(err.message);
    throw err;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: backendArgs.rest,
      allowPositionals: true,
      options: {
        experiment: { type: 'string' },
        epochs: { type: 'string' },
        'sweep-point': { type: 'string' },
        'runs-dir': { type: 'string' },
        resume: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length > 1) throw new UsageError(`expected one config file, got ${positionals.length}: ${positionals.join(' ')}`);
  const configArg = positionals[0];
  if (!configArg && !values.resume) throw new UsageError('missing the config file');
  const epochs = values.epochs === undefined ? undefined : integerOption('epochs', values.epochs, 1, usageError);
  const sweepPoint = values['sweep-point'] === undefined ? undefined : integerOption('sweep-point', values['sweep-point'], 0, usageError);
  const printer = new ProgressPrinter(values.json ? 'json' : process.stdout.isTTY ? 'tty' : 'plain');

  const ctrlC = stopOnCtrlC(printer, 'the run');
  try {
    let experiment: ExperimentConfig | undefined;
    let configPath: string | undefined;
    if (configArg) {
      configPath = resolve(configArg);
      const config = await loadConfigFile(configPath);
      experiment = resolveExperiment(config, values.experiment);
    }
    // A sweep's point: the experiment with the point's settings, tagged (server/runs/sweep.ts).
    const point = sweepPoint !== undefined && experiment && !values.resume ? sweepPointRun(experiment, sweepPoint) : undefined;
    const backend = await initBackend(backendArgs.options);
    const runsDir = values['runs-dir'] !== undefined ? resolve(values['runs-dir']) : defaultRunsDir(configPath);
    const result = await trainWithEngine({
      engine: engineArgs.engine,
      torch: engineArgs.torch,
      experiment: (point?.experiment ?? experiment)!,
      configPath,
      runsDir,
      resumeDir: values.resume,
      epochs,
      ...(point ? { sweep: point.sweep } : {}),
      signal: ctrlC.signal,
      backend: { name: backend.name, threads: backend.threads },
      listener: printingListener(printer),
    });
    printer.clearLine();
    const { summary, runDir } = result;
    if (values.json) {
      process.stdout.write(JSON.stringify({ kind: 'summary', runDir, ...summary }) + '\n');
    } else {
      const history = await readRunHistory(runDir);
      const last = history.layers[history.layers.length - 1];
      if (last) process.stdout.write('\n' + formatLayerTable(last.layers, last.summary) + '\n');
      const pct = (v: number) => `${(v * 100).toFixed(2)}%`;
      process.stdout.write(
        `\n${summary.status === 'completed' ? 'Completed' : summary.status === 'cancelled' ? 'Cancelled' : 'Failed'}: ${summary.epochs} epoch(s) in ${summary.wallSeconds.toFixed(1)} s on ${summary.backend}. ` +
          `Final top-1 ${pct(summary.final.top1)}, top-5 ${pct(summary.final.top5)}; best top-1 ${pct(summary.best.top1)} (epoch ${summary.best.epoch}). ` +
          `Size ${(summary.fp32Bytes / 1024).toFixed(1)} KiB fp32 → ${(summary.ternaryBytes / 1024).toFixed(1)} KiB ternary (${summary.compression.toFixed(1)}×).\n` +
          `Run files: ${displayPath(runDir)}\n`,
      );
    }
    if (summary.status === 'failed') {
      if (!values.json) process.stderr.write(`tern train: ${summary.reason ?? 'the run failed'}\n`);
      return 1;
    }
    return summary.status === 'cancelled' ? 130 : 0;
  } catch (err) {
    // A user's mistake (shared/userError.ts) is one line; anything else is a bug with its stack.
    if (!isUserError(err) || err.code === 'invalidArgument') throw err;
    const message = err.message;
    printer.clearLine();
    // --json: the error as a line too, with its code and data (the training server, which runs
    // this command as a process of its own, answers with them: server/rpc/detachedTrain.ts).
    if (values.json) process.stdout.write(JSON.stringify({ kind: 'error', code: err.code, message, data: err.data }) + '\n');
    process.stderr.write(`tern train: ${message}\n`);
    return 1;
  } finally {
    ctrlC.dispose();
  }
}

export const command: CliCommand = {
  summary: 'train an experiment of a *.tern.json config (progress bar, run folder, per-layer table)',
  usage,
  run,
};
