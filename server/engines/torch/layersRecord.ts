/**
 * The torch engine's side of the layers.jsonl records and the job's quantization settings, so that
 * the rules of server/stats/ and server/core/layers/ stay in one place: Python is told how each
 * ternary layer is ternarized (`torchLayerQuant`) and reports only what its weights give after an
 * epoch (shared/engineProtocol.ts EngineLayerValues); the record around those values — type,
 * shape, params, bits, threshold, sparsity and the model's sizes — is the one layerStats and
 * modelSummary make of the initial model (server/stats/layerStats.ts).
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { EngineMessageError, type EngineLayerValues, type TorchLayerQuant } from '../../../shared/engineProtocol';
import type { LayerStats, ModelSummary } from '../../../shared/layerStats';
import { QUANT_DEFAULTS } from '../../../shared/quant';
import { deltaFactors, type LayerQuant } from '../../core/quantizer';
import type { InputQuant } from '../../core/activationQuant';
import type { LayersRecord } from '../../../shared/runRecords';
import { kernelLayers } from '../../stats/kernelLayers';
import { inputQuantStats } from '../../stats/layerStats';

/** The resolved quantization of every ternary layer of `model`, by layer name (the job's layerQuant). */
export function torchLayerQuant(model: LayersModel): Record<string, TorchLayerQuant> {
  const out: Record<string, TorchLayerQuant> = {};
  for (const k of kernelLayers(model)) {
    if (!k.quant) continue;
    const inputQuant = (k.layer as unknown as { inputQuant?: InputQuant }).inputQuant;
    out[k.name] = { ...torchQuantOf(k.quant), ...(inputQuant ? { inputQuant } : {}) };
  }
  return out;
}

/** One layer's settings as the torch engine takes them. */
export function torchQuantOf(quant: LayerQuant): TorchLayerQuant {
  const { method, tex } = quant;
  return { method, tex, threshold: quant.threshold ?? QUANT_DEFAULTS.threshold, factors: deltaFactors(quant) };
}

/**
 * The layers record of an epoch: `model`'s layer statistics (layerStats of the initial model: the
 * same layers, shapes and settings) with each ternary layer's values as the engine measured them.
 */
export function layersRecordOf(
  epoch: number,
  values: EngineLayerValues[],
  model: readonly LayerStats[],
  summary: ModelSummary,
): LayersRecord {
  const byName = new Map(values.map((v) => [v.layer, v]));
  const layers = model.map((layer): LayerStats => {
    if (!layer.ternary) return layer;
    const measured = byName.get(layer.layer);
    if (!measured || measured.branches.length !== layer.branches.length)
      throw new EngineMessageError(
        `malformed engine message 'epoch': layers of epoch ${epoch} ${measured ? `give ${measured.branches.length} branches` : 'lack the ternary layer'} '${layer.layer}' (the model has ${layer.branches.length})`,
      );
    const weights = layer.shape.reduce((a, b) => a * b, 1);
    const branches = measured.branches.map((b) => ({ ...b, sparsity: weights > 0 ? b.counts.zero / weights : 0 }));
    const first = branches[0]!;
    return {
      ...layer,
      delta: first.delta,
      alpha: first.alpha,
      sparsity: first.sparsity,
      counts: { ...first.counts },
      branches,
      relError: measured.relError,
      ...(measured.inputRange ? { input: inputQuantStats(measured.inputRange[0], measured.inputRange[1]) } : {}),
    };
  });
  return { epoch, layers, summary };
}
