/**
 * One training epoch of the tfjs engine: the batches of (seed, epoch) through the train step, a
 * batch record about BATCH_RECORDS_PER_EPOCH times, and a stop at the first cancelled or
 * non-finite batch. Validation and the epoch's records are the engine's
 * (server/engines/tfjs/tfjsEngine.ts).
 */
import type { Batch, Dataset } from '../data/dataset';
import type { ExperimentConfig } from '../../shared/experimentConfig';
import { BATCH_RECORDS_PER_EPOCH } from '../runs/records';
import type { BatchResult } from './step';
import type { MetricsRecord } from '../../shared/runRecords';

export interface EpochContext {
  trainSet: Dataset;
  recipe: ExperimentConfig['train'];
  step: (batch: Batch, lr: number) => Promise<BatchResult>;
  /** Takes a batch record (the run lifecycle writes it). */
  onRecord(record: MetricsRecord): Promise<void>;
  signal?: AbortSignal;
  /** Seconds since the start of the run (all sessions). */
  elapsed(): number;
  /** Called after each batch (the run lock's heartbeat). */
  onBatch?(): void;
}

/** How an epoch's training pass ended. */
export type EpochOutcome =
  | { kind: 'trained'; lossSum: number; top1Sum: number; top5Sum: number; seen: number; globalStep: number; trainSeconds: number }
  | { kind: 'cancelled' }
  | { kind: 'nonFinite'; loss: number; batchIndex: number; globalStep: number };

/** Trains epoch `epoch` (0-based) at learning rate `lr`, starting after global step `stepBefore`. */
export async function trainEpoch(ctx: EpochContext, epoch: number, lr: number, stepBefore: number): Promise<EpochOutcome> {
  const { trainSet, recipe } = ctx;
  const stepsPerEpoch = trainSet.batchCount(recipe.batchSize);
  const logEvery = Math.max(1, Math.round(stepsPerEpoch / BATCH_RECORDS_PER_EPOCH));
  const epochNumber = epoch + 1;
  let lossSum = 0;
  let top1Sum = 0;
  let top5Sum = 0;
  let seen = 0;
  let batchIndex = 0;
  let globalStep = stepBefore;
  const epochStart = Date.now();
  for await (const batch of trainSet.batches({ batchSize: recipe.batchSize, shuffle: true, seed: recipe.seed, epoch, augment: true })) {
    if (ctx.signal?.aborted) return { kind: 'cancelled' };
    const result = await ctx.step(batch, lr);
    batchIndex++;
    globalStep++;
    if (!Number.isFinite(result.loss)) return { kind: 'nonFinite', loss: result.loss, batchIndex, globalStep };
    lossSum += result.loss * result.n;
    top1Sum += result.top1;
    top5Sum += result.top5;
    seen += result.n;
    if (batchIndex % logEvery === 0 || batchIndex === stepsPerEpoch) {
      const record: MetricsRecord = {
        kind: 'batch',
        epoch: epochNumber,
        step: globalStep,
        progress: batchIndex / stepsPerEpoch,
        lr,
        loss: lossSum / seen,
        top1: top1Sum / seen,
        top5: top5Sum / seen,
        imgPerSec: seen / Math.max(1e-9, (Date.now() - epochStart) / 1000),
        time: ctx.elapsed(),
      };
      await ctx.onRecord(record);
    }
    ctx.onBatch?.();
    // Let the event loop breathe (a server must see a cancel request within one batch).
    await new Promise<void>((r) => setImmediate(r));
  }
  return { kind: 'trained', lossSum, top1Sum, top5Sum, seen, globalStep, trainSeconds: (Date.now() - epochStart) / 1000 };
}
