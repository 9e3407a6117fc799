/**
 * `Sum` and `Mean` over every axis but the last (per-channel reductions of NHWC activations, as
 * BatchNorm's statistics and gradients need), for the wasm backend. Its own kernels reduce only
 * innermost axes, so they first transpose the whole activation to put the channels first (the
 * transpose costs ~10× the sum). Here the activation is read as a [1, M, 1, C] image and reduced
 * by one XNNPACK average pooling over the whole M×1 window (measured ~9× faster than the
 * backend's Mean on a fresh 128×32×32×16 activation; a 1ᵀ·X matrix product is slower, since
 * XNNPACK repacks X as weights on every call). Sum = mean · M. Every other reduction goes to the
 * backend's own kernel.
 */
import { Mean, Sum, util, type KernelConfig, type KernelFunc, type SumAttrs, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { KernelScope, originalKernel } from './wasmKernelCalls';

type ReduceArgs = { inputs: { x: TensorInfo }; backend: BackendWasm; attrs: SumAttrs };

/** True when `axis` names exactly the axes 0 … rank−2 of a float32 tensor of rank ≥ 2. */
function isPerChannel(x: TensorInfo, axis: number | number[]): boolean {
  const rank = x.shape.length;
  if (x.dtype !== 'float32' || rank < 2) return false;
  const axes = [...new Set(util.parseAxisParam(axis, x.shape))].sort((a, b) => a - b);
  return axes.length === rank - 1 && axes.every((a, i) => a === i);
}

function perChannelReduction(kernelName: string, divide: boolean): KernelFunc {
  return ((args: ReduceArgs): TensorInfo => {
    const {
      inputs: { x },
      backend,
      attrs: { axis, keepDims },
    } = args;
    if (!isPerChannel(x, axis) || util.sizeFromShape(x.shape) === 0) {
      const original = originalKernel(kernelName);
      if (!original) throw new Error(`wasm ${kernelName}: the backend's own kernel is missing`);
      return original.kernelFunc(args as unknown as Parameters<KernelFunc>[0]) as TensorInfo;
    }
    const channels = x.shape[x.shape.length - 1]!;
    const rows = util.sizeFromShape(x.shape) / channels;
    const scope = new KernelScope(backend);
    try {
      const image = scope.run('Reshape', { x }, { shape: [1, rows, 1, channels] });
      const pooled = scope.run('AvgPool', { x: image }, { filterSize: [rows, 1], strides: 1, pad: 'valid' });
      if (!divide) {
        // Our own fresh output, not yet visible to anyone: scaling it in place is safe.
        const values = backend.typedArrayFromHeap(pooled) as Float32Array;
        for (let c = 0; c < channels; c++) values[c] = values[c]! * rows;
      }
      const outShape = keepDims ? [...x.shape.slice(0, -1).map(() => 1), channels] : [channels];
      return scope.release(scope.run('Reshape', { x: pooled }, { shape: outShape }));
    } catch (err) {
      scope.disposeAll();
      throw err;
    }
  }) as unknown as KernelFunc;
}

export const sumConfig: KernelConfig = { kernelName: Sum, backendName: 'wasm', kernelFunc: perChannelReduction(Sum, false) };
export const meanConfig: KernelConfig = { kernelName: Mean, backendName: 'wasm', kernelFunc: perChannelReduction(Mean, true) };
