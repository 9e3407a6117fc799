/** CSV text per RFC 4180: CRLF line ends; a field with a comma, quote, CR or LF is quoted, quotes doubled. */
import type { MetricsRecord } from '../../shared/webviewProtocol';
import { csvText, METRIC_COLUMNS, type CsvValue } from '../../shared/csv';

export { csvField, type CsvValue } from '../../shared/csv';

/** CSV text with CRLF line ends, as RFC 4180 has them (spreadsheets on every system read it). */
export function toCsv(header: readonly string[], rows: readonly (readonly CsvValue[])[]): string {
  return csvText(header, rows, '\r\n');
}

export interface RunMetrics {
  /** Shown name of the run (experiment/run id). */
  run: string;
  runDir: string;
  records: readonly MetricsRecord[];
}

/** All metrics records of several runs, one row each, the run named in the first columns. */
export function metricsCsv(runs: readonly RunMetrics[]): string {
  const rows: CsvValue[][] = [];
  for (const run of runs) {
    for (const r of run.records) rows.push([run.run, run.runDir, ...METRIC_COLUMNS.map((c) => r[c])]);
  }
  return toCsv(['run', 'runDir', ...METRIC_COLUMNS], rows);
}
