/** Stats output shared by `tern stats` and `tern ternarize`: the text table, or JSON lines. */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { formatLayerTable } from './format';
import { layerStats, modelSummary } from './layerStats';

/** Writes the per-layer table, or with `json` one JSON object per layer and a final `{"summary": …}` line. */
export function writeModelStats(model: LayersModel, json: boolean, out: NodeJS.WritableStream = process.stdout): void {
  const stats = layerStats(model);
  const summary = modelSummary(model, stats);
  if (json) {
    for (const s of stats) out.write(JSON.stringify(s) + '\n');
    out.write(JSON.stringify({ summary }) + '\n');
  } else {
    out.write(formatLayerTable(stats, summary) + '\n');
  }
}
