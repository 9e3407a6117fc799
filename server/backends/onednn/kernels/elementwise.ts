// Element-wise and reduction kernels on the addon. The cpu backend maps every element of a
// broadcasting op through generic coordinate maths and transposes before reducing over outer
// axes; on a ResNet-20 step these ops (batch-norm statistics and their gradients, ReLU, the
// optimizer) cost far more than the convolutions. Each kernel here handles the layouts training
// produces and hands anything else to the cpu kernel it replaces.
import {
  Abs,
  Add,
  backend_util,
  Cast,
  Equal,
  Greater,
  GreaterEqual,
  Less,
  LessEqual,
  NotEqual,
  FusedBatchNorm,
  Maximum,
  Mean,
  Minimum,
  Multiply,
  Neg,
  PadV2,
  RealDiv,
  Relu,
  Relu6,
  Rsqrt,
  Sign,
  Slice,
  Sqrt,
  Square,
  SquaredDifference,
  Step,
  Sub,
  Sum,
  util,
} from '@tensorflow/tfjs-core';
import type {
  CastAttrs,
  FusedBatchNormAttrs,
  KernelConfig,
  KernelFunc,
  PadV2Attrs,
  SliceAttrs,
  StepAttrs,
  SumAttrs,
  TensorInfo,
} from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { OnednnAddon } from '../addon';
import { BACKEND_NAME, floatValues, outputArray, sizeOf } from '../util';

/** Codes of server/native/src/elementwise.h's BinaryOp and UnaryOp, in order. */
const BINARY_OPS: Record<string, number> = {
  [Add]: 0,
  [Sub]: 1,
  [Multiply]: 2,
  [RealDiv]: 3,
  [SquaredDifference]: 4,
  [Maximum]: 5,
  [Minimum]: 6,
};
/** Comparisons: the same loops, writing tfjs bools (Uint8Array). */
const COMPARISON_OPS: Record<string, number> = {
  [Less]: 7,
  [LessEqual]: 8,
  [Greater]: 9,
  [GreaterEqual]: 10,
  [Equal]: 11,
  [NotEqual]: 12,
};
const UNARY_OPS: Record<string, number> = {
  [Relu]: 0,
  [Step]: 1,
  [Square]: 2,
  [Neg]: 3,
  [Abs]: 4,
  [Rsqrt]: 5,
  [Sqrt]: 6,
  [Relu6]: 7,
  [Sign]: 8,
};

/** How an input of a broadcasting op maps onto the output (see elementwise.h, Broadcast). */
export interface Broadcast {
  repeat: number;
  inner: number;
}

/**
 * Views the output as [outer, repeat, inner] such that the input is [outer, 1, inner]: possible
 * when the input's broadcast axes (size 1 where the output is larger) are contiguous, which
 * covers scalars, per-channel vectors, [N,1,1,C] and equal shapes. Null otherwise.
 */
