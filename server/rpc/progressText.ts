/** The one-line progress of a training run, as shown in the editor's progress notification. */
import { formatPercent } from '../../shared/format';
import type { RunStartedParams } from '../../shared/protocol';
import type { MetricsRecord } from '../../shared/runRecords';
import { epochPosition, recordProgress } from '../../shared/progressText';

/** "epoch 2/5 · batch 30/47 · loss 0.41" and the run's overall percentage. */
export function describeTrainProgress(
  record: MetricsRecord,
  run: Pick<RunStartedParams, 'epochs' | 'stepsPerEpoch'>,
): { message: string; percentage: number } {
  const parts = [recordProgress(record, run.epochs, run.stepsPerEpoch), `loss ${formatLoss(record.loss)}`];
  if (record.kind === 'epoch' && record.valTop1 !== undefined) parts.push(`val top-1 ${formatPercent(record.valTop1)}`);
  const percentage = run.epochs > 0 ? (epochPosition(record) / run.epochs) * 100 : 0;
  return { message: parts.join(' · '), percentage: Math.max(0, Math.min(100, percentage)) };
}

function formatLoss(loss: number): string {
  if (!Number.isFinite(loss)) return String(loss);
  return loss >= 100
    ? loss.toFixed(0)
    : loss
        .toPrecision(2)
        .replace(/(\.\d*?)0+$/, '$1')
        .replace(/\.$/, '');
}
