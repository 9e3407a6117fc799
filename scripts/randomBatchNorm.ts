/** BatchNorm statistics for benchmark models, so that a randomly initialised network computes like a trained one. */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';

export function randomizeBatchNorm(model: LayersModel, seed: number): void {
  let s = seed;
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const n = layer.getWeights()[0].shape[0];
    const v = layer.weights.map((w) => {
      const kind = w.originalName.slice(w.originalName.lastIndexOf('/') + 1);
      return tf.tidy(() => {
        const u = tf.randomUniform([n], 0, 1, 'float32', s++);
        return kind === 'moving_variance' || kind === 'gamma' ? tf.add(u, 0.5) : tf.mul(tf.sub(u, 0.5), 0.2);
      });
    });
    layer.setWeights(v);
    tf.dispose(v);
  }
}
