/** CSV text per RFC 4180: CRLF line ends; a field with a comma, quote, CR or LF is quoted, quotes doubled. */
import type { MetricsRecord } from '../../shared/webviewProtocol';

export type CsvValue = string | number | boolean | null | undefined;

export function csvField(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'number' ? (Number.isFinite(value) ? String(value) : '') : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function toCsv(header: readonly string[], rows: readonly (readonly CsvValue[])[]): string {
  return [header, ...rows].map((row) => row.map(csvField).join(',')).join('\r\n') + '\r\n';
}

export interface RunMetrics {
  /** Shown name of the run (experiment/run id). */
  run: string;
  runDir: string;
  records: readonly MetricsRecord[];
}

const metricColumns = [
  'kind',
  'epoch',
  'step',
  'progress',
  'lr',
  'loss',
  'top1',
  'top5',
  'valLoss',
  'valTop1',
  'valTop5',
  'imgPerSec',
  'time',
] as const satisfies readonly (keyof MetricsRecord)[];

/** All metrics records of several runs, one row each, the run named in the first columns. */
export function metricsCsv(runs: readonly RunMetrics[]): string {
  const rows: CsvValue[][] = [];
  for (const run of runs) {
    for (const r of run.records) rows.push([run.run, run.runDir, ...metricColumns.map((c) => r[c])]);
  }
  return toCsv(['run', 'runDir', ...metricColumns], rows);
}
