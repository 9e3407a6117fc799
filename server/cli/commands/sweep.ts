/** `tern sweep`: trains every point of an experiment's sweep, one run after another, and prints the trade-off table. */
import { parseArgs } from 'node:util';
import { formatBytes, formatPercent } from '../../../shared/format';
import { resolve } from 'node:path';
import { applyEdits, modify, parse } from 'jsonc-parser';
import { UsageError, usageError, type CliCommand } from '../command';
import { printingListener, ProgressPrinter, stopOnCtrlC } from '../progress';
import { BACKEND_USAGE, BackendArgsError, backendOptionsFromArgs } from '../../backends/options';
import { initBackend } from '../../backends/ladder';
import { ConfigError, parseConfigText, readConfigText, resolveExperiment } from '../../config/loadConfig';
import { defaultRunsDir } from '../../runs';
import { planSweep, readTradeoffRow, sweepPointRun } from '../../runs/sweep';
import { trainWithEngine } from '../../engines/dispatch';
import { integerOption } from '../../../shared/optionText';
import { isUserError } from '../../../shared/userError';
import { pointLabel, type SweepValue, type TradeoffRow } from '../../../shared/sweep';

const usage = `Usage: tern sweep <config.tern.json> [--experiment NAME] [--set KEY=V1,V2,…]… [options]

Trains every point of the experiment's "sweep" (docs/configs.md) one after another, each a normal
run folder whose config.json and summary.json name the sweep and the point, then prints one row per
point: the settings, final top-1, bits per weight and size (as model.tern stores it), sparsity.
Running the same sweep again skips the points that completed and resumes those that stopped.

Options:
  --experiment NAME   the experiment (required when the file holds several)
  --set KEY=V1,V2     sweep KEY over these values (e.g. --set quant.tex=1,2,4); replaces the
                      config's values for KEY, adds KEY otherwise; repeatable
  --epochs N          override train.epochs of every point
  --runs-dir DIR      root of run folders (default: runs/ next to the config file)
  --json              JSON lines: each run's metrics records, then {"kind": "sweep", "sweepId", "rows"}
${BACKEND_USAGE}

Ctrl-C stops the running point after the current batch and ends the sweep (run it again to resume).
Exit code: 0 when every point completed, 1 when one failed, 130 when cancelled.`;

/** `1,2,4` → [1, 2, 4]; `fixed,optimal` → strings; `true`/`false` → booleans. */
export function parseSetValues(text: string): SweepValue[] {
  return text.split(',').map((v) => {
    const t = v.trim();
    if (t === 'true' || t === 'false') return t === 'true';
    return t !== '' && Number.isFinite(Number(t)) ? Number(t) : t;
  });
}

/** The config text with each `--set` written into the experiment's sweep, so the loader checks them as it checks the file. */
function withSets(text: string, experimentIndex: number, sets: string[]): string {
  let out = text;
  for (const set of sets) {
    const eq = set.indexOf('=');
    if (eq <= 0 || eq === set.length - 1) throw new UsageError(`--set ${set}: expected KEY=V1,V2 (e.g. --set quant.tex=1,2,4).`);
    const edits = modify(out, ['experiments', experimentIndex, 'sweep', set.slice(0, eq)], parseSetValues(set.slice(eq + 1)), {
      formattingOptions: { insertSpaces: true, tabSize: 2 },
    });
    out = applyEdits(out, edits);
  }
  return out;
}

/** The config with the `--set`s written in; a bad `--set` value is reported as the option's mistake, not the file's. */
function parseSwept(text: string, configPath: string, sets: string[]): ReturnType<typeof parseConfigText> {
  try {
    return parseConfigText(text, configPath);
  } catch (err) {
    const key = err instanceof ConfigError ? /\.sweep\.(.+?)(\[\d+\])?$/.exec(err.property ?? '')?.[1] : undefined;
    const set = key === undefined ? undefined : sets.find((s) => s.startsWith(`${key}=`));
    if (set && err instanceof ConfigError) throw new UsageError(`--set ${set}: ${err.detail}`);
    throw err;
  }
}

const pct = (v: number | undefined) => (v === undefined ? '—' : formatPercent(v, 2));

