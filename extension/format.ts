/** Texts of the trees, lenses, status bar and messages (pure; unit-tested); numbers through shared/format.ts. */
import type { BranchStats, LayerStats } from '../shared/layerStats';
import { epochProgress } from '../shared/progressText';
import { formatNumber, formatPercent } from '../shared/format';

/**
 * What a Layers tree row says next to its name, short enough for the default sidebar width
 * (test/e2e/editor-run.ts checks it is not cut): "41.2% zero · α 0.0829". Δ, the error and the
 * counts are in the row's tooltip and accessible label.
 */
export function layerDescription(stats: LayerStats | BranchStats): string {
  return `${formatPercent(stats.sparsity)} zero · α ${formatNumber(stats.alpha)}`;
}

/** The whole of a ternary layer's row for a screen reader: "sparsity 41.2%, α 0.0829, Δ 0.0123, error 12.3%". */
export function layerAccessibleText(stats: LayerStats | BranchStats): string {
  const base = `sparsity ${formatPercent(stats.sparsity)}, α ${formatNumber(stats.alpha)}, Δ ${formatNumber(stats.delta)}`;
  // ‖W − Ŵ‖ / ‖W‖: a layer's, not a branch's (statistics written before it existed have none).
  const withError = 'relError' in stats && stats.relError !== undefined ? `${base}, error ${formatPercent(stats.relError)}` : base;
  // 8-bit activations: the layer's trained input range and scale.
  return 'input' in stats && stats.input
    ? `${withError}, int8 input ${formatNumber(stats.input.min)} to ${formatNumber(stats.input.max)}, scale ${formatNumber(stats.input.scale)}`
    : withError;
}

/** Escapes text for a Markdown table cell. */
export function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/**
 * The one way every view says how far a run is (tree, status bar, progress notification, pickers):
 * while it runs, the epoch in progress, counted from 1 as in the run files ("epoch 1/2" during the
 * first epoch); once it ended, the epochs it completed ("epoch 2/2", or "epoch 1/2" when stopped
 * after one).
 */
export function epochText(running: boolean, completed: number, total: number): string {
  const shown = running ? Math.min(completed + 1, Math.max(total, 1)) : completed;
  return epochProgress(shown, total);
}

/**
 * A run's row in the Experiments view, short enough for the default sidebar width (the e2e test
 * test/e2e/editor-run.ts checks it is not cut): the label is when it started, in the viewer's
 * local time (run ids `YYYYMMDD-HHMMSS-xxxx` are UTC): the time for a run of the day of `now`,
 * else month-day and minutes; the description its progress and best validation top-1. The status
 * is the row's icon, and in words in its tooltip and accessible label.
 */
export function runRow(
  run: { runId: string; status: string; epoch: number; epochs: number; bestTop1?: number },
  now: Date = new Date(),
): { label: string; description: string } {
  const parts = [
    epochText(run.status === 'running', run.epoch, run.epochs),
    ...(run.bestTop1 !== undefined ? [formatPercent(run.bestTop1)] : []),
  ];
  return { label: runStartLabel(run.runId, now), description: parts.join(' · ') };
}

/**
 * When a run started, as its row and the Layers view's title name it: in the viewer's local time,
 * the time for a run of the day of `now`, else month-day and minutes; the id itself when it
 * holds no time.
 */
export function runStartLabel(runId: string, now: Date = new Date()): string {
  const started = runStart(runId);
  if (!started) return runId;
  const two = (n: number) => String(n).padStart(2, '0');
  const time = `${two(started.getHours())}:${two(started.getMinutes())}`;
  return started.toDateString() === now.toDateString()
    ? `${time}:${two(started.getSeconds())}`
    : `${two(started.getMonth() + 1)}-${two(started.getDate())} ${time}`;
}

/** When a run started, from its id (`YYYYMMDD-HHMMSS-xxxx`, UTC); undefined for another id. */
export function runStart(runId: string): Date | undefined {
  const m = /^(\d{4})(\d\d)(\d\d)-(\d\d)(\d\d)(\d\d)-/.exec(runId);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  return new Date(Date.UTC(year, month - 1, day, hour, minute, second));
}

/** "Training failed: Error: x" → "x": the prefix a message already carries is not repeated. */
export function errorText(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^(?:[A-Z][A-Za-z]*Error|Error):\s*/, '');
}
