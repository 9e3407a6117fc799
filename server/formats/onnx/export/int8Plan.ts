/**
 * Where a model with 8-bit activations quantizes its tensors (docs/formats.md, "model-int8.onnx"):
 * the one rule that the QDQ writer (server/formats/onnx/export/toOnnx.ts), the calibration and our own
 * fake-quantized inference (server/export/int8Activations.ts) all follow, so they quantize the
 * same tensors.
 *
 * Every int8 layer (a ternary conv or dense with t_ex 1) is a *unit*: the layer, the
 * BatchNormalization that only it feeds (folded into its weights in ONNX), and the ReLU that only
 * that feeds. Quantized (uint8, per tensor) are the tensor entering each unit and the tensor leaving
 * it, unless that is the model's output: ONNX Runtime fuses `DequantizeLinear → Conv → (Relu) →
 * QuantizeLinear` into an integer convolution only with a quantized output. A quantized tensor is
 * quantized for all its consumers (a ResNet block's output feeds the next conv and the shortcut).
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { PackedModel } from '../../packedModel';
import { layerGraph, type GraphLayer, type LayerGraph } from './layerGraph';
import { TERNARY_CLASSES } from '../../../core/layers/quantOf';

export interface Int8Plan {
  /** Layers computed with int8 weights and activations. */
  layers: string[];
  /** Names of the layers (or of the graph input) whose output is quantized, in graph order. */
  points: string[];
  /** BatchNormalization layer → the int8 layer whose weights it is folded into. */
  foldedBatchNorms: Map<string, string>;
}

const linear = (activation: unknown): boolean => activation === undefined || activation === null || activation === 'linear';

function isPlainRelu(layer: GraphLayer): boolean {
  const c = layer.config;
  if (layer.className === 'ReLU') return (c.max_value === undefined || c.max_value === null) && !c.threshold;
  return layer.className === 'Activation' && c.activation === 'relu';
}

/** The plan for `graph`, where `isInt8(layer)` says which ternary conv/dense layers compute in int8. */
export function int8Plan(graph: LayerGraph, isInt8: (layer: GraphLayer) => boolean): Int8Plan {
  const consumers = new Map<string, GraphLayer[]>();
  for (const layer of graph.layers) {
    for (const input of layer.inputs) consumers.set(input, [...(consumers.get(input) ?? []), layer]);
  }
  const soleConsumer = (name: string): GraphLayer | undefined => {
    const c = consumers.get(name) ?? [];
    return c.length === 1 && c[0].inputs.length === 1 && name !== graph.output ? c[0] : undefined;
  };
  const points = new Set<string>();
  const layers: string[] = [];
  const foldedBatchNorms = new Map<string, string>();
  for (const layer of graph.layers) {
    if (!isInt8(layer)) continue;
    layers.push(layer.name);
    points.add(layer.inputs[0]);
    let end = layer.name;
    if (linear(layer.config.activation)) {
      const bn = soleConsumer(end);
      if (bn?.className === 'BatchNormalization') {
        foldedBatchNorms.set(bn.name, layer.name);
        end = bn.name;
      }
      const relu = soleConsumer(end);
      if (relu && isPlainRelu(relu)) end = relu.name;
    }
    if (end !== graph.output) points.add(end);
  }
  const order = [graph.input.name, ...graph.layers.map((l) => l.name)];
  return { layers, points: order.filter((name) => points.has(name)), foldedBatchNorms };
}

export { activationQuant, type ActivationQuant } from '../../../core/activationQuant';

/** The plan of a model whose weights `packed` holds (packModel): its t_ex 1 ternary layers compute in int8. */
export function modelInt8Plan(model: LayersModel, packed: PackedModel): Int8Plan & { graph: LayerGraph } {
  const graph = layerGraph(model);
  const kernels = new Map(packed.weights.map((w) => [w.name, w]));
  // Ternary conv/dense layers with nested t_ex 1 kernels (codes −1, 0, 1 times α) compute in int8.
  const isInt8 = (layer: GraphLayer): boolean => {
    if (!TERNARY_CLASSES.has(layer.className)) return false;
    const kernel = model.getLayer(layer.name).weights.find((w) => /(^|\/)kernel$/.test(w.originalName));
    const packedKernel = kernel && kernels.get(kernel.originalName);
    return packedKernel?.kind === 'ternary' && packedKernel.quant.tex === 1 && (packedKernel.encoding ?? 'nested') === 'nested';
  };
  return { ...int8Plan(graph, isInt8), graph };
}
