/**
 * ONNX's HardSigmoid (y = max(0, min(1, α·x + β))) and HardSwish (y = x · HardSigmoid(x) with
 * α = 1/6, β = 1/2), for models imported from ONNX (server/formats/onnx/import). tfjs's built-in
 * 'hardSigmoid' activation has fixed α = 0.2, β = 0.5; PyTorch's Hardsigmoid and Hardswish use
 * 1/6, so neither maps onto it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { layers } from '@tensorflow/tfjs-layers';
import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology';
import type { Shape } from '@tensorflow/tfjs-layers';

export interface HardSigmoidArgs extends LayerArgs {
  /** Slope α (ONNX default 0.2; PyTorch exports 1/6). */
  alpha?: number;
  /** Offset β (default 0.5). */
  beta?: number;
}

export class HardSigmoid extends layers.Layer {
  static className = 'HardSigmoid';
  readonly alpha: number;
  readonly beta: number;

  constructor(args: HardSigmoidArgs) {
    super(args);
    this.alpha = args.alpha ?? 0.2;
    this.beta = args.beta ?? 0.5;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      return tf.clipByValue(tf.add(tf.mul(x, this.alpha), this.beta), 0, 1);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), alpha: this.alpha, beta: this.beta };
  }
}
tf.serialization.registerClass(HardSigmoid);

export class HardSwish extends layers.Layer {
  static className = 'HardSwish';

  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      return tf.mul(x, tf.clipByValue(tf.add(tf.mul(x, 1 / 6), 0.5), 0, 1));
    });
  }
}
tf.serialization.registerClass(HardSwish);
