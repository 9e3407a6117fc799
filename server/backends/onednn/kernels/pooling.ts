// Average and max pooling and their gradients on oneDNN (NHWC float32). CIFAR ResNets' option-A
// shortcut subsamples with a 1×1 stride-2 average pool and the small CNNs max-pool; the cpu
// gradients of both are slow scalar loops (MaxPoolGrad alone was 70 % of an fmnist-cnn step).
import { AvgPool, AvgPoolGrad, backend_util, MaxPool, MaxPoolGrad } from '@tensorflow/tfjs-core';
import type {
  AvgPoolAttrs,
  AvgPoolGradAttrs,
  KernelConfig,
  KernelFunc,
  MaxPoolAttrs,
  MaxPoolGradAttrs,
  TensorInfo,
} from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { OnednnAddon } from '../addon';
import { BACKEND_NAME, floatValues, outputArray, sizeOf } from '../util';

/** The addon's pool geometry, or null when oneDNN's output-size formula disagrees with tfjs's. */
export function poolGeometry(info: backend_util.Conv2DInfo): number[] | null {
  if (info.dataFormat !== 'channelsLast' || info.dilationHeight !== 1 || info.dilationWidth !== 1) return null;
  const { top, left, bottom, right } = info.padInfo;
  if (top < 0 || left < 0 || bottom < 0 || right < 0) return null;
  const outH = Math.floor((info.inHeight + top + bottom - info.filterHeight) / info.strideHeight) + 1;
  const outW = Math.floor((info.inWidth + left + right - info.filterWidth) / info.strideWidth) + 1;
  if (outH !== info.outHeight || outW !== info.outWidth) return null;
  // oneDNN rejects a window that lies entirely in the padding; tfjs's 'same' never produces one.
  if (top >= info.filterHeight || left >= info.filterWidth || bottom >= info.filterHeight || right >= info.filterWidth) return null;
  return [
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.outHeight,
    info.outWidth,
    info.filterHeight,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
    top,
    left,
    bottom,
    right,
  ];
}

export function poolingKernels(addon: OnednnAddon, cpu: Map<string, KernelFunc>): KernelConfig[] {
  const avgPoolGradCpu = cpu.get(AvgPoolGrad)!;

  /** AvgPool and MaxPool: the same attrs, the same geometry, one addon call each. */
  const forward = (
    name: typeof AvgPool | typeof MaxPool,
    run: (geometry: number[], x: Float32Array, y: Float32Array) => void,
  ): KernelConfig => {
    const cpuKernel = cpu.get(name)!;
    const kernelFunc: KernelFunc = (args) => {
      const { x } = args.inputs as { x: TensorInfo };
      const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as AvgPoolAttrs | MaxPoolAttrs;
      const backend = args.backend as MathBackendCPU;
      const xValues = floatValues(backend, x);
      if (!xValues || x.shape.length !== 4) return cpuKernel(args);
      const info = backend_util.computePool2DInfo(
        x.shape as [number, number, number, number],
        filterSize,
        strides,
        1,
        pad,
        dimRoundingMode,
      );
      const geometry = poolGeometry(info);
      if (!geometry || sizeOf(info.outShape) === 0) return cpuKernel(args);
      const y = outputArray(sizeOf(info.outShape));
      run(geometry, xValues, y);
      return backend.makeTensorInfo(info.outShape, 'float32', y);
    };
    return { kernelName: name, backendName: BACKEND_NAME, kernelFunc };
  };

  const avgPoolGrad: KernelFunc = (args) => {
    const { dy, input } = args.inputs as { dy: TensorInfo; input: TensorInfo };
    const { filterSize, strides, pad } = args.attrs as unknown as AvgPoolGradAttrs;
    const backend = args.backend as MathBackendCPU;
    const dyValues = floatValues(backend, dy);
    if (!dyValues || input.shape.length !== 4) return avgPoolGradCpu(args);
    const info = backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad);
    const geometry = poolGeometry(info);
    if (!geometry || sizeOf(info.inShape) === 0) return avgPoolGradCpu(args);
    const dx = outputArray(sizeOf(info.inShape));
    addon.avgPoolGrad(geometry, dyValues, dx);
    return backend.makeTensorInfo(info.inShape, 'float32', dx);
  };

  const maxPoolGradCpu = cpu.get(MaxPoolGrad)!;

  const maxPoolGrad: KernelFunc = (args) => {
    const { dy, input } = args.inputs as { dy: TensorInfo; input: TensorInfo };
    const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as MaxPoolGradAttrs;
    const backend = args.backend as MathBackendCPU;
    const dyValues = floatValues(backend, dy);
    const xValues = floatValues(backend, input);
    if (!dyValues || !xValues || input.shape.length !== 4) return maxPoolGradCpu(args);
    const info = backend_util.computePool2DInfo(
      input.shape as [number, number, number, number],
      filterSize,
      strides,
      1,
      pad,
      dimRoundingMode,
    );
    const geometry = poolGeometry(info);
    if (!geometry || sizeOf(info.inShape) === 0) return maxPoolGradCpu(args);
    const dx = outputArray(sizeOf(info.inShape));
    addon.maxPoolGrad(geometry, xValues, dyValues, dx);
    return backend.makeTensorInfo(info.inShape, 'float32', dx);
  };

  return [
    forward(MaxPool, (g, x, y) => addon.maxPool(g, x, y)),
    { kernelName: MaxPoolGrad, backendName: BACKEND_NAME, kernelFunc: maxPoolGrad },
    forward(AvgPool, (g, x, y) => addon.avgPool(g, x, y)),
    { kernelName: AvgPoolGrad, backendName: BACKEND_NAME, kernelFunc: avgPoolGrad },
  ];
}
