/**
 * What the panel commands accept. They are called from the palette (no argument), code lenses and
 * the status bar (`{ runDirs }`, `{ runDir, layer }`) and tree items (an item with `runDir`, and
 * for a multi-selection the selected items as the second argument). No `vscode` here: unit-tested.
 */

function stringField(value: unknown, field: string): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = (value as Record<string, unknown>)[field];
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/** Run folders named by `ternary.showDashboard`'s arguments; empty = let the panel choose. */
export function dashboardRunDirs(arg: unknown, selection?: unknown): string[] {
  const dirs: string[] = [];
  if (Array.isArray(selection))
    for (const item of selection) {
      const d = stringField(item, 'runDir');
      if (d) dirs.push(d);
    }
  if (dirs.length === 0 && typeof arg === 'object' && arg !== null) {
    const runDirs = (arg as { runDirs?: unknown }).runDirs;
    if (Array.isArray(runDirs)) for (const d of runDirs) if (typeof d === 'string' && d) dirs.push(d);
    const single = stringField(arg, 'runDir');
    if (single) dirs.push(single);
  }
  return [...new Set(dirs)];
}

/** The run folder and layer named by `ternary.showHistograms`'s argument. */
export function histogramsTarget(arg: unknown): { runDir?: string; layer?: string } {
  const runDir = stringField(arg, 'runDir');
  // Layers tree items may carry the layer as `layer` or as a LayerStats under `stats`.
  const layer = stringField(arg, 'layer') ?? stringField((arg as { stats?: unknown } | undefined)?.stats, 'layer');
  return { runDir, layer };
}
