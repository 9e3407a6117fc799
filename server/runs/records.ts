/**
 * Writing a run's records (shared/runRecords.ts): batch lines and epoch lines of metrics.jsonl,
 * layers.jsonl and histograms/epoch-NNN.json. Whatever engine computed them, they are written
 * here: JSON lines appended with one write each (an epoch's flushed to disk before its
 * checkpoint may be saved), histograms atomically.
 */
import { join } from 'node:path';
import { writeJsonAtomic } from '../files/atomicFiles';
import { appendJsonLine, appendJsonLineDurable } from '../files/jsonLines';
import type { HistogramsRecord, LayersRecord, MetricsRecord } from '../../shared/runRecords';
import { faultPoint } from './faultInjection';
import type { RunPaths } from './runFolder';

/** About this many batch lines per epoch in metrics.jsonl (plus the last batch). */
export const BATCH_RECORDS_PER_EPOCH = 50;

export interface EpochRecords {
  metrics: MetricsRecord;
  layers: LayersRecord;
  histograms: HistogramsRecord;
}

/** The file of an epoch's histograms. */
export function histogramsFile(paths: RunPaths, epoch: number): string {
  return join(paths.histograms, `epoch-${String(epoch).padStart(3, '0')}.json`);
}

export function writeBatchRecord(paths: RunPaths, record: MetricsRecord): Promise<void> {
  return appendJsonLine(paths.metrics, record);
}

/** Writes an epoch's three records, durable when this resolves. */
export async function writeEpochRecords(paths: RunPaths, records: EpochRecords): Promise<void> {
  await appendJsonLineDurable(paths.metrics, records.metrics);
  await appendJsonLineDurable(paths.layers, records.layers);
  await writeJsonAtomic(histogramsFile(paths, records.histograms.epoch), records.histograms);
  faultPoint('epoch-recorded');
}
