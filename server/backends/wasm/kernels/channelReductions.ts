/**
 * `Sum` and `Mean` over every axis but the last (per-channel reductions of NHWC activations, as
 * BatchNorm's statistics and gradients need), for the wasm backend. Its own kernels reduce only
 * innermost axes, so they first transpose the whole activation to put the channels first (the
 * transpose costs ~10× the sum). Here the activation is read as an [M, C] matrix and reduced by
 * one matrix product on XNNPACK: Σ = 1ᵀ·X, mean = (1/M)ᵀ·X, with the constant row vector cached
 * per (M, value). Every other reduction goes to the backend's own kernel.
 */
import { Mean, Sum, util, type KernelConfig, type KernelFunc, type SumAttrs, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { KernelScope, originalKernel } from './wasmKernelCalls';

/** Constant [1, 1, M] row vectors, per backend instance, kept for the life of the backend. */
const rowCache = new WeakMap<BackendWasm, Map<string, TensorInfo>>();

function constantRow(backend: BackendWasm, length: number, value: number): TensorInfo {
  let rows = rowCache.get(backend);
  if (!rows) rowCache.set(backend, (rows = new Map()));
  const key = `${length}:${value}`;
  let row = rows.get(key);
  if (!row) {
    row = backend.makeOutput([1, 1, length], 'float32');
    (backend.typedArrayFromHeap(row) as Float32Array).fill(value);
    rows.set(key, row);
  }
  return row;
}

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
    const { inputs: { x }, backend, attrs: { axis, keepDims } } = args;
    if (!isPerChannel(x, axis) || util.sizeFromShape(x.shape) === 0) {
      const original = originalKernel(kernelName);
      if (!original) throw new Error(`wasm ${kernelName}: the backend's own kernel is missing`);
      return original.kernelFunc(args as unknown as Parameters<KernelFunc>[0]) as TensorInfo;
    }
    const channels = x.shape[x.shape.length - 1]!;
    const rows = util.sizeFromShape(x.shape) / channels;
    const scope = new KernelScope(backend);
    try {
      const matrix = scope.run('Reshape', { x }, { shape: [1, rows, channels] });
      const weights = constantRow(backend, rows, divide ? 1 / rows : 1);
      const product = scope.run('BatchMatMul', { a: weights, b: matrix }, { transposeA: false, transposeB: false });
      const outShape = keepDims ? [...x.shape.slice(0, -1).map(() => 1), channels] : [channels];
      const out = scope.run('Reshape', { x: product }, { shape: outShape });
      return scope.release(out);
    } catch (err) {
      scope.disposeAll();
      throw err;
    }
  }) as unknown as KernelFunc;
}

export const sumConfig: KernelConfig = { kernelName: Sum, backendName: 'wasm', kernelFunc: perChannelReduction(Sum, false) };
export const meanConfig: KernelConfig = { kernelName: Mean, backendName: 'wasm', kernelFunc: perChannelReduction(Mean, true) };
