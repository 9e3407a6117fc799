/**
 * 8-bit activations after training: the ranges of the tensors the int8 plan quantizes
 * (server/formats/onnx/export/int8Plan.ts), observed on calibration images, and our own fake-quantized
 * inference with them — the reference the QDQ model.onnx (model-int8.onnx) is checked against.
 */
import * as tf from '@tensorflow/tfjs-core';
import { model as functionalModel, type LayersModel, type SymbolicTensor } from '@tensorflow/tfjs-layers';
import { activationQuant, modelInt8Plan, type ActivationQuant, type Int8Plan } from '../formats/onnx/export/int8Plan';
import type { GraphLayer, LayerGraph } from '../formats/onnx/export/layerGraph';
import type { PackedModel } from '../formats/packedModel';
import { UserError } from '../../shared/userError';

/** Activations a model can be exported with: float (model.onnx only) or int8 (also model-int8.onnx). */
export const EXPORT_ACTIVATIONS = ['float', 'int8'] as const;
export type ExportActivations = (typeof EXPORT_ACTIVATIONS)[number];

/** Calibration images used when none are asked for. */
export const DEFAULT_CALIBRATION_IMAGES = 256;

/** Images for calibration: NHWC float32, normalized as in training. */
export interface CalibrationImages {
  x: Float32Array;
  n: number;
  /** Where they come from, for the report. */
  source: string;
}

/** The calibrated quantization of a model's activations. */
export interface Int8Activations {
  plan: Int8Plan & { graph: LayerGraph };
  /** The uint8 quantization of each quantized tensor, by the layer producing it (or the input's name). */
  quant: Map<string, ActivationQuant>;
  /**
   * min and max of the model's output (the logits) on the calibration images: the scale of the parity
   * bound. Absent with trained ranges and no calibration: the export takes the logits' range on its parity inputs.
   */
  outputRange?: { min: number; max: number };
  source: string;
}

/** A model that has nothing to compute in int8. */
export class Int8ExportError extends UserError {
  constructor(message: string) {
    super('exportFailed', message);
    this.name = 'Int8ExportError';
  }
}

const BATCH = 64;

/** The int8 plan of a model, or the error saying why it has nothing to compute in int8. */
function int8PlanOf(model: LayersModel, packed: PackedModel): Int8Plan & { graph: LayerGraph } {
  const plan = modelInt8Plan(model, packed);
  if (plan.layers.length === 0) {
    throw new Int8ExportError(
      '8-bit activations need ternary layers with t_ex 1 (codes −1, 0, +1): this model has none (REL layers with t_ex 2 or 4, ' +
        'or float layers only). Export it with float activations (tern export without --activations int8).',
    );
  }
  return plan;
}

/**
 * Layers a quantized tensor passes through unchanged on its grid: max-pooling picks one of its
 * values, the others only reshape. A tensor reaching an int8 layer through them is quantized as
 * that layer's input was in training.
 */
const GRID_PRESERVING = new Set(['MaxPooling2D', 'GlobalMaxPooling2D', 'Flatten', 'Reshape', 'Dropout']);

/**
 * The quantization of a model trained with 8-bit activations (quant.activations int8): every
 * tensor the plan quantizes takes the trained input range of the int8 layers it feeds, directly or
 * through GRID_PRESERVING layers (several: the union of their ranges). The others — a ResNet block's
 * sum, which training did not quantize — are calibrated on `calibrationImages()`; without images they are an
 * error naming them. `model` is the float-activation twin (server/models/convert.ts withFloatActivations)
 * and `ranges` the trained model's (server/core/activationQuant.ts inputRanges).
 */
