/** Per-layer statistics of a model file: `tern stats` and the server's `ternary/stats`. */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { StatsResult } from '../../shared/protocol';
import { loadModel } from '../models/loadModel';
import { layerStats, modelSummary, weightHistograms } from '../stats';

export type ModelStats = StatsResult;

/** Δ, α, sparsity, counts and bits of every conv/dense layer, the model's sizes, and weight histograms. */
export function modelStats(model: LayersModel): ModelStats {
  const layers = layerStats(model);
  return { layers, summary: modelSummary(model, layers), histograms: weightHistograms(model) };
}

/** The statistics of a model.json (or its folder), a run's final model, a model.tern or an .onnx file. */
export async function statsOfModelFile(target: string): Promise<ModelStats> {
  const model = await loadModel(target);
  try {
    return modelStats(model);
  } finally {
    model.dispose();
  }
}
