/**
 * Where a run is, written the same way by every part: "epoch 2/5", "epoch 2/5 · batch 30/47"
 * (the server's progress notification, the CLI's progress line, the status bar, the trees and
 * pickers). Epochs and batches count from 1, as in metrics.jsonl (shared/runRecords.ts).
 */
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
