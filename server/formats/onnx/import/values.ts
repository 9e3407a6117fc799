/**
 * What flows along the edges of an imported graph: tfjs symbolic tensors (with the layout facts the
 * converters need), constants, and the zeros of `x.mul(0)` (the option-A shortcut's padding).
 */
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import type { ConstTensor } from './read';

/**
 * How a tfjs tensor stands for an ONNX one: 'nhwc' is a rank-4 NCHW tensor held as NHWC, 'flat' a
 * rank-2 [N, F] tensor, 'squeezed' an ONNX [N, C, 1, 1] (a global pool's output) held as [N, C].
 */
export type Layout = 'nhwc' | 'flat' | 'squeezed';

export interface TensorValue {
  kind: 'tensor';
  t: SymbolicTensor;
  layout: Layout;
  /** Every element is ≥ 0 (after ReLU, Sigmoid, …): zero padding then equals MaxPool's −∞ padding. */
  nonNegative: boolean;
  /**
   * Set on the output of a Flatten of NHWC maps [C, H, W] with H·W > 1: the tfjs features are in
   * NHWC order where ONNX has them in NCHW order. A following Gemm/MatMul permutes its weight rows
   * instead (exact, free at run time); anything else gets a transpose first.
   */
  nchwFlatten?: [number, number, number];
  /**
   * An ONNX [N, H, W, C] tensor: Transpose(0, 2, 3, 1) of NCHW maps, which tfjs holds as they are
   * (our model.onnx writes it before a Flatten, so the Dense after sees tfjs's order). Only
   * Flatten takes it.
   */
  channelsLast?: boolean;
}

export interface ConstValue {
  kind: 'const';
  c: ConstTensor;
}

/** The product of a tensor and the constant 0: concatenated after a tensor it is zero padding. */
export interface ZerosValue {
  kind: 'zeros';
  like: TensorValue;
}

export type Value = TensorValue | ConstValue | ZerosValue;

/** The ONNX (NCHW) shape of a tensor value; null is the batch. */
export function onnxShape(v: TensorValue): (number | null)[] {
  const s = v.t.shape;
  if (v.channelsLast) return [...s];
  if (v.layout === 'nhwc') return [s[0], s[3], s[1], s[2]];
  if (v.layout === 'squeezed') return [s[0], s[1], 1, 1];
  return [...s];
}
