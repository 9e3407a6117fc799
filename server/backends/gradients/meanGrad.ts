/**
 * The gradient of a per-channel `Mean` (BatchNorm's batch statistics) on the wasm backend:
 * ∂x = broadcast(dy / M) over the reduced axes, written once by the wasm Tile fast path, instead
 * of tfjs-core's dy · ones(x.shape) / M (a full-size fill, multiply and divide). Any other mean, or
 * any other backend, uses tfjs-core's gradient.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { Mean, util, type GradConfig, type MeanAttrs, type NamedAttrMap } from '@tensorflow/tfjs-core';

const original: GradConfig | undefined = tf.getGradient(Mean);

export const meanGradConfig: GradConfig = {
  kernelName: Mean,
  inputsToSave: ['x'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: NamedAttrMap) => {
    const [x] = saved as [tf.Tensor];
    const axes = [...new Set(util.parseAxisParam((attrs as unknown as MeanAttrs).axis, x.shape))].sort((a, b) => a - b);
    const perChannel = x.rank >= 2 && axes.length === x.rank - 1 && axes.every((a, i) => a === i);
    if (!perChannel || tf.getBackend() !== 'wasm' || original === undefined) {
      if (!original) throw new Error('tfjs-core has no Mean gradient to fall back to');
      return original.gradFunc(dy, saved, attrs);
    }
    const channels = x.shape[x.rank - 1]!;
    const rows = x.size / channels;
    return {
      x: () => tf.broadcastTo(tf.reshape(tf.div(dy as tf.Tensor, rows), [...axes.map(() => 1), channels]), x.shape),
    };
  },
};

/** Puts tfjs-core's Mean gradient back (for before/after measurements and tests). */
export function restoreOriginalMeanGradient(): void {
  if (original) tf.registerGradient(original);
}
