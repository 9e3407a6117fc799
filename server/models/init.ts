/**
 * Seeded Kaiming-normal initialization of every conv/dense kernel, as PyTorch's
 * `kaiming_normal_` defaults (fan_in, gain √2, untruncated normal): std = √(2 / fan_in).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';

const KERNEL_LAYER_CLASSES = new Set(['Conv2D', 'Dense', 'TernaryConv2D', 'TernaryDense']);

/** fan_in of a conv kernel [kh, kw, in, out] or a dense kernel [in, out]. */
export function fanIn(shape: number[]): number {
  return shape.slice(0, -1).reduce((a, b) => a * b, 1);
}

/**
 * Overwrites the kernels of all conv/dense layers with N(0, 2/fan_in) draws; layer k (in model
 * order) uses seed `seed + k`, so two models built with the same seed are identical.
 * Biases are zero (tfjs's default, and what the reference sets for its classifier).
 */
export function initializeKaiming(model: LayersModel, seed: number): void {
  let k = 0;
  for (const layer of model.layers) {
    if (!KERNEL_LAYER_CLASSES.has(layer.getClassName())) continue;
    const kernel = layer.weights.find((w) => /(^|\/)kernel$/.test(w.originalName) || w.name.endsWith('/kernel'));
    if (!kernel) continue;
    const std = Math.sqrt(2 / Math.max(1, fanIn(kernel.shape as number[])));
    const value = tf.randomNormal(kernel.shape as number[], 0, std, 'float32', seed + k);
    kernel.write(value);
    value.dispose();
    k++;
  }
}
