/**
 * The gradient of `FusedBatchNorm` with per-channel statistics, without tfjs-core's full-size
 * `tile` (which broadcasts 1/σ to the whole activation before multiplying: on wasm that Tile alone
 * was ~30 % of a ResNet-20 training step) and with the shared reductions computed once:
 *
 *   r = 1/√(σ² + ε),  g = γ (or 1),  S₁ = Σ dy,  S₂ = Σ (x − μ)·dy   (sums over all but channels)
 *   ∂x = dy · (r·g)      ∂μ = −r·g·S₁      ∂σ² = −½·r³·g·S₂      ∂γ = r·S₂      ∂β = S₁
 *
 * Same math as tfjs-core's gradient (which it replaces for every backend); other ranks of the
 * statistics fall back to it.
 */
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's own gradients first, so that loading them later cannot put the slow one back.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { FusedBatchNorm, type FusedBatchNormAttrs, type GradConfig, type NamedAttrMap } from '@tensorflow/tfjs-core';

const original: GradConfig | undefined = tf.getGradient(FusedBatchNorm);

export const fusedBatchNormGradConfig: GradConfig = {
  kernelName: FusedBatchNorm,
  inputsToSave: ['x', 'mean', 'variance', 'scale'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: NamedAttrMap) => {
    const [x, mean, variance, scale] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor | undefined];
    const grad = dy as tf.Tensor;
    if (mean.rank !== 1 || x.rank < 2 || original === undefined) {
      if (!original) throw new Error('tfjs-core has no FusedBatchNorm gradient to fall back to');
      return original.gradFunc(dy, saved, attrs);
    }
    const { varianceEpsilon } = attrs as unknown as FusedBatchNormAttrs;
    const axes = Array.from({ length: x.rank - 1 }, (_, i) => i);
    // Shared terms are computed here, not inside the per-input closures: the engine runs each
    // closure in its own tidy, which would dispose a value memoised by an earlier closure.
    // (All five gradients are needed when BatchNorm trains: mean and variance depend on x.)
    const r = tf.rsqrt(tf.add(variance, varianceEpsilon));
    const rg = scale ? tf.mul(r, scale) : r;
    const sumDy = tf.sum(grad, axes);
    const sumCentredDy = tf.sum(tf.mul(tf.sub(x, mean), grad), axes);
    return {
      x: () => tf.mul(grad, rg),
      mean: () => tf.neg(tf.mul(rg, sumDy)),
      variance: () => tf.mul(tf.mul(tf.mul(tf.mul(r, r), rg), sumCentredDy), -0.5),
      scale: () => tf.mul(r, sumCentredDy),
      offset: () => tf.clone(sumDy),
    };
  },
};

/** Puts tfjs-core's FusedBatchNorm gradient back. */
export function restoreOriginalFusedBatchNormGradient(): void {
  if (original) tf.registerGradient(original);
}
