/** Stats output shared by `tern stats` and `tern ternarize`: the text table, or JSON lines. */
import type { LayerStats, ModelSummary } from '../../shared/layerStats';
import { formatLayerTable } from './format';

/** Writes the per-layer table, or with `json` one JSON object per layer and a final `{"summary": …}` line. */
export function writeModelStats(
  stats: { layers: LayerStats[]; summary: ModelSummary },
  json: boolean,
  out: NodeJS.WritableStream = process.stdout,
): void {
  if (json) {
    for (const s of stats.layers) out.write(JSON.stringify(s) + '\n');
    out.write(JSON.stringify({ summary: stats.summary }) + '\n');
  } else {
    out.write(formatLayerTable(stats.layers, stats.summary) + '\n');
  }
}
