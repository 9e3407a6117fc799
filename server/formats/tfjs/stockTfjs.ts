/**
 * The ternary model as a stock tfjs LayersModel (docs/formats.md, "tfjs/"): only tfjs-layers'
 * built-in classes, so a web app loads it with plain `tf.loadLayersModel` and none of this
 * project's code.
 *
 *  - TernaryConv2D → Conv2D and TernaryDense → Dense, holding the ternary values sign(c)·A_|c|
 *    (the weights our inference computes with, bit for bit);
 *  - OptionAShortcut → a Conv2D with a fixed 0/1 kernel that picks the same pixels and copies
 *    input channel i to output channel i (the extra output channels get zeros). x·1 + Σ x·0 is
 *    exact in float arithmetic, so the shortcut is unchanged;
 *  - everything else as it is.
 * Weights of t_ex = 1 kernels are stored with tfjs's uint8 weight quantization (q ∈ {0, 1, 2},
 * scale α, min −α: q·α − α is −α, 0 or α exactly), one byte a weight; REL levels are not evenly
 * spaced and stay float32.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ternaryValues, type PackedModel } from '../packedModel';
import { QUANT_JSON_KEYS } from '../../core/layers/common';
import type { Json } from '../onnx/export/layerGraph';

/** Layer classes of this project that the stock model replaces. */
export const CUSTOM_CLASSES: readonly string[] = ['TernaryConv2D', 'TernaryDense', 'OptionAShortcut'];

export interface StockTfjsModel {
  /** model.json contents (weightsManifest paths point at `weights.bin`). */
  modelJson: tf.io.ModelJSON;
  weights: Uint8Array;
}

interface LayerJson {
  class_name: string;
  config: Json;
  name?: string;
  inbound_nodes?: unknown[];
}

/** The 0/1 kernel of an option-A shortcut as a Conv2D: [kh, kw, in, out] with kh = oh + 1, kw = ow + 1. */
function optionAKernel(inChannels: number, outChannels: number, oh: number, ow: number): Float32Array {
  const kh = oh + 1;
  const kw = ow + 1;
  const kernel = new Float32Array(kh * kw * inChannels * outChannels);
  for (let c = 0; c < inChannels; c++) kernel[((oh * kw + ow) * inChannels + c) * outChannels + c] = 1;
  return kernel;
}

/**
 * Builds the stock model from a packed model. `inputShapes` gives each OptionAShortcut's input
 * shape [H, W, C] (from the live model), which the topology alone does not hold.
 */
export function stockTfjsModel(packed: PackedModel, inputShapes: Map<string, number[]>): StockTfjsModel {
  const topology = JSON.parse(JSON.stringify(packed.topology)) as { class_name: string; config: Json };
  const extra: { name: string; shape: number[]; values: Float32Array }[] = [];
  const layers = (topology.config.layers ?? []) as LayerJson[];
  for (const layer of layers) {
    const c = layer.config;
    if (layer.class_name === 'TernaryConv2D' || layer.class_name === 'TernaryDense') {
      layer.class_name = layer.class_name === 'TernaryConv2D' ? 'Conv2D' : 'Dense';
      for (const key of QUANT_JSON_KEYS) delete c[key];
    } else if (layer.class_name === 'OptionAShortcut') {
      const name = String(c.name);
      const shape = inputShapes.get(name);
      if (!shape) throw new Error(`OptionAShortcut '${name}': input shape unknown.`);
      const [height, width, channels] = shape;
      const stride = typeof c.stride === 'number' ? c.stride : 2;
      const outChannels = Number(c.out_channels ?? c.outChannels);
      // The rows/columns OptionAShortcut keeps (server/core/layers/optionAShortcut.ts).
      const offset = (n: number): number =>
        stride > 1 ? Math.max(0, 1 - Math.floor(Math.max((Math.ceil(n / stride) - 1) * stride + 3 - n, 0) / 2)) : 0;
      const oh = offset(height);
      const ow = offset(width);
      layer.class_name = 'Conv2D';
      layer.config = {
        name,
        trainable: false,
        dtype: 'float32',
        filters: outChannels,
        kernel_size: [oh + 1, ow + 1],
        strides: [stride, stride],
        padding: 'valid',
        data_format: 'channels_last',
        dilation_rate: [1, 1],
        activation: 'linear',
        use_bias: false,
        kernel_initializer: { class_name: 'Zeros', config: {} },
      };
      extra.push({
        name: `${name}/kernel`,
        shape: [oh + 1, ow + 1, channels, outChannels],
        values: optionAKernel(channels, outChannels, oh, ow),
      });
    }
  }
  const specs: tf.io.WeightsManifestEntry[] = [];
  const chunks: Uint8Array[] = [];
  for (const w of packed.weights) {
    if (w.kind === 'ternary' && w.quant.tex === 1) {
      const alpha = w.levels[0];
      const q = Uint8Array.from(w.codes, (c) => c + 1);
      specs.push({ name: w.name, shape: w.shape, dtype: 'float32', quantization: { dtype: 'uint8', scale: alpha, min: -alpha } });
      chunks.push(q);
    } else {
      const values = ternaryValues(w);
      specs.push({ name: w.name, shape: w.shape, dtype: 'float32' });
      chunks.push(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
    }
  }
  for (const e of extra) {
    specs.push({ name: e.name, shape: e.shape, dtype: 'float32' });
    chunks.push(new Uint8Array(e.values.buffer));
  }
  const weights = Buffer.concat(chunks);
  const modelJson: tf.io.ModelJSON = {
    modelTopology: topology,
    format: 'layers-model',
    generatedBy: `Ternary Studio (tfjs-layers v${tf.version_core})`,
    convertedBy: null,
    weightsManifest: [{ paths: ['./weights.bin'], weights: specs }],
  };
  return { modelJson, weights };
}

/** Names of this project's layer classes that appear in a model.json (none for a stock model). */
export function customClassesIn(modelJson: unknown): string[] {
  const found = new Set<string>();
  const text = JSON.stringify(modelJson);
  for (const name of CUSTOM_CLASSES) if (text.includes(`"class_name":"${name}"`)) found.add(name);
  return [...found];
}
