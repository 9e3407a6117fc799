/** `tern export`: a run's model, metrics.csv, layers.csv and report.md in one folder. */
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { UsageError, type CliCommand } from '../command';
import { defaultExportDir, exportRun } from '../../export';
import { isUserError } from '../../../shared/userError';

const usage = `Usage: tern export <run-dir> [--out DIR]

Writes the run's final model (model/), metrics.csv (every metrics line), layers.csv (per layer,
last epoch) and report.md (summary, per-layer table, compression) into DIR
(default: ./ternary-export/<experiment>-<run-id>).`;

async function run(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { out: { type: 'string' } } });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const [runDir, ...extra] = parsed.positionals;
  if (!runDir) throw new UsageError('missing the run folder');
  if (extra.length) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  try {
    let experiment: string | undefined;
    try {
      experiment = (JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')) as { experiment?: { name?: string } }).experiment?.name;
    } catch {
      // exportRun reports a missing or unreadable run folder.
    }
    const outDir = resolve(parsed.values.out ?? defaultExportDir(process.cwd(), runDir, experiment));
    const result = await exportRun(runDir, outDir);
    process.stdout.write(`Exported ${result.files.length} files to ${relative(process.cwd(), result.outDir) || result.outDir}:\n${result.files.map((f) => `  ${f}`).join('\n')}\n`);
    return 0;
  } catch (err) {
    // A user's mistake (shared/userError.ts) is one line; anything else is a bug with its stack.
    if (!isUserError(err) || err.code === 'invalidArgument') throw err;
    const message = err.message;
    process.stderr.write(`tern export: ${message}\n`);
    return 1;
  }
}

export const command: CliCommand = {
  summary: 'export a run: model, metrics.csv, layers.csv, report.md',
  usage,
  run,
};
