/**
 * The ternary twin of any float tfjs LayersModel (Sequential or functional, nested models too):
 * the topology JSON is rewritten (Conv2D → TernaryConv2D, Dense → TernaryDense, everything else
 * untouched) and the float weights are copied in as the latent weights.
 */
import * as tf from '@tensorflow/tfjs-core';
import { models, type LayersModel } from '@tensorflow/tfjs-layers';
import type { TernaryQuant } from '../../shared/quant';
import { UserError } from '../../shared/userError';
import '../core/layers';
import { QUANT_JSON_KEYS } from '../core/layers/common';

type Json = { [key: string]: unknown };
interface LayerJson {
  class_name: string;
  config: Json;
}

const FLOAT_TO_TERNARY: Record<string, string> = { Conv2D: 'TernaryConv2D', Dense: 'TernaryDense' };
const TERNARY_TO_FLOAT: Record<string, string> = { TernaryConv2D: 'Conv2D', TernaryDense: 'Dense' };
const CONTAINER_CLASSES = new Set(['Sequential', 'Model', 'Functional']);
/** Config keys of Conv2D/Dense the ternary layers take (snake_case, as in model.json). */
const KEPT_KEYS = new Set([
  'name',
  'trainable',
  'dtype',
  'batch_input_shape',
  'input_dim',
  'filters',
  'kernel_size',
  'strides',
  'padding',
  'units',
  'use_bias',
  'kernel_initializer',
  'bias_initializer',
  'activation',
]);

/** Kernel layers in topological order, depth first through nested models. */
function kernelLayers(layers: LayerJson[], out: LayerJson[] = []): LayerJson[] {
  for (const layer of layers) {
    if (CONTAINER_CLASSES.has(layer.class_name)) kernelLayers((layer.config.layers ?? []) as LayerJson[], out);
    else if (layer.class_name in FLOAT_TO_TERNARY || layer.class_name in TERNARY_TO_FLOAT) out.push(layer);
  }
  return out;
}

function same(value: unknown, one: number): boolean {
  return value === undefined || value === null || (Array.isArray(value) ? value.every((v) => v === one) : value === one);
}

/** Rewrites one Conv2D/Dense (or ternary) layer's JSON in place for `ternary` or float. */
function rewriteLayer(layer: LayerJson, ternary: boolean, quant: TernaryQuant): void {
  const name = String(layer.config.name);
  const floatClass = TERNARY_TO_FLOAT[layer.class_name] ?? layer.class_name;
  if (floatClass === 'Conv2D') {
    if (!same(layer.config.dilation_rate, 1)) {
      throw new UserError(
        'badModel',
        `Layer '${name}': dilated Conv2D (dilation_rate ${JSON.stringify(layer.config.dilation_rate)}) has no ternary twin; only dilation 1 is supported.`,
        { layer: name },
      );
    }
    if (layer.config.data_format === 'channels_first') {
      throw new UserError(
        'badModel',
        `Layer '${name}': Conv2D with data_format 'channels_first' has no ternary twin; use channels_last (NHWC).`,
        { layer: name },
      );
    }
    if (layer.config.padding !== undefined && layer.config.padding !== 'same' && layer.config.padding !== 'valid') {
      throw new UserError(
        'badModel',
        `Layer '${name}': padding ${JSON.stringify(layer.config.padding)} is not supported; use 'same' or 'valid'.`,
        { layer: name },
      );
    }
  }
  if (!ternary) {
    if (layer.class_name in TERNARY_TO_FLOAT) {
      layer.class_name = floatClass;
      for (const key of QUANT_JSON_KEYS) delete layer.config[key];
    }
    return;
  }
  const config: Json = {};
  for (const [key, value] of Object.entries(layer.config)) if (KEPT_KEYS.has(key)) config[key] = value;
  Object.assign(config, { method: quant.method, threshold_factor: quant.thresholdFactor, tex: quant.tex });
  // As quantConfig (server/core/layers/common.ts) writes it: only when not the default.
  if (quant.threshold === 'optimal') config.threshold = quant.threshold;
  if (quant.activations === 'int8') config.input_quant = 'int8';
  layer.class_name = FLOAT_TO_TERNARY[floatClass];
  layer.config = config;
}

/**
 * Copies weights layer by layer, matched by layer and weight name (nested models included). A
 * weight only one side has — the input range of an int8 layer (server/core/activationQuant.ts) —
 * is left as the target has it: a new int8 layer starts unobserved, a float twin drops the range.
 */
function copyWeights(from: LayersModel, to: LayersModel): void {
  for (const target of to.layers) {
    const source = from.getLayer(target.name);
    const sourceWeights = new Map(source.weights.map((w) => [w.originalName, w]));
    for (const w of target.weights) {
      const s = sourceWeights.get(w.originalName);
      if (s) w.write(s.read());
    }
  }
}

/**
 * Returns the ternary twin of `floatModel` under `quant`: every Conv2D/Dense becomes its ternary
 * layer with the float kernel as latent weights (`firstLast: 'float'` keeps the first and the last
 * of them float). Also re-quantizes a model that is already ternary with new settings.
 */
export async function convertToTernary(floatModel: LayersModel, quant: TernaryQuant): Promise<LayersModel> {
  const topology = floatModel.toJSON(null, false) as unknown as Json;
  const config = topology.config as Json;
  const kernels = kernelLayers((config.layers ?? []) as LayerJson[]);
  if (kernels.length === 0) {
    throw new UserError('badModel', 'The model has no Conv2D or Dense layer: there is nothing to ternarize.');
  }
  kernels.forEach((layer, i) => {
    const edge = i === 0 || i === kernels.length - 1;
    rewriteLayer(layer, !(quant.firstLast === 'float' && edge), quant);
  });
  const twin = await models.modelFromJSON({ modelTopology: topology as unknown as tf.io.ModelJSON['modelTopology'] } as never);
  copyWeights(floatModel, twin);
  return twin;
}

/**
 * The same model computing on float activations: every ternary layer's `inputQuant` dropped with
 * its input range (server/core/activationQuant.ts), every other weight copied. What the export
 * packs and checks model.onnx, model.tern and the stock tfjs model against (docs/formats.md).
 */
export async function withFloatActivations(model: LayersModel): Promise<LayersModel> {
  const topology = model.toJSON(null, false) as unknown as Json;
  for (const layer of kernelLayers(((topology.config as Json).layers ?? []) as LayerJson[])) delete layer.config.input_quant;
  const twin = await models.modelFromJSON({ modelTopology: topology as unknown as tf.io.ModelJSON['modelTopology'] } as never);
  copyWeights(model, twin);
  return twin;
}
