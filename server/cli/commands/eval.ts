/** `tern eval`: a run's final model (or a model.json) on an experiment's test data. */
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { UsageError, type CliCommand } from '../command';
import { BACKEND_USAGE, BackendArgsError, backendOptionsFromArgs } from '../../backends/options';
import { initBackend } from '../../backends/ladder';
import { loadConfigFile, resolveExperiment } from '../../config/loadConfig';
import { evaluateTarget } from '../../train/evaluate';
import { isUserError } from '../../../shared/userError';

const usage = `Usage: tern eval <run-dir | model.json> --config <config.tern.json> [options]

Evaluates the model (a run folder's final model/, or a model.json) on the test split of the
experiment's data and prints loss, top-1 and top-5.

Options:
  --config FILE      the config file giving the data (required)
  --experiment NAME  the experiment whose data to use (required when the file holds several)
  --json             print one JSON object instead of text
${BACKEND_USAGE}`;

async function run(argv: string[]): Promise<number> {
  let parsed;
  let backendArgs;
  try {
    backendArgs = backendOptionsFromArgs(argv);
    parsed = parseArgs({
      args: backendArgs.rest,
      allowPositionals: true,
      options: { config: { type: 'string' }, experiment: { type: 'string' }, json: { type: 'boolean', default: false } },
    });
  } catch (err) {
    if (err instanceof BackendArgsError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'))
      throw new UsageError((err as Error).message);
    throw err;
  }
  const [target, ...extra] = parsed.positionals;
  if (!target) throw new UsageError('missing the run folder or model.json');
  if (extra.length) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  if (!parsed.values.config) throw new UsageError('--config is required (it says where the test data is)');
  try {
    const configPath = resolve(parsed.values.config);
    const experiment = resolveExperiment(await loadConfigFile(configPath), parsed.values.experiment);
    const backend = await initBackend(backendArgs.options);
    const result = await evaluateTarget(target, experiment, configPath);
    if (parsed.values.json) {
      process.stdout.write(JSON.stringify({ ...result, experiment: experiment.name, backend: backend.name }) + '\n');
    } else {
      process.stdout.write(
        `${result.modelPath} on ${experiment.name} test data (${result.examples} examples, ${backend.name}): ` +
          `loss ${result.loss.toFixed(4)}, top-1 ${(result.top1 * 100).toFixed(2)}%, top-5 ${(result.top5 * 100).toFixed(2)}%\n`,
      );
    }
    return 0;
  } catch (err) {
    // A user's mistake (shared/userError.ts) is one line; anything else is a bug with its stack.
    if (!isUserError(err) || err.code === 'invalidArgument') throw err;
    const message = err.message;
    process.stderr.write(`tern eval: ${message}\n`);
    return 1;
  }
}

export const command: CliCommand = {
  summary: "evaluate a run or model.json on an experiment's test data (loss, top-1, top-5)",
  usage,
  run,
};
