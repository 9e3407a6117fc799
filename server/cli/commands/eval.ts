/** `tern eval`: a run's final model (or a model.json) on an experiment's test data. */
import { formatNumber, formatPercent, formatQuantity } from '../../../shared/format';
import { parseArgs } from 'node:util';
import { onePositional, parsingArgs, reportingUserErrors, UsageError, type CliCommand } from '../command';
import { BACKEND_USAGE, backendOptionsFromArgs } from '../../backends/options';
import { initBackend } from '../../backends/ladder';
import { evaluate } from '../../jobs/evaluate';

const usage = `Usage: tern eval <run-dir | model.json> --config <config.tern.json> [options]

Evaluates the model (a run folder's final model/, or a model.json) on the test split of the
experiment's data and prints loss, top-1 and top-5.

Options:
  --config FILE      the config file giving the data (required)
  --experiment NAME  the experiment whose data to use (required when the file holds several)
  --json             print one JSON object instead of text
${BACKEND_USAGE}`;

async function run(argv: string[]): Promise<number> {
  const backendArgs = parsingArgs(() => backendOptionsFromArgs(argv));
  const parsed = parsingArgs(() =>
    parseArgs({
      args: backendArgs.rest,
      allowPositionals: true,
      options: { config: { type: 'string' }, experiment: { type: 'string' }, json: { type: 'boolean', default: false } },
    }),
  );
  const target = onePositional(parsed.positionals, 'missing the run folder or model.json');
  const config = parsed.values.config;
  if (!config) throw new UsageError('--config is required (it says where the test data is)');
  return reportingUserErrors('eval', process.stderr, async () => {
    const backend = await initBackend(backendArgs.options);
    const result = await evaluate({ target, configPath: config, experiment: parsed.values.experiment });
    if (parsed.values.json) {
      process.stdout.write(JSON.stringify({ ...result, backend: backend.name }) + '\n');
    } else {
      process.stdout.write(
        `${result.modelPath} on ${result.experiment} test data (${formatQuantity(result.examples, 'example')}, ${backend.name}): ` +
          `loss ${formatNumber(result.loss, 4)}, top-1 ${formatPercent(result.top1, 2)}, top-5 ${formatPercent(result.top5, 2)}\n`,
      );
    }
    return 0;
  });
}

export const command: CliCommand = {
  summary: "evaluate a run or model.json on an experiment's test data (loss, top-1, top-5)",
  usage,
  run,
};
