// Gradients that this backend computes in fewer full-size passes. Gradients are global in tfjs,
// so each override checks the active backend and defers to the gradient it replaced elsewhere.
import * as tf from '@tensorflow/tfjs-core';
import { Mean, Relu, util } from '@tensorflow/tfjs-core';
import type { GradConfig, KernelConfig, KernelFunc, MeanAttrs, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { OnednnAddon } from './addon';
import { broadcastOf, runLength } from './kernels/elementwise';
import { BACKEND_NAME, floatValues, outputArray, sizeOf } from './util';

/** out = broadcast(x, shape) · scale in one pass (this backend only). */
export const BROADCAST_SCALED = 'TernOnednnBroadcastScaled';

export function broadcastScaledKernel(addon: OnednnAddon): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const { shape, scale } = args.attrs as unknown as { shape: number[]; scale: number };
    const backend = args.backend as MathBackendCPU;
    const values = floatValues(backend, x);
    const bc = broadcastOf(x.shape, shape);
    if (!values || !bc) throw new Error(`${BROADCAST_SCALED}: cannot broadcast ${JSON.stringify(x.shape)} to ${JSON.stringify(shape)}`);
    const size = sizeOf(shape);
    const out = outputArray(size);
    const full = { repeat: size, inner: 1 };
    addon.binary(2, values, bc.repeat, bc.inner, new Float32Array([scale]), full.repeat, full.inner, out, runLength(size, [bc, full]));
    return backend.makeTensorInfo(shape, 'float32', out);
  };
  return { kernelName: BROADCAST_SCALED, backendName: BACKEND_NAME, kernelFunc };
}

/** dx = dy · step(x) in one pass (this backend only). */
export const RELU_GRAD = 'TernOnednnReluGrad';

export function reluGradKernel(addon: OnednnAddon): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const { dy, x } = args.inputs as { dy: TensorInfo; x: TensorInfo };
    const backend = args.backend as MathBackendCPU;
    const dyValues = floatValues(backend, dy);
    const xValues = floatValues(backend, x);
    if (!dyValues || !xValues || dyValues.length !== xValues.length)
      throw new Error(`${RELU_GRAD}: dy and x must be float32 of the same size`);
    const dx = outputArray(xValues.length);
    addon.reluBackward(dyValues, xValues, dx);
    return backend.makeTensorInfo(x.shape, 'float32', dx);
  };
  return { kernelName: RELU_GRAD, backendName: BACKEND_NAME, kernelFunc };
}

/** Replaces `kernelName`'s gradient with one that runs `fast` on this backend and the original elsewhere. */
function overrideGradient(
  kernelName: string,
  fast: (dy: tf.Tensor, saved: tf.Tensor[], attrs: NamedAttrMap) => Record<string, () => tf.Tensor> | null,
): void {
  const original = tf.getGradient(kernelName);
  if (!original || (original as { onednn?: boolean }).onednn) return;
  const config: GradConfig & { onednn: boolean } = {
    kernelName,
    inputsToSave: original.inputsToSave,
    outputsToSave: original.outputsToSave,
    onednn: true,
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: NamedAttrMap) => {
      const grads = tf.getBackend() === BACKEND_NAME && !Array.isArray(dy) ? fast(dy, saved, attrs) : null;
      return grads ?? original.gradFunc(dy, saved, attrs);
    },
  };
  tf.registerGradient(config);
}

/**
 * Mean's gradient, dy/n spread over the reduced axes: tfjs-core builds a full tensor of ones in
 * JavaScript, multiplies and divides (three full passes); here it is one native pass.
 */
export function registerFastGradients(addon: OnednnAddon): void {
  tf.registerKernel(reluGradKernel(addon));
  overrideGradient(Relu, (dy, saved) => {
    const x = saved[0];
    if (!x || x.dtype !== 'float32' || dy.dtype !== 'float32') return null;
    return { x: () => tf.engine().runKernel(RELU_GRAD, { dy, x }) as tf.Tensor };
  });
  overrideGradient(Mean, (dy, saved, attrs) => {
    const x = saved[0];
    if (!x || x.dtype !== 'float32') return null;
    const axes = util.parseAxisParam((attrs as unknown as MeanAttrs).axis, x.shape);
    const expanded = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
    if (!broadcastOf(expanded, x.shape)) return null;
    const scale = 1 / sizeOf(axes.map((a) => x.shape[a]!));
    return {
      x: () =>
        tf
          .engine()
          .runKernel(BROADCAST_SCALED, { x: tf.reshape(dy, expanded) }, { shape: x.shape, scale } as unknown as NamedAttrMap) as tf.Tensor,
    };
  });
}
