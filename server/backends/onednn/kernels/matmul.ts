// BatchMatMul (dense layers and their gradients) on oneDNN's sgemm. The cpu kernel's blocked
// JavaScript loops made fmnist-cnn's 3136×128 dense layer a fifth of its training step.
import { _FusedMatMul, BatchMatMul, util } from '@tensorflow/tfjs-core';
import type { _FusedMatMulAttrs, BatchMatMulAttrs, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { OnednnAddon } from '../addon';
import { BACKEND_NAME, floatValues, outputArray, sizeOf } from '../util';

/** The product as [shape, values], or null for what the cpu kernel should handle. */
function product(
  addon: OnednnAddon,
  backend: MathBackendCPU,
  a: TensorInfo,
  b: TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
): [number[], Float32Array] | null {
  const aValues = floatValues(backend, a);
  const bValues = floatValues(backend, b);
  if (!aValues || !bValues || a.shape.length < 2 || b.shape.length < 2) return null;
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
  if (!batchShape || k !== (transposeB ? bCols : bRows) || m * n * k === 0) return null;
  const batch = Math.max(aBatch, bBatch);
  const c = outputArray(batch * m * n);
  addon.batchMatMul(batch, m, n, k, transposeA, transposeB, aValues, aBatch, bValues, bBatch, c);
  return [[...batchShape, m, n], c];
}

export function matMulKernels(addon: OnednnAddon, cpu: Map<string, KernelFunc>): KernelConfig[] {
  const matMulCpu = cpu.get(BatchMatMul)!;
  const matMul: KernelFunc = (args) => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const { transposeA, transposeB } = args.attrs as unknown as BatchMatMulAttrs;
    const backend = args.backend as MathBackendCPU;
    const result = product(addon, backend, a, b, transposeA, transposeB);
    return result ? backend.makeTensorInfo(result[0], 'float32', result[1]) : matMulCpu(args);
  };

  // Dense layers with a bias (and ReLU) call the fused op: the product here, then the epilogue in
  // place with the addon's element-wise loops.
  const fusedCpu = cpu.get(_FusedMatMul)!;
  const unaryCodes: Record<string, number> = { relu: 0, relu6: 7 };
  const fusedMatMul: KernelFunc = (args) => {
    const { a, b, bias, preluActivationWeights } = args.inputs as Record<string, TensorInfo | undefined>;
    const { transposeA, transposeB, activation } = args.attrs as unknown as _FusedMatMulAttrs;
    const backend = args.backend as MathBackendCPU;
    const biasValues = bias ? floatValues(backend, bias) : null;
    if (preluActivationWeights || (activation !== 'linear' && !(activation in unaryCodes)) || (bias && !biasValues)) return fusedCpu(args);
    const n = (transposeB ? b!.shape[b!.shape.length - 2] : b!.shape[b!.shape.length - 1])!;
    if (biasValues && biasValues.length !== n && biasValues.length !== 1) return fusedCpu(args);
    const result = product(addon, backend, a!, b!, transposeA, transposeB);
    if (!result) return fusedCpu(args);
    const [shape, c] = result;
    if (biasValues) {
      const inner = biasValues.length;
      addon.binary(0, c, 1, c.length, biasValues, c.length / inner, inner, c, inner === 1 ? c.length : inner);
    }
    if (activation !== 'linear') addon.unary(unaryCodes[activation]!, c, c, 0);
    return backend.makeTensorInfo(shape, 'float32', c);
  };
  return [
    { kernelName: BatchMatMul, backendName: BACKEND_NAME, kernelFunc: matMul },
    { kernelName: _FusedMatMul, backendName: BACKEND_NAME, kernelFunc: fusedMatMul },
  ];
}