export function broadcastOf(inShape: readonly number[], outShape: readonly number[]): Broadcast | null {
  const rank = outShape.length;
  const padded = [...new Array<number>(rank - inShape.length).fill(1), ...inShape];
  let first = -1;
  let last = -1;
  for (let d = 0; d < rank; d++) {
    if (padded[d] === outShape[d]) continue;
    if (padded[d] !== 1) return null;
    if (first < 0) first = d;
    last = d;
  }
  if (first < 0) return { repeat: 1, inner: sizeOf(outShape) };
  // Axes inside [first, last] that are not broadcast break the pattern unless they have size 1.
  for (let d = first; d <= last; d++) if (padded[d] !== 1 && outShape[d] !== 1) return null;
  return { repeat: sizeOf(outShape.slice(first, last + 1)), inner: sizeOf(outShape.slice(last + 1)) };
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** The longest run length along which every input is contiguous or constant. */
export function runLength(size: number, inputs: Broadcast[]): number {
  let run = size;
  for (const bc of inputs) {
    if (bc.repeat === 1) continue;
    run = gcd(run, bc.inner > 1 ? bc.inner : bc.repeat);
  }
  return Math.max(run, 1);
}

/** Axes as one contiguous group [outer, reduced, inner], or null when they are not contiguous. */
export function reductionGroups(shape: readonly number[], axes: number[]): { outer: number; reduced: number; inner: number } | null {
  const sorted = [...axes].sort((a, b) => a - b);
  // Size-1 axes may sit anywhere; only the axes that really reduce must be contiguous.
  const real = sorted.filter((d) => shape[d] !== 1);
  if (real.length === 0) return { outer: sizeOf(shape), reduced: 1, inner: 1 };
  const first = real[0]!;
  const last = real[real.length - 1]!;
  for (let d = first; d <= last; d++) if (!sorted.includes(d) && shape[d] !== 1) return null;
  return {
    outer: sizeOf(shape.slice(0, first)),
    reduced: sizeOf(shape.slice(first, last + 1).filter((_, i) => sorted.includes(first + i))),
    inner: sizeOf(shape.slice(last + 1)),
  };
}

export function elementwiseKernels(addon: OnednnAddon, cpu: Map<string, KernelFunc>): KernelConfig[] {
  const fallback = (name: string): KernelFunc => {
    const f = cpu.get(name);
    if (!f) throw new Error(`the cpu backend has no ${name} kernel to fall back to`);
    return f;
  };

  const binary = (name: string): KernelConfig => {
    const comparison = name in COMPARISON_OPS;
    const op = comparison ? COMPARISON_OPS[name]! : BINARY_OPS[name]!;
    const cpuKernel = fallback(name);
    const kernelFunc: KernelFunc = (args) => {
      const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
      const backend = args.backend as MathBackendCPU;
      const aValues = floatValues(backend, a);
      const bValues = floatValues(backend, b);
      if (!aValues || !bValues) return cpuKernel(args);
      const outShape = backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
      const ba = broadcastOf(a.shape, outShape);
      const bb = broadcastOf(b.shape, outShape);
      const size = sizeOf(outShape);
      if (!ba || !bb || size === 0) return cpuKernel(args);
      const out = comparison ? new Uint8Array(size) : outputArray(size);
      addon.binary(op, aValues, ba.repeat, ba.inner, bValues, bb.repeat, bb.inner, out, runLength(size, [ba, bb]));
      return backend.makeTensorInfo(outShape, comparison ? 'bool' : 'float32', out);
    };
    return { kernelName: name, backendName: BACKEND_NAME, kernelFunc };
  };

  const unary = (name: string): KernelConfig => {
    const op = UNARY_OPS[name]!;
    const cpuKernel = fallback(name);
    const kernelFunc: KernelFunc = (args) => {
      const { x } = args.inputs as { x: TensorInfo };
      const backend = args.backend as MathBackendCPU;
      const xValues = floatValues(backend, x);
      if (!xValues || xValues.length === 0) return cpuKernel(args);
      const alpha = name === Step ? (args.attrs as unknown as StepAttrs).alpha : 0;
      const out = outputArray(xValues.length);
      addon.unary(op, xValues, out, alpha);
      return backend.makeTensorInfo(x.shape, 'float32', out);
    };
    return { kernelName: name, backendName: BACKEND_NAME, kernelFunc };
  };

  const reduction = (name: typeof Sum | typeof Mean): KernelConfig => {
    const cpuKernel = fallback(name);
    const kernelFunc: KernelFunc = (args) => {
      const { x } = args.inputs as { x: TensorInfo };
      const { axis, keepDims } = args.attrs as unknown as SumAttrs;
      const backend = args.backend as MathBackendCPU;
      const xValues = floatValues(backend, x);
      if (!xValues || xValues.length === 0) return cpuKernel(args);
      const axes = util.parseAxisParam(axis, x.shape);
      const groups = reductionGroups(x.shape, axes);
      if (!groups) return cpuKernel(args);
      const outShape = keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
      const out = outputArray(groups.outer * groups.inner);
      const scale = name === Mean ? 1 / sizeOf(axes.map((d) => x.shape[d]!)) : 1;
      addon.reduceSum(xValues, out, groups.outer, groups.reduced, groups.inner, scale);
      return backend.makeTensorInfo(outShape, 'float32', out);
    };
    return { kernelName: name, backendName: BACKEND_NAME, kernelFunc };
  };

  const batchNormCpu = fallback(FusedBatchNorm);
  const fusedBatchNorm: KernelFunc = (args) => {
    const { x, mean, variance, offset, scale } = args.inputs as Record<string, TensorInfo | undefined>;
    const { varianceEpsilon } = args.attrs as unknown as FusedBatchNormAttrs;
    const backend = args.backend as MathBackendCPU;
    const channels = x!.shape[x!.shape.length - 1] ?? 1;
    // Parameters of length C (or 1, spread to C); other lengths cycle in the cpu kernel.
    const param = (t: TensorInfo | undefined): Float32Array | null | undefined => {
      if (!t) return undefined;
      const v = floatValues(backend, t);
      if (!v) return null;
      if (v.length === channels) return v;
      return v.length === 1 ? new Float32Array(channels).fill(v[0]!) : null;
    };
    const xValues = floatValues(backend, x!);
    const [m, v, o, s] = [param(mean), param(variance), param(offset), param(scale)];
    if (!xValues || xValues.length === 0 || !m || !v || o === null || s === null) return batchNormCpu(args);
    const y = outputArray(xValues.length);
    addon.batchNormForward(xValues, m, v, o ?? null, s ?? null, y, channels, varianceEpsilon);
    return backend.makeTensorInfo(x!.shape, 'float32', y);
  };

  const sliceCpu = fallback(Slice);
  const slice: KernelFunc = (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const { begin, size } = args.attrs as unknown as SliceAttrs;
    const backend = args.backend as MathBackendCPU;
    const xValues = floatValues(backend, x);
    const [$begin, $size] = backend_util.slice_util.parseSliceParams(x, begin, size) as [number[], number[]];
    // Contiguous slices are views in the cpu backend: nothing to copy, nothing to speed up.
    if (!xValues || x.shape.length === 0 || sizeOf($size) === 0 || backend_util.slice_util.isSliceContinous(x.shape, $begin, $size)) {
      return sliceCpu(args);
    }
    const out = outputArray(sizeOf($size));
    addon.slice(xValues, x.shape, $begin, $size, out);
    return backend.makeTensorInfo($size, 'float32', out);
  };

  const padCpu = fallback(PadV2);
  const pad: KernelFunc = (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const { paddings, constantValue } = args.attrs as unknown as PadV2Attrs;
    const backend = args.backend as MathBackendCPU;
    const xValues = floatValues(backend, x);
    if (!xValues || x.shape.length === 0 || xValues.length === 0 || paddings.some(([b, a]) => b < 0 || a < 0)) return padCpu(args);
    const outShape = x.shape.map((d, i) => paddings[i]![0] + d + paddings[i]![1]);
    const out = outputArray(sizeOf(outShape));
    addon.pad(
      xValues,
      x.shape,
      paddings.map((p) => p[0]),
      outShape,
      constantValue,
      out,
    );
    return backend.makeTensorInfo(outShape, 'float32', out);
  };

  // bool/int32 → float32: the cpu kernel keeps the Uint8Array/Int32Array under the float32 dtype
  // ("no precision lost"), which every native kernel then has to refuse (the quantizer's masks
  // made each later Multiply a 25× slower cpu fallback). Converted once here instead.
  const castCpu = fallback(Cast);
  const cast: KernelFunc = (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const { dtype } = args.attrs as unknown as CastAttrs;
    const backend = args.backend as MathBackendCPU;
    const values = backend.data.get(x.dataId).values;
    if (
      dtype !== 'float32' ||
      (x.dtype !== 'bool' && x.dtype !== 'int32') ||
      !(values instanceof Uint8Array || values instanceof Int32Array)
    )
      return castCpu(args);
    const out = outputArray(values.length);
    out.set(values);
    return backend.makeTensorInfo(x.shape, 'float32', out);
  };

  return [
    { kernelName: Cast, backendName: BACKEND_NAME, kernelFunc: cast },
    ...Object.keys(BINARY_OPS).map(binary),
    ...Object.keys(COMPARISON_OPS).map(binary),
    ...Object.keys(UNARY_OPS).map(unary),
    reduction(Sum),
    reduction(Mean),
    { kernelName: FusedBatchNorm, backendName: BACKEND_NAME, kernelFunc: fusedBatchNorm },
    { kernelName: Slice, backendName: BACKEND_NAME, kernelFunc: slice },
    { kernelName: PadV2, backendName: BACKEND_NAME, kernelFunc: pad },
  ];
}
