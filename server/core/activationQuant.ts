/**
 * 8-bit activations (docs/method.md, "8-bit activations"): the uint8 quantization of a tensor from
 * its observed range, and the fake quantization a ternary layer applies to its input while training
 * with `quant.activations: int8` — the same rounding ONNX's QuantizeLinear → DequantizeLinear does,
 * so the QDQ export (server/formats/onnx/export/int8Plan.ts, model-int8.onnx) computes what training saw.
 *
 * Each int8 layer keeps its input's range as a non-trainable weight `input_range` = [min, max]
 * (saved with the model and in checkpoints, as BatchNorm's moving statistics are). [0, 0] means
 * not observed yet: the first observed batch sets it, later ones move it by an exponential moving
 * average, and after ACTIVATION_OBSERVE_EPOCHS epochs it is frozen. The torch engine receives
 * these constants in its job (shared/engineProtocol.ts) and computes the same.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel, LayerVariable } from '@tensorflow/tfjs-layers';

/** Epochs, from the first, during which each int8 layer's input range follows the moving average; frozen afterwards. */
export const ACTIVATION_OBSERVE_EPOCHS = 1;

/** The moving average of the range: r ← m·r + (1 − m)·(batch min, batch max). */
export const ACTIVATION_RANGE_MOMENTUM = 0.99;

/** The name of the weight holding an int8 layer's input range (tfjs: `<layer>/input_range`). */
export const INPUT_RANGE_WEIGHT = 'input_range';

/** What a ternary layer's input is quantized to: `int8` (absent: float). */
export type InputQuant = 'int8';

/** The uint8 quantization of one tensor: q = clamp(round(x / scale) + zeroPoint, 0, 255), x ≈ (q − zeroPoint)·scale. */
export interface ActivationQuant {
  /** The observed range (calibrated or trained) the quantization was made from. */
  min: number;
  max: number;
  /** float32. */
  scale: number;
  /** 0 … 255. */
  zeroPoint: number;
}

/** Smallest width of a range, so that a constant tensor still gets a positive scale. */
const MIN_WIDTH = 1e-8;

/**
 * The uint8 quantization covering [min, max], widened to hold 0 (padding and ReLU zeros are then
 * exact). A ReLU output (min 0) gets zero point 0, which lets ONNX Runtime drop the Relu.
 * uint8 with a zero point also covers inputs that can be negative (a normalized image), so one
 * form serves every layer.
 */
export function activationQuant(min: number, max: number): ActivationQuant {
  const lo = Math.min(0, min);
  const hi = Math.max(0, max, lo + MIN_WIDTH);
  const scale = Math.fround((hi - lo) / 255);
  const zeroPoint = Math.min(255, Math.max(0, Math.round(-lo / scale)));
  return { min, max, scale, zeroPoint };
}

/** activationQuant on a [min, max] tensor, without reading it back: [scale, zeroPoint] as scalars. */
function scaleAndZeroPoint(range: tf.Tensor): { scale: tf.Scalar; zeroPoint: tf.Scalar } {
  const [min, max] = tf.unstack(range) as [tf.Scalar, tf.Scalar];
  const lo = tf.minimum(min, 0);
  const hi = tf.maximum(tf.maximum(max, 0), tf.add(lo, MIN_WIDTH));
  const scale = tf.div(tf.sub(hi, lo), 255) as tf.Scalar;
  // floor(v + 0.5): Math.round's rounding (activationQuant), not tf.round's half to even.
  const zeroPoint = tf.clipByValue(tf.floor(tf.add(tf.div(tf.neg(lo), scale), 0.5)), 0, 255) as tf.Scalar;
  return { scale, zeroPoint };
}

/** 1 when the range [min, max] has been observed (max > min), 0 for [0, 0]: a float scalar. */
function observedFlag(range: tf.Tensor): tf.Scalar {
  const [min, max] = tf.unstack(range) as [tf.Scalar, tf.Scalar];
  return tf.cast(tf.greater(max, min), 'float32') as tf.Scalar;
}

/**
 * x fake-quantized with the range `range` ([min, max]; [0, 0] = not observed: x passes unchanged).
 * Values round half to even, as QuantizeLinear does. Gradient: straight through where x lies inside
 * the representable range, 0 where it was clipped.
 */
export function fakeQuantizeInput(x: tf.Tensor, range: tf.Tensor): tf.Tensor {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const input = args[0] as tf.Tensor;
    const { scale, zeroPoint } = scaleAndZeroPoint(range);
    const observed = observedFlag(range);
    const t = tf.add(tf.round(tf.div(input, scale)), zeroPoint);
    const q = tf.clipByValue(t, 0, 255);
    const quantized = tf.mul(tf.sub(q, zeroPoint), scale);
    const inside = tf.cast(tf.equal(t, q), 'float32');
    // Unobserved: value x and gradient dy (pass = 1); observed: the quantized value and the clipped STE.
    const pass = tf.sub(1, tf.mul(observed, tf.sub(1, inside)));
    (args[1] as tf.GradSaveFunc)([pass]);
    return {
      value: tf.add(input, tf.mul(observed, tf.sub(quantized, input))),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(dy, saved[0]!),
    };
  });
  return op(x);
}

/**
 * Moves `range` ([min, max]) toward this batch's min and max of x: set to them when not observed
 * yet ([0, 0]), else r ← m·r + (1 − m)·batch. Runs on tensors (no read-back).
 */
export function observeRange(range: LayerVariable, x: tf.Tensor): void {
  tf.tidy(() => {
    const r = range.read();
    const batch = tf.stack([tf.min(x), tf.max(x)]);
    const observed = observedFlag(r);
    range.write(tf.add(batch, tf.mul(tf.mul(observed, ACTIVATION_RANGE_MOMENTUM), tf.sub(r, batch))));
  });
}

/** A layer that quantizes its input: TernaryConv2D / TernaryDense with `inputQuant` (duck-typed, as server/stats/kernelLayers.ts). */
interface InputQuantLayer {
  name: string;
  inputQuant?: InputQuant;
  observeInputRange: boolean;
  inputRange: LayerVariable | null;
}

function inputQuantLayers(model: LayersModel): InputQuantLayer[] {
  const out: InputQuantLayer[] = [];
  for (const layer of model.layers) {
    if (Array.isArray((layer as LayersModel).layers)) out.push(...inputQuantLayers(layer as LayersModel));
    else if ((layer as unknown as InputQuantLayer).inputQuant !== undefined) out.push(layer as unknown as InputQuantLayer);
  }
  return out;
}

/** The input range [min, max] of each int8 layer, by layer name (read back: for export and statistics). */
export function inputRanges(model: LayersModel): Map<string, { min: number; max: number }> {
  const out = new Map<string, { min: number; max: number }>();
  for (const layer of inputQuantLayers(model)) {
    if (!layer.inputRange) continue;
    const [min, max] = layer.inputRange.read().dataSync();
    out.set(layer.name, { min: min!, max: max! });
  }
  return out;
}

/** Whether training epoch `epoch` (0-based) still observes the input ranges (ACTIVATION_OBSERVE_EPOCHS). */
export function observesRanges(epoch: number): boolean {
  return epoch < ACTIVATION_OBSERVE_EPOCHS;
}

/** Lets the model's int8 layers update their input ranges in training calls (true) or keeps them frozen (false). */
export function setRangeObserving(model: LayersModel, on: boolean): void {
  for (const layer of inputQuantLayers(model)) layer.observeInputRange = on;
}