export async function trainedActivations(
  model: LayersModel,
  packed: PackedModel,
  ranges: ReadonlyMap<string, { min: number; max: number }>,
  calibrationImages: () => Promise<CalibrationImages | undefined>,
): Promise<Int8Activations> {
  const plan = int8PlanOf(model, packed);
  const consumers = new Map<string, GraphLayer[]>();
  for (const layer of plan.graph.layers) {
    for (const input of layer.inputs) consumers.set(input, [...(consumers.get(input) ?? []), layer]);
  }
  const reached = (name: string, out: { min: number; max: number }[]): { min: number; max: number }[] => {
    for (const c of consumers.get(name) ?? []) {
      const range = ranges.get(c.name);
      if (range && c.inputs[0] === name) out.push(range);
      else if (GRID_PRESERVING.has(c.className)) reached(c.name, out);
    }
    return out;
  };
  const quant = new Map<string, ActivationQuant>();
  const untrained: string[] = [];
  for (const point of plan.points) {
    const found = reached(point, []);
    if (found.length === 0) untrained.push(point);
    else quant.set(point, activationQuant(Math.min(...found.map((r) => r.min)), Math.max(...found.map((r) => r.max))));
  }
  if (untrained.length === 0)
    return { plan, quant, source: `trained ranges (quant.activations int8) for all ${quant.size} quantized tensors` };
  const images = await calibrationImages();
  if (!images) {
    throw new Int8ExportError(
      `8-bit activations: training observed the inputs of the ternary layers, not ${untrained.map((p) => `'${p}'`).join(', ')}, ` +
        'which are calibrated on training images, and this model has no data: export the run folder that trained it.',
    );
  }
  const calibrated = calibrate(model, packed, images);
  for (const point of untrained) quant.set(point, calibrated.quant.get(point)!);
  return {
    plan,
    quant,
    outputRange: calibrated.outputRange,
    source: `trained ranges for ${plan.points.length - untrained.length} quantized tensors, ${images.source} for ${untrained.length} (${untrained.join(', ')})`,
  };
}

/**
 * Observes min and max of every tensor the plan quantizes over the calibration images (float
 * inference of the trained model, batch by batch, in order: the same images give the same ranges).
 */
export function calibrate(model: LayersModel, packed: PackedModel, images: CalibrationImages): Int8Activations {
  const plan = int8PlanOf(model, packed);
  const OUTPUT = '\u0000output';
  const inner = [...plan.points.filter((p) => p !== plan.graph.input.name), OUTPUT];
  const probe = functionalModel({
    inputs: model.inputs,
    outputs: inner.map((p) => (p === OUTPUT ? model.outputs[0] : (model.getLayer(p).output as SymbolicTensor))),
  });
  const inputShape = model.inputs[0].shape.slice(1) as number[];
  const size = inputShape.reduce((a, b) => a * b, 1);
  const lo = new Map([...plan.points, OUTPUT].map((p) => [p, Infinity]));
  const hi = new Map([...plan.points, OUTPUT].map((p) => [p, -Infinity]));
  const observe = (point: string, values: ArrayLike<number>) => {
    let a = lo.get(point)!;
    let b = hi.get(point)!;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v < a) a = v;
      if (v > b) b = v;
    }
    lo.set(point, a);
    hi.set(point, b);
  };
  for (let i = 0; i < images.n; i += BATCH) {
    const n = Math.min(BATCH, images.n - i);
    const x = images.x.subarray(i * size, (i + n) * size);
    if (plan.points.includes(plan.graph.input.name)) observe(plan.graph.input.name, x);
    const outs = tf.tidy(() => {
      const y = probe.predict(tf.tensor(x, [n, ...inputShape]));
      return (Array.isArray(y) ? y : [y]).map((t) => t.dataSync() as Float32Array);
    });
    inner.forEach((p, k) => observe(p, outs[k]));
  }
  const quant = new Map(plan.points.map((p) => [p, activationQuant(lo.get(p)!, hi.get(p)!)]));
  return { plan, quant, outputRange: { min: lo.get(OUTPUT)!, max: hi.get(OUTPUT)! }, source: images.source };
}

/** x fake-quantized with `q` as ONNX's QuantizeLinear → DequantizeLinear compute it (round half to even). */
export function fakeQuantize(x: tf.Tensor, q: ActivationQuant): tf.Tensor {
  return tf.tidy(() => tf.mul(tf.sub(tf.clipByValue(tf.add(tf.round(tf.div(x, q.scale)), q.zeroPoint), 0, 255), q.zeroPoint), q.scale));
}

/**
 * Our inference with 8-bit activations: the model's layers applied one by one (inference mode),
 * each tensor the plan names fake-quantized for all its consumers. BatchNorm is applied as in
 * training, not folded: the integer model differs from this only by rounding (docs/formats.md).
 */
export function fakeQuantPredict(model: LayersModel, int8: Int8Activations, x: tf.Tensor): tf.Tensor {
  const { graph } = int8.plan;
  return tf.tidy(() => {
    const values = new Map<string, tf.Tensor>();
    const quantized = (name: string, t: tf.Tensor) => {
      const q = int8.quant.get(name);
      return q ? fakeQuantize(t, q) : t;
    };
    values.set(graph.input.name, quantized(graph.input.name, x));
    for (const layer of graph.layers) {
      const inputs = layer.inputs.map((name) => values.get(name)!);
      const out = model.getLayer(layer.name).apply(inputs.length === 1 ? inputs[0] : inputs, { training: false }) as tf.Tensor;
      values.set(layer.name, quantized(layer.name, out));
    }
    return values.get(graph.output)!;
  });
}