/** The table `tern sweep` prints: one row per point. */
export function formatSweepTable(rows: { index: number; label: string; row?: TradeoffRow }[]): string {
  const header = ['#', 'settings', 'status', 'top-1', 'bits/weight', 'size', 'sparsity'];
  const body = rows.map(({ index, label, row }) => [
    String(index + 1),
    label,
    row?.status ?? 'not run',
    pct(row?.top1),
    row ? row.bitsPerWeight.toFixed(2) : '—',
    row ? formatBytes(row.bytes) : '—',
    row ? pct(row.sparsity) : '—',
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((r) => r[c].length)));
  const line = (r: string[]) => r.map((cell, c) => (c <= 2 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  return [line(header), widths.map((w) => '─'.repeat(w)).join('──'), ...body.map(line)].join('\n');
}

async function run(argv: string[]): Promise<number> {
  let backendArgs;
  try {
    backendArgs = backendOptionsFromArgs(argv);
  } catch (err) {
    if (err instanceof BackendArgsError) throw new UsageError(err.message);
    throw err;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: backendArgs.rest,
      allowPositionals: true,
      options: {
        experiment: { type: 'string' },
        set: { type: 'string', multiple: true, default: [] },
        epochs: { type: 'string' },
        'runs-dir': { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1)
    throw new UsageError(positionals.length ? `expected one config file, got ${positionals.join(' ')}` : 'missing the config file');
  const epochs = values.epochs === undefined ? undefined : integerOption('epochs', values.epochs, 1, usageError);
  const printer = new ProgressPrinter(values.json ? 'json' : process.stdout.isTTY ? 'tty' : 'plain');
  // Stopping the running point ends the sweep; running it again resumes it (server/runs/sweep.ts).
  const ctrlC = stopOnCtrlC(printer, 'the sweep (run it again to resume)');
  try {
    const configPath = resolve(positionals[0]);
    let text = await readConfigText(configPath);
    if (values.set.length) {
      const names = ((parse(text) as { experiments?: { name?: unknown }[] } | undefined)?.experiments ?? []).map((e) => e?.name);
      const index = values.experiment === undefined && names.length === 1 ? 0 : names.indexOf(values.experiment);
      // An unknown name is reported by resolveExperiment below, with the names the file has.
      if (index >= 0) text = withSets(text, index, values.set);
    }
    const experiment = resolveExperiment(parseSwept(text, configPath, values.set), values.experiment);
    const runsDir = values['runs-dir'] !== undefined ? resolve(values['runs-dir']) : defaultRunsDir(configPath);
    const plan = await planSweep(experiment, runsDir);
    const backend = await initBackend(backendArgs.options);
    const runDirs = new Map<number, string>();
    let failed = false;
    let cancelled = false;
    for (const p of plan.points) {
      if (p.runDir) runDirs.set(p.index, p.runDir);
      if (p.action === 'done' || cancelled) continue;
      printer.log(
        'info',
        `Sweep ${plan.sweepId}, point ${p.index + 1}/${plan.points.length}: ${pointLabel(p.point)}${p.action === 'resume' ? ' (resuming)' : ''}`,
      );
      const point = p.action === 'train' ? sweepPointRun(experiment, p.index) : undefined;
      const result = await trainWithEngine({
        experiment: point?.experiment ?? experiment,
        configPath,
        runsDir,
        ...(p.action === 'resume' ? { resumeDir: p.runDir } : {}),
        ...(point ? { sweep: point.sweep } : {}),
        epochs,
        signal: ctrlC.signal,
        backend: { name: backend.name, threads: backend.threads },
        listener: printingListener(printer),
      });
      printer.clearLine();
      runDirs.set(p.index, result.runDir);
      if (result.summary.status === 'cancelled') cancelled = true;
      if (result.summary.status === 'failed') {
        failed = true;
        printer.log('error', `point ${p.index + 1} failed: ${result.summary.reason ?? 'see its run folder'}`);
      }
    }
    const rows = await Promise.all(
      plan.points.map(async (p) => {
        const dir = runDirs.get(p.index);
        return { index: p.index, label: pointLabel(p.point), point: p.point, row: dir ? await readTradeoffRow(dir) : undefined };
      }),
    );
    if (values.json) {
      process.stdout.write(
        JSON.stringify({
          kind: 'sweep',
          sweepId: plan.sweepId,
          experiment: plan.experiment,
          rows: rows.map(({ index, point, row }) => ({ index, point, ...row })),
        }) + '\n',
      );
    } else {
      process.stdout.write(`\nSweep ${plan.sweepId} (${plan.points.length} points):\n${formatSweepTable(rows)}\n`);
    }
    return cancelled ? 130 : failed ? 1 : 0;
  } catch (err) {
    if (!isUserError(err) || err.code === 'invalidArgument') throw err;
    printer.clearLine();
    process.stderr.write(`tern sweep: ${err.message}\n`);
    return 1;
  } finally {
    ctrlC.dispose();
  }
}

export const command: CliCommand = {
  summary: "train every point of an experiment's sweep and print the accuracy–size trade-off table",
  usage,
  run,
};
