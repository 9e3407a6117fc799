/** "experiment · run-id" for pickers and legends; a folder the run list does not know yet: its last two parts. */
export function runLabel(run: { experiment: string; runId: string } | undefined, runDir: string): string {
  if (run) return `${run.experiment} · ${run.runId}`;
  const parts = runDir.split(/[\\/]/).filter(Boolean);
  return parts.slice(-2).join(' · ') || runDir;
}
