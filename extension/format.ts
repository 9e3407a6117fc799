/** Number formats shared by the trees, lenses, status bar and messages (pure; unit-tested). */
import type { BranchStats, LayerStats } from '../shared/layerStats';
import { epochProgress } from '../shared/progressText';

export function percent(fraction: number, digits = 1): string {
  return `${(fraction * 100).toFixed(digits)}%`;
}

/** Three significant digits, plain for ordinary magnitudes, exponent for tiny/huge ones. */
export function short(value: number): string {
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e-3 && magnitude < 1e4) return Number(value.toPrecision(3)).toString();
  return value.toExponential(2);
}

/** What a Layers tree item says next to its name, e.g. "sparsity 41.2% · α 0.083 · Δ 0.012". */
export function layerDescription(stats: LayerStats | BranchStats): string {
  const base = `sparsity ${percent(stats.sparsity)} · α ${short(stats.alpha)} · Δ ${short(stats.delta)}`;
  // ‖W − Ŵ‖ / ‖W‖: a layer's, not a branch's (statistics written before it existed have none).
  return 'relError' in stats && stats.relError !== undefined ? `${base} · error ${percent(stats.relError)}` : base;
}

export function bytes(count: number): string {
  if (count < 1024) return `${count} B`;
  if (count < 1024 * 1024) return `${(count / 1024).toFixed(1)} KiB`;
  return `${(count / 1024 / 1024).toFixed(2)} MiB`;
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
 * test/e2e/editor-run.ts checks it is not cut): the label is when it started, from the run id
 * `YYYYMMDD-HHMMSS-xxxx` (UTC): the time for a run of `today` (UTC `YYYYMMDD`), else month-day
 * and minutes; the description its progress and best validation top-1. The status is the row's
 * icon, and in words in its tooltip and accessible label.
 */
export function runRow(
  run: { runId: string; status: string; epoch: number; epochs: number; bestTop1?: number },
  today?: string,
): { label: string; description: string } {
  const m = /^(\d{4})(\d\d)(\d\d)-(\d\d)(\d\d)(\d\d)-/.exec(run.runId);
  const label = !m ? run.runId : `${m[1]}${m[2]}${m[3]}` === today ? `${m[4]}:${m[5]}:${m[6]}` : `${m[2]}-${m[3]} ${m[4]}:${m[5]}`;
  const parts = [
    epochText(run.status === 'running', run.epoch, run.epochs),
    ...(run.bestTop1 !== undefined ? [percent(run.bestTop1)] : []),
  ];
  return { label, description: parts.join(' · ') };
}

/** Today's date as run ids write it (UTC `YYYYMMDD`). */
export function runIdDay(now: Date): string {
  return now.toISOString().slice(0, 10).replace(/-/g, '');
}

/** "Training failed: Error: x" → "x": the prefix a message already carries is not repeated. */
export function errorText(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^(?:[A-Z][A-Za-z]*Error|Error):\s*/, '');
}
