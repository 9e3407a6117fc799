/** From metrics.jsonl / layers.jsonl records to chart series (x = position in epochs). */
import type { LayersRecord, MetricsRecord } from '../../shared/webviewProtocol';
import { epochPosition } from '../../shared/progressText';
import type { XYSeries } from './align';

export type MetricName = 'loss' | 'top1' | 'top5' | 'lr' | 'valLoss' | 'valTop1' | 'valTop5';

/** Metrics that are only on epoch lines (validation). */
const epochOnly: ReadonlySet<MetricName> = new Set(['valLoss', 'valTop1', 'valTop5']);

/**
 * One metric of one run over epochs. Training metrics come from batch lines (their running
 * means), with the epoch line closing each epoch; validation metrics from epoch lines.
 */
export function metricSeries(records: readonly MetricsRecord[], metric: MetricName): XYSeries {
  const x: number[] = [];
  const y: (number | null)[] = [];
  for (const r of records) {
    if (epochOnly.has(metric) && r.kind !== 'epoch') continue;
    const v = r[metric];
    if (v === undefined) continue;
    x.push(epochPosition(r));
    y.push(typeof v === 'number' && Number.isFinite(v) ? v : null);
  }
  return { x, y };
}

function recordKey(r: MetricsRecord): string {
  return `${r.kind}:${r.step}:${r.epoch}`;
}

/**
 * Adds records to a run's list without duplicates (a history read from disk and live
 * notifications overlap) and keeps it ordered by step, epoch lines after the batch lines of
 * their step. Returns the number of records added.
 */
export function mergeMetrics(into: MetricsRecord[], seen: Set<string>, incoming: readonly MetricsRecord[]): number {
  let added = 0;
  let ordered = true;
  for (const r of incoming) {
    const key = recordKey(r);
    if (seen.has(key)) continue;
    seen.add(key);
    const prev = into[into.length - 1];
    if (prev && compareRecords(prev, r) > 0) ordered = false;
    into.push(r);
    added++;
  }
  if (!ordered) into.sort(compareRecords);
  return added;
}

function compareRecords(a: MetricsRecord, b: MetricsRecord): number {
  return a.step - b.step || (a.kind === b.kind ? 0 : a.kind === 'batch' ? -1 : 1);
}

/** Per-layer sparsity (fraction of zeros, first branch) over epochs, one series per layer in model order. */
export function sparsitySeries(records: readonly LayersRecord[]): { layer: string; series: XYSeries }[] {
  const byLayer = new Map<string, { x: number[]; y: (number | null)[] }>();
  const sorted = [...records].sort((a, b) => a.epoch - b.epoch);
  for (const rec of sorted) {
    for (const l of rec.layers) {
      if (!l.ternary) continue;
      let s = byLayer.get(l.layer);
      if (!s) byLayer.set(l.layer, (s = { x: [], y: [] }));
      s.x.push(rec.epoch);
      s.y.push(Number.isFinite(l.sparsity) ? l.sparsity : null);
    }
  }
  return [...byLayer].map(([layer, series]) => ({ layer, series }));
}

/** Adds or replaces (same epoch) a layers record; keeps epoch order. */
export function mergeLayers(into: LayersRecord[], record: LayersRecord): void {
  const at = into.findIndex((r) => r.epoch === record.epoch);
  if (at >= 0) into[at] = record;
  else {
    into.push(record);
    into.sort((a, b) => a.epoch - b.epoch);
  }
}
