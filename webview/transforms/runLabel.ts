import { experimentLabel } from '../../shared/runLabel';

type Run = { experiment: string; runId: string; configPath?: string };

/**
 * "experiment · run-id" for pickers and legends, the experiment with its config when another
 * config's runs in `runs` share its name (shared/runLabel.ts); a folder the run list does not
 * know yet: its last two parts.
 */
export function runLabel(run: Run | undefined, runDir: string, runs: readonly Run[] = []): string {
  if (run) return `${experimentLabel(run, runs)} · ${run.runId}`;
  const parts = runDir.split(/[\\/]/).filter(Boolean);
  return parts.slice(-2).join(' · ') || runDir;
}
