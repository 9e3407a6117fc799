/**
 * CSV text with RFC 4180 quoting (a field holding a comma, a quote, CR or LF is quoted, its quotes
 * doubled), for the export's metrics.csv and layers.csv (server/export/exportRun.ts, LF line
 * ends) and the dashboard's CSV download (webview/transforms/csv.ts, CRLF), and the columns of a
 * metrics record in both.
 */
import type { MetricsRecord } from './runRecords';

/** Text, a number (empty when not finite), a shape (`[3, 3, 1, 8]` → `3x3x1x8`) or nothing. */
export type CsvValue = string | number | boolean | null | undefined | readonly number[];

export function csvField(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  const text =
    typeof value === 'number' ? (Number.isFinite(value) ? String(value) : '') : Array.isArray(value) ? value.join('x') : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The header and the rows, each line ended by `lineEnd` (the last one too). */
export function csvText(header: readonly string[], rows: readonly (readonly CsvValue[])[], lineEnd: '\n' | '\r\n'): string {
  return [header, ...rows].map((row) => row.map(csvField).join(',')).join(lineEnd) + lineEnd;
}

/** The columns of a metrics record, in the order metrics.csv has them. */
export const METRIC_COLUMNS = [
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
