/** `tern train`: runs one experiment of a config file and records it in a run folder. */
import { formatDuration, formatPercent, formatQuantity, formatSizeChange } from '../../../shared/format';
import { parseArgs } from 'node:util';
import { relative } from 'node:path';
import { parsingArgs, UsageError, usageError, userMistakeOf, type CliCommand } from '../command';
import { printingListener, ProgressPrinter, stopOnCtrlC } from '../progress';
import { BACKEND_USAGE, backendOptionsFromArgs } from '../../backends/options';
import { initBackend } from '../../backends/ladder';
import { readRunHistory } from '../../runs';
import { formatLayerTable } from '../../stats';
import { ENGINE_USAGE, engineOptionsFromArgs } from '../../engines/args';
import { trainExperiment } from '../../jobs/train';
import { integerOption } from '../../../shared/optionText';

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
  // A bad engine or backend option is a UserError `invalidArgument`: usage and exit code 2 (server/cli/main.ts).
  const engineArgs = engineOptionsFromArgs(argv);
  const backendArgs = backendOptionsFromArgs(engineArgs.rest);
  const parsed = parsingArgs(() =>
    parseArgs({
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
    }),
  );
  const { values, positionals } = parsed;
  if (positionals.length > 1) throw new UsageError(`expected one config file, got ${positionals.length}: ${positionals.join(' ')}`);
  const configArg = positionals[0];
  if (!configArg && !values.resume) throw new UsageError('missing the config file');
  const epochs = values.epochs === undefined ? undefined : integerOption('epochs', values.epochs, 1, usageError);
  const sweepPoint = values['sweep-point'] === undefined ? undefined : integerOption('sweep-point', values['sweep-point'], 0, usageError);
  const printer = new ProgressPrinter(values.json ? 'json' : process.stdout.isTTY ? 'tty' : 'plain');

  const ctrlC = stopOnCtrlC(printer, 'the run');
  try {
    const backend = await initBackend(backendArgs.options);
    const result = await trainExperiment({
      engine: engineArgs.engine,
      torch: engineArgs.torch,
      experiment: values.experiment,
      configPath: configArg,
      runsDir: values['runs-dir'],
      sweepPoint,
      resumeDir: values.resume,
      epochs,
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
      process.stdout.write(
        `\n${summary.status === 'completed' ? 'Completed' : summary.status === 'cancelled' ? 'Cancelled' : 'Failed'}: ${formatQuantity(summary.epochs, 'epoch')} in ${formatDuration(summary.wallSeconds)} on ${summary.backend}. ` +
          `Final top-1 ${formatPercent(summary.final.top1, 2)}, top-5 ${formatPercent(summary.final.top5, 2)}; best top-1 ${formatPercent(summary.best.top1, 2)} (epoch ${summary.best.epoch}). ` +
          `Size ${formatSizeChange(summary.fp32Bytes, summary.ternaryBytes)}, float32 → ternary.\n` +
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
    const mistake = userMistakeOf(err);
    if (!mistake || mistake.code === 'invalidArgument') throw err;
    printer.clearLine();
    // --json: the error as a line too, with its code and data (the training server, which runs
    // this command as a process of its own, answers with them: server/rpc/detachedTrain.ts).
    if (values.json)
      process.stdout.write(JSON.stringify({ kind: 'error', code: mistake.code, message: mistake.message, data: mistake.data }) + '\n');
    process.stderr.write(`tern train: ${mistake.message}\n`);
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
