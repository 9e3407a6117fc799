/**
 * Test-only fault injection for the crash tests of run folders (scripts/crash-resume.ts): with
 * `TERN_FAULT_KILL_AT=<point>` or `<point>@<n>` in the environment, the process kills itself
 * with SIGKILL (as `kill -9` would: no handler runs, nothing is flushed) the n-th time (default
 * the first) it reaches that commit point. Without the variable every call is a no-op.
 */

/** The moments of a run where files are committed, in the order an epoch reaches them. */
export const COMMIT_POINTS = [
  /** The epoch's metrics, layers and histograms are written; its checkpoint is not. */
  'epoch-recorded',
  /** The new checkpoint's files are on disk in a temporary folder. */
  'checkpoint-written',
  /** checkpoints/last was renamed to checkpoints/previous; the new one is not in place yet. */
  'checkpoint-rotated',
  /** The new checkpoint is checkpoints/last, on disk. */
  'checkpoint-committed',
  /** checkpoints/best was replaced (epochs that improve the best validation top-1). */
  'best-committed',
  /** summary.json says how far the run got. */
  'summary-written',
  /** The final model is in model/ (before summary.json says completed). */
  'model-committed',
] as const;
export type CommitPoint = (typeof COMMIT_POINTS)[number];

const spec = /^([a-z-]+)(?:@(\d+))?$/.exec(process.env.TERN_FAULT_KILL_AT ?? '');
const target = spec ? { point: spec[1], hit: Number(spec[2] ?? 1) } : undefined;
let hits = 0;

/** Marks a commit point; kills the process here when TERN_FAULT_KILL_AT asks for it. */
export function faultPoint(point: CommitPoint): void {
  if (!target || target.point !== point) return;
  if (++hits === target.hit) process.kill(process.pid, 'SIGKILL');
}
