// The optimizer's per-parameter SGD step in one pass (server/train/optimizers.ts, SGD_UPDATE): the
// composite form is eight element-wise ops, each a full pass over the parameter and its
// gradient — on fmnist-cnn's 0.4 M-weight dense layer, a fifth of the training step.
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { SGD_UPDATE, type SgdUpdateAttrs } from '../../../train/optimizers';
import type { OnednnAddon } from '../addon';
import { BACKEND_NAME, floatValues, outputArray } from '../util';

export function optimizerKernels(addon: OnednnAddon): KernelConfig[] {
  const kernelFunc: KernelFunc = (args) => {
    const { w, g, buf } = args.inputs as { w: TensorInfo; g: TensorInfo; buf: TensorInfo };
    const { lr, momentum, nesterov, weightDecay } = args.attrs as unknown as SgdUpdateAttrs;
    const backend = args.backend as MathBackendCPU;
    const [wValues, gValues, bufValues] = [floatValues(backend, w), floatValues(backend, g), floatValues(backend, buf)];
    if (!wValues || !gValues || !bufValues || gValues.length !== wValues.length || bufValues.length !== wValues.length) {
      throw new Error(`${SGD_UPDATE}: w, g and buf must be float32 tensors of the same size`);
    }
    const wOut = outputArray(wValues.length);
    const bufOut = outputArray(wValues.length);
    addon.sgdUpdate(wValues, gValues, bufValues, wOut, bufOut, lr, momentum, nesterov, weightDecay);
    return [backend.makeTensorInfo(w.shape, 'float32', wOut), backend.makeTensorInfo(w.shape, 'float32', bufOut)];
  };
  return [{ kernelName: SGD_UPDATE, backendName: BACKEND_NAME, kernelFunc }];
}
