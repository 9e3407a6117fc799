// BatchMatMul (dense layers and their gradients) on oneDNN's sgemm. The cpu kernel's blocked
// JavaScript loops made fmnist-cnn's 3136×128 dense layer a fifth of its training step.
import { BatchMatMul, util } from '@tensorflow/tfjs-core';
import type { BatchMatMulAttrs, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { OnednnAddon } from '../addon';
import { BACKEND_NAME, floatValues, outputArray, sizeOf } from '../util';

export function matMulKernels(addon: OnednnAddon, cpu: Map<string, KernelFunc>): KernelConfig[] {
  const cpuKernel = cpu.get(BatchMatMul)!;
  const kernelFunc: KernelFunc = (args) => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const { transposeA, transposeB } = args.attrs as unknown as BatchMatMulAttrs;
    const backend = args.backend as MathBackendCPU;
    const aValues = floatValues(backend, a);
    const bValues = floatValues(backend, b);
    if (!aValues || !bValues || a.shape.length < 2 || b.shape.length < 2) return cpuKernel(args);
    const [aRows, aCols] = a.shape.slice(-2) as [number, number];
    const [bRows, bCols] = b.shape.slice(-2) as [number, number];
    const m = transposeA ? aCols : aRows;
    const k = transposeA ? aRows : aCols;
    const n = transposeB ? bRows : bCols;
    const aBatchShape = a.shape.slice(0, -2);
    const bBatchShape = b.shape.slice(0, -2);
    const aBatch = sizeOf(aBatchShape);
    const bBatch = sizeOf(bBatchShape);
    // Equal batch shapes, or one side shared by all; other broadcasts (and errors) stay with cpu.
    const batchShape = util.arraysEqual(aBatchShape, bBatchShape) || bBatch === 1 ? aBatchShape : aBatch === 1 ? bBatchShape : null;
    if (!batchShape || k !== (transposeB ? bCols : bRows) || m * n * k === 0) return cpuKernel(args);
    const batch = Math.max(aBatch, bBatch);
    const c = outputArray(batch * m * n);
    addon.batchMatMul(batch, m, n, k, transposeA, transposeB, aValues, aBatch, bValues, bBatch, c);
    return backend.makeTensorInfo([...batchShape, m, n], 'float32', c);
  };
  return [{ kernelName: BatchMatMul, backendName: BACKEND_NAME, kernelFunc }];
}
