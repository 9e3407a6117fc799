// Batch normalization in training mode as one kernel with one gradient kernel, both on oneDNN.
// tfjs-layers computes it from moments() and batchNorm(), and its gradient then flows through
// the mean, the variance and the normalization separately: about twenty full passes over every
// activation per training step, which made these ops cost more than the convolutions.
import * as tf from '@tensorflow/tfjs-core';
import type { GradConfig, KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { OnednnAddon } from '../addon';
import { BACKEND_NAME, floatValues, outputArray, sizeOf } from '../util';

/** Inputs x [..., C], scale [C], offset [C]; attrs { epsilon }; outputs y, batch mean [C], biased batch variance [C]. */
export const BATCH_NORM_TRAINING = 'TernBatchNormTraining';
/** Inputs dy, x, scale, offset, mean, variance; attrs { epsilon }; outputs dx, dscale, doffset. */
export const BATCH_NORM_TRAINING_GRAD = 'TernBatchNormTrainingGrad';

export interface BatchNormTrainingAttrs {
  epsilon: number;
}

function rowsAndChannels(shape: readonly number[]): { rows: number; channels: number } {
  const channels = shape[shape.length - 1]!;
  return { rows: sizeOf(shape) / channels, channels };
}

function requireFloats(backend: MathBackendCPU, t: TensorInfo, what: string, length: number): Float32Array {
  const values = floatValues(backend, t);
  if (!values) throw new Error(`${BATCH_NORM_TRAINING}: ${what} must be float32`);
  if (values.length !== length) throw new Error(`${BATCH_NORM_TRAINING}: ${what} has ${values.length} values, expected ${length}`);
  return values;
}

export function batchNormTrainingKernels(addon: OnednnAddon): KernelConfig[] {
  const forward: KernelFunc = (args) => {
    const { x, scale, offset } = args.inputs as { x: TensorInfo; scale: TensorInfo; offset: TensorInfo };
    const { epsilon } = args.attrs as unknown as BatchNormTrainingAttrs;
    const backend = args.backend as MathBackendCPU;
    const { rows, channels } = rowsAndChannels(x.shape);
    const xValues = requireFloats(backend, x, 'x', rows * channels);
    const y = outputArray(rows * channels);
    const mean = new Float32Array(channels);
    const variance = new Float32Array(channels);
    addon.batchNormTrainForward(
      rows,
      channels,
      epsilon,
      xValues,
      requireFloats(backend, scale, 'scale', channels),
      requireFloats(backend, offset, 'offset', channels),
      y,
      mean,
      variance,
    );
    return [
      backend.makeTensorInfo(x.shape, 'float32', y),
      backend.makeTensorInfo([channels], 'float32', mean),
      backend.makeTensorInfo([channels], 'float32', variance),
    ];
  };
  const backward: KernelFunc = (args) => {
    const { dy, x, scale, offset, mean, variance } = args.inputs as Record<
      'dy' | 'x' | 'scale' | 'offset' | 'mean' | 'variance',
      TensorInfo
    >;
    const { epsilon } = args.attrs as unknown as BatchNormTrainingAttrs;
    const backend = args.backend as MathBackendCPU;
    const { rows, channels } = rowsAndChannels(x.shape);
    const dx = outputArray(rows * channels);
    const dscale = new Float32Array(channels);
    const dshift = new Float32Array(channels);
    addon.batchNormTrainBackward(
      rows,
      channels,
      epsilon,
      requireFloats(backend, x, 'x', rows * channels),
      requireFloats(backend, dy, 'dy', rows * channels),
      requireFloats(backend, mean, 'mean', channels),
      requireFloats(backend, variance, 'variance', channels),
      requireFloats(backend, scale, 'scale', channels),
      requireFloats(backend, offset, 'offset', channels),
      dx,
      dscale,
      dshift,
    );
    return [
      backend.makeTensorInfo(x.shape, 'float32', dx),
      backend.makeTensorInfo([channels], 'float32', dscale),
      backend.makeTensorInfo([channels], 'float32', dshift),
    ];
  };
  return [
    { kernelName: BATCH_NORM_TRAINING, backendName: BACKEND_NAME, kernelFunc: forward },
    { kernelName: BATCH_NORM_TRAINING_GRAD, backendName: BACKEND_NAME, kernelFunc: backward },
  ];
}

/**
 * The gradient of BATCH_NORM_TRAINING's y. Its mean and variance outputs feed only the moving
 * averages, which are not differentiated, so their incoming gradients (zeros) are ignored.
 */
export const batchNormTrainingGradConfig: GradConfig = {
  kernelName: BATCH_NORM_TRAINING,
  inputsToSave: ['x', 'scale', 'offset'],
  outputsToSave: [false, true, true],
  gradFunc: (dys: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: NamedAttrMap) => {
    const dy = Array.isArray(dys) ? dys[0]! : dys;
    const [x, scale, offset, mean, variance] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
    // Computed once here: the engine runs each closure below in its own tidy.
    const [dx, dscale, doffset] = tf
      .engine()
      .runKernel(BATCH_NORM_TRAINING_GRAD, { dy, x, scale, offset, mean, variance }, attrs) as tf.Tensor[];
    return { x: () => dx!, scale: () => dscale!, offset: () => doffset! };
  },
};

/** Runs the training-mode batch norm (the onednn backend must be active). */
export function batchNormTraining(x: tf.Tensor, scale: tf.Tensor, offset: tf.Tensor, epsilon: number): [tf.Tensor, tf.Tensor, tf.Tensor] {
  const attrs: BatchNormTrainingAttrs = { epsilon };
  return tf.engine().runKernel(BATCH_NORM_TRAINING, { x, scale, offset }, attrs as unknown as NamedAttrMap) as [
    tf.Tensor,
    tf.Tensor,
    tf.Tensor,
  ];
}
