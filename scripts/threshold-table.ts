/**
 * The fixed-vs-optimal threshold comparison of BENCHMARKS.md from finished runs: for each t_ex and
 * threshold rule, the mean and spread over seeds of the final test top-1, and of the last epoch's
 * layers record the share of zeros among ternary weights and the
 * relative reconstruction error ‖W − Ŵ‖/‖W‖ (weighted by each layer's weight count, and fc1's,
 * the 401 K-weight layer that holds 95 % of fmnist-cnn's weights), with the bits each packed ternary
 * weight takes (shared/quant.ts codeBits).
 *
 *   node --import tsx scripts/threshold-table.ts RUN_DIR_OR_ROOT… [--json]
 *
 * Each argument is a run folder or a folder searched for run folders (those holding summary.json).
 * Runs are grouped by config.json's quant.tex and quant.threshold; only completed runs count. A
 * layers record without relError (runs older than the field) is left out of that mean only.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { formatPercent } from '../shared/format';
import { codeBits } from '../shared/quant';
import type { LayersRecord, RunConfigRecord, RunSummary } from '../shared/runRecords';

interface RunRow {
  runDir: string;
  tex: number;
  threshold: string;
  seed: number;
  top1: number;
  bitsPerWeight: number;
  zeros: number;
  relError: number;
  fc1RelError: number;
}

function runDirsUnder(dir: string): string[] {
  if (existsSync(join(dir, 'summary.json'))) return [dir];
  return readdirSync(dir)
    .map((name) => join(dir, name))
    .filter((p) => statSync(p).isDirectory())
    .flatMap(runDirsUnder);
}

function rowOf(runDir: string): RunRow | undefined {
  const summary = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as RunSummary;
  if (summary.status !== 'completed' || summary.final?.top1 === undefined) return undefined;
  const config = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')) as RunConfigRecord;
  const quant = config.experiment.quant;
  if (quant.method === 'none') return undefined;
  const lines = readFileSync(join(runDir, 'layers.jsonl'), 'utf8').trim().split('\n');
  const last = JSON.parse(lines[lines.length - 1]!) as LayersRecord;
  const ternary = last.layers.filter((l) => l.ternary);
  const weights = ternary.reduce((n, l) => n + l.params, 0);
  const weighted = (f: (l: (typeof ternary)[number]) => number) => ternary.reduce((s, l) => s + f(l) * l.params, 0) / weights;
  return {
    runDir,
    tex: quant.tex,
    threshold: quant.threshold,
    seed: config.seed,
    top1: summary.final.top1,
    // The packing rule of today (shared/quant.ts), not the record's: older runs recorded an older one.
    bitsPerWeight: codeBits(quant),
    zeros: weighted((l) => l.sparsity),
    relError: weighted((l) => l.relError ?? NaN),
    fc1RelError: ternary.find((l) => l.layer === 'fc1')?.relError ?? NaN,
  };
}

/** Mean of the finite values (layers records written before relError was recorded lack it). */
const mean = (xs: number[]) => {
  const known = xs.filter(Number.isFinite);
  return known.length ? known.reduce((a, b) => a + b, 0) / known.length : NaN;
};

const args = process.argv.slice(2).filter((a) => a !== '--json');
const rows = args
  .flatMap(runDirsUnder)
  .map(rowOf)
  .filter((r): r is RunRow => r !== undefined);
const groups = new Map<string, RunRow[]>();
for (const r of rows.sort((a, b) => a.tex - b.tex || a.threshold.localeCompare(b.threshold) || a.seed - b.seed)) {
  const key = `${r.tex} ${r.threshold}`;
  groups.set(key, [...(groups.get(key) ?? []), r]);
}
const table = [...groups.values()].map((runs) => ({
  tex: runs[0]!.tex,
  threshold: runs[0]!.threshold,
  seeds: runs.map((r) => r.seed),
  top1: runs.map((r) => r.top1),
  meanTop1: mean(runs.map((r) => r.top1)),
  spread: Math.max(...runs.map((r) => r.top1)) - Math.min(...runs.map((r) => r.top1)),
  bitsPerWeight: mean(runs.map((r) => r.bitsPerWeight)),
  zeros: mean(runs.map((r) => r.zeros)),
  relError: mean(runs.map((r) => r.relError)),
  fc1RelError: mean(runs.map((r) => r.fc1RelError)),
  runDirs: runs.map((r) => r.runDir),
}));
if (process.argv.includes('--json')) {
  process.stdout.write(JSON.stringify(table, null, 2) + '\n');
} else {
  const pct = (x: number) => formatPercent(x, 2);
  console.log(
    '| t_ex | thresholds | seeds | test top-1 per seed | mean | spread (points) | bits/weight | zeros | ‖W − Ŵ‖/‖W‖ (weighted) | fc1 |',
  );
  console.log('|---:|---|---|---|---:|---:|---:|---:|---:|---:|');
  for (const g of table) {
    console.log(
      `| ${g.tex} | ${g.threshold} | ${g.seeds.join(', ')} | ${g.top1.map(pct).join(' / ')} | **${pct(g.meanTop1)}** | ${(100 * g.spread).toFixed(2)} | ${g.bitsPerWeight.toFixed(2)} | ${pct(g.zeros)} | ${g.relError.toFixed(3)} | ${g.fc1RelError.toFixed(3)} |`,
    );
  }
}
