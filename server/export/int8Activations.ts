/**
 * 8-bit activations after training: the ranges of the tensors the int8 plan quantizes
 * (server/formats/onnx/export/int8Plan.ts), observed on calibration images, and our own fake-quantized
 * inference with them — the reference the QDQ model.onnx (model-int8.onnx) is checked against.
 */
import * as tf from '@tensorflow/tfjs-core';
import { model as functionalModel, type LayersModel, type SymbolicTensor } from '@tensorflow/tfjs-layers';
import { activationQuant, modelInt8Plan, type ActivationQuant, type Int8Plan } from '../formats/onnx/export/int8Plan';
import type { LayerGraph } from '../formats/onnx/export/layerGraph';
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
  /** min and max of the model's output (the logits) on the calibration images: the scale of the parity bound. */
  outputRange: { min: number; max: number };
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

/**
 * Observes min and max of every tensor the plan quantizes over the calibration images (float
 * inference of the trained model, batch by batch, in order: the same images give the same ranges).
 */
export function calibrate(model: LayersModel, packed: PackedModel, images: CalibrationImages): Int8Activations {
  const plan = modelInt8Plan(model, packed);
  if (plan.layers.length === 0) {
    throw new Int8ExportError(
      '8-bit activations need ternary layers with t_ex 1 (codes −1, 0, +1): this model has none (REL layers with t_ex 2 or 4, ' +
        'or float layers only). Export it with float activations (tern export without --activations int8).',
    );
  }
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
