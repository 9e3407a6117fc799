/**
 * Where a run is, written the same way by every part: "epoch 2/5", "epoch 2/5 · batch 30/47"
 * (the server's progress notification, the CLI's progress line, the status bar, the trees and
 * pickers). Epochs and batches count from 1, as in metrics.jsonl (shared/runRecords.ts).
 */
import { formatCount, formatDuration } from './format';
import type { MetricsRecord } from './runRecords';

/** "epoch 2/5", and with a batch "epoch 2/5 · batch 30/47"; `separator` joins the parts. */
export function epochProgress(epoch: number, epochs: number, batch?: { done: number; of: number }, separator = ' · '): string {
  const parts = [`epoch ${epoch}/${epochs}`];
  if (batch) parts.push(`batch ${batch.done}/${batch.of}`);
  return parts.join(separator);
}

/**
 * Where a record sits on an epoch axis, in epochs done: an epoch line closes epoch e and sits at
 * e; a batch line of epoch e at fraction p of it sits at e − 1 + p (without a fraction, at the
 * epoch's end). The charts' x, the overall fraction of the progress notification, the status bar
 * and the ETA all count with it.
 */
export function epochPosition(r: Pick<MetricsRecord, 'kind' | 'epoch' | 'progress'>): number {
  if (r.kind === 'epoch') return r.epoch;
  return r.epoch - 1 + Math.max(0, Math.min(1, r.progress ?? 1));
}

/** The batches of its epoch a metrics record has seen: all of them on an epoch line, else its fraction of the epoch. */
export function batchesDone(record: Pick<MetricsRecord, 'kind' | 'progress'>, stepsPerEpoch: number): number {
  const fraction = record.kind === 'epoch' ? 1 : Math.max(0, Math.min(1, record.progress ?? 0));
  return Math.round(fraction * stepsPerEpoch);
}

/** The "epoch 2/5 · batch 30/47" of a metrics record. */
export function recordProgress(
  record: Pick<MetricsRecord, 'kind' | 'progress' | 'epoch'>,
  epochs: number,
  stepsPerEpoch: number,
  separator = ' · ',
): string {
  return epochProgress(record.epoch, epochs, { done: batchesDone(record, stepsPerEpoch), of: stepsPerEpoch }, separator);
}

/**
 * How fast a run trains and how long it has left, from its metrics records as they arrive (the
 * status bar, the progress notification and the dashboard keep one per live run): images a
 * second as the trainer measures them, and the time left at the pace seen since following began
 * (records' `time` is the run's own clock, so a window that joins late measures the same pace).
 */
export interface RunPace {
  imgPerSec?: number;
  etaSeconds?: number;
  /** Where the run stood when the pace began to be measured (position in epochs, run time in s). */
  from?: { position: number; time: number };
}

/** Moves the pace on with new records of a run of `epochs` epochs. */
export function observePace(pace: RunPace, records: readonly MetricsRecord[], epochs: number): void {
  const last = records[records.length - 1];
  if (!last) return;
  for (const r of records) if (r.imgPerSec !== undefined && r.imgPerSec > 0) pace.imgPerSec = r.imgPerSec;
  const position = epochPosition(last);
  // A new session of the run (a resume restarts nothing of the clock, but a rewritten history may): measure afresh.
  if (!pace.from || last.time < pace.from.time || position < pace.from.position) {
    pace.from = { position, time: last.time };
    return;
  }
  const elapsed = last.time - pace.from.time;
  const advanced = position - pace.from.position;
  if (elapsed > 0 && advanced > 0) pace.etaSeconds = Math.max(0, epochs - position) / (advanced / elapsed);
}

/** "1,234 img/s · 2 min 05 s left" (what is known of it; empty before anything is). */
export function paceText(pace: RunPace, separator = ' · '): string {
  const parts: string[] = [];
  if (pace.imgPerSec !== undefined) parts.push(`${formatCount(pace.imgPerSec)} img/s`);
  if (pace.etaSeconds !== undefined) parts.push(`${formatDuration(pace.etaSeconds)} left`);
  return parts.join(separator);
}
