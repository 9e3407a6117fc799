/**
 * `Identity` for the wasm backend that shares the input's buffer (reference-counted, as the cpu
 * backend and wasm's own Reshape do) instead of copying it: tensors are immutable and no wasm
 * kernel writes into its inputs, so a copy buys nothing. A ResNet-20 training step calls Identity
 * ~600 times (variable reads, custom gradients), ~5 % of the step when each one copies.
 */
import { Identity, type IdentityInputs, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { originalKernel } from './wasmKernelCalls';

function identity(args: { inputs: IdentityInputs; backend: BackendWasm }): TensorInfo {
  const x = args.inputs.x as TensorInfo;
  if (x.dtype === 'string') {
    const original = originalKernel(Identity);
    if (!original) throw new Error("wasm Identity: string tensors need the backend's own kernel");
    return original.kernelFunc(args as unknown as Parameters<KernelFunc>[0]) as TensorInfo;
  }
  args.backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

export const identityConfig: KernelConfig = {
  kernelName: Identity,
  backendName: 'wasm',
  kernelFunc: identity as unknown as KernelFunc,
};
