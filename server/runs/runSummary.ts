/** summary.json of a run: best and final metrics from its epoch records. */
import type { MetricsRecord, RunStatus, RunSummary } from '../../shared/runRecords';

/** The epoch with the best validation top-1 (the first of equals). */
export function bestOf(epochs: MetricsRecord[]): RunSummary['best'] {
  let best: RunSummary['best'] = { top1: 0, top5: 0, loss: NaN, epoch: 0 };
  for (const r of epochs) {
    const top1 = r.valTop1 ?? r.top1;
    if (best.epoch === 0 || top1 > best.top1) best = { top1, top5: r.valTop5 ?? r.top5 ?? 0, loss: r.valLoss ?? r.loss, epoch: r.epoch };
  }
  return best;
}

/** The metrics of the last epoch. */
export function finalOf(epochs: MetricsRecord[]): RunSummary['final'] {
  const last = epochs[epochs.length - 1];
  if (!last) return { top1: 0, top5: 0, loss: NaN };
  return { top1: last.valTop1 ?? last.top1, top5: last.valTop5 ?? last.top5 ?? 0, loss: last.valLoss ?? last.loss };
}

/** What a summary needs besides the epochs. */
export interface SummaryContext {
  runId: string;
  experiment: string;
  backend: string;
  sizes: { fp32Bytes: number; ternaryBytes: number; compression: number };
  /** Where a torch-engine run computed (summary.json carries it as config.json does). */
  engine?: Pick<RunSummary, 'engine' | 'device' | 'worldSize'>;
  /** Known once the engine has started training (lifecycle.ts). */
  stepsPerEpoch?: number;
  sweep?: RunSummary['sweep'];
}

/** The summary after `done.epoch` completed epochs whose records are `done.epochs`. */
export function makeSummary(
  ctx: SummaryContext,
  status: RunStatus,
  done: { epoch: number; epochs: MetricsRecord[] },
  wallSeconds: number,
  reason?: string,
): RunSummary {
  const { epochs } = done;
  return {
    runId: ctx.runId,
    experiment: ctx.experiment,
    status,
    epochs: done.epoch,
    ...(reason ? { reason } : {}),
    final: finalOf(epochs),
    best: bestOf(epochs),
    backend: ctx.backend,
    fp32Bytes: ctx.sizes.fp32Bytes,
    ternaryBytes: ctx.sizes.ternaryBytes,
    compression: ctx.sizes.compression,
    wallSeconds,
    ...(ctx.stepsPerEpoch !== undefined ? { stepsPerEpoch: ctx.stepsPerEpoch } : {}),
    ...ctx.engine,
    ...(ctx.sweep ? { sweep: ctx.sweep } : {}),
  };
}
