// Conv2D and its two gradients on oneDNN. NHWC float32 only; anything else (NCHW, padding the
// oneDNN formula cannot express) goes to the cpu backend's own kernel.
import { backend_util, Conv2D, Conv2DBackpropFilter, Conv2DBackpropInput, FusedConv2D } from '@tensorflow/tfjs-core';
import type {
  FusedConv2DAttrs,
  Conv2DAttrs,
  Conv2DBackpropFilterAttrs,
  Conv2DBackpropInputAttrs,
  KernelConfig,
  KernelFunc,
  TensorInfo,
} from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { ConvGeometry, OnednnAddon } from '../addon';
import { BACKEND_NAME, floatValues, outputArray } from '../util';

/**
 * The addon's geometry for a conv, or null when oneDNN cannot run it as tfjs means it. oneDNN
 * requires out = floor((in + padBefore + padAfter − span) / stride) + 1 exactly; tfjs's padding
 * always satisfies it except when it passes a negative pad, which we leave to the cpu kernel.
 */
export function convGeometry(info: backend_util.Conv2DInfo): ConvGeometry | null {
  if (info.dataFormat !== 'channelsLast') return null;
  const { top, left, bottom, right } = info.padInfo;
  if (top < 0 || left < 0 || bottom < 0 || right < 0) return null;
  const spanH = (info.filterHeight - 1) * info.dilationHeight + 1;
  const spanW = (info.filterWidth - 1) * info.dilationWidth + 1;
  const outH = Math.floor((info.inHeight + top + bottom - spanH) / info.strideHeight) + 1;
  const outW = Math.floor((info.inWidth + left + right - spanW) / info.strideWidth) + 1;
  if (outH !== info.outHeight || outW !== info.outWidth) return null;
  return [
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.outChannels,
    info.filterHeight,
    info.filterWidth,
    info.outHeight,
    info.outWidth,
    info.strideHeight,
    info.strideWidth,
    top,
    left,
    bottom,
    right,
    info.dilationHeight,
    info.dilationWidth,
  ];
}

export function conv2dKernels(addon: OnednnAddon, cpu: Map<string, KernelFunc>): KernelConfig[] {
  const conv2d: KernelFunc = (args) => {
    const { x, filter } = args.inputs as { x: TensorInfo; filter: TensorInfo };
    const { strides, pad, dataFormat, dilations, dimRoundingMode } = args.attrs as unknown as Conv2DAttrs;
    const backend = args.backend as MathBackendCPU;
    const info = backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      filter.shape as [number, number, number, number],
      strides,
      dilations,
      pad,
      dimRoundingMode,
      false,
      backend_util.convertConv2DDataFormat(dataFormat),
    );
    const geometry = convGeometry(info);
    const xValues = floatValues(backend, x);
    const wValues = floatValues(backend, filter);
    if (!geometry || !xValues || !wValues) return cpu.get(Conv2D)!(args);
    const y = outputArray(info.outShape.reduce((a, b) => a * b, 1));
    addon.conv2dForward(geometry, xValues, wValues, y);
    return backend.makeTensorInfo(info.outShape, 'float32', y);
  };

  const conv2dBackpropInput: KernelFunc = (args) => {
    const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
    const { inputShape, strides, pad, dataFormat, dimRoundingMode } = args.attrs as unknown as Conv2DBackpropInputAttrs;
    const backend = args.backend as MathBackendCPU;
    const info = backend_util.computeConv2DInfo(
      inputShape,
      filter.shape as [number, number, number, number],
      strides,
      1,
      pad,
      dimRoundingMode,
      false,
      backend_util.convertConv2DDataFormat(dataFormat),
    );
    const geometry = convGeometry(info);
    const dyValues = floatValues(backend, dy);
    const wValues = floatValues(backend, filter);
    if (!geometry || !dyValues || !wValues) return cpu.get(Conv2DBackpropInput)!(args);
    const dx = outputArray(info.inShape.reduce((a, b) => a * b, 1));
    addon.conv2dBackwardData(geometry, dyValues, wValues, dx);
    return backend.makeTensorInfo(info.inShape, 'float32', dx);
  };

  const conv2dBackpropFilter: KernelFunc = (args) => {
    const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
    const { strides, pad, dataFormat, dimRoundingMode, filterShape } = args.attrs as unknown as Conv2DBackpropFilterAttrs;
    const backend = args.backend as MathBackendCPU;
    const info = backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      filterShape,
      strides,
      1,
      pad,
      dimRoundingMode,
      false,
      backend_util.convertConv2DDataFormat(dataFormat),
    );
    const geometry = convGeometry(info);
    const xValues = floatValues(backend, x);
    const dyValues = floatValues(backend, dy);
    if (!geometry || !xValues || !dyValues) return cpu.get(Conv2DBackpropFilter)!(args);
    const dw = outputArray(info.filterShape.reduce((a, b) => a * b, 1));
    addon.conv2dBackwardWeights(geometry, xValues, dyValues, dw);
    return backend.makeTensorInfo(info.filterShape, 'float32', dw);
  };

  // Conv + bias + ReLU/ReLU6/linear, as tfjs-layers' Conv2D layers call it: the conv on oneDNN,
  // the epilogue with the addon's element-wise ops (the cpu kernel runs its own slow conv).
  const fusedCpu = cpu.get(FusedConv2D)!;
  const unaryCodes: Record<string, number> = { relu: 0, relu6: 7 };
  const fusedConv2d: KernelFunc = (args) => {
    const { x, filter, bias, preluActivationWeights } = args.inputs as Record<string, TensorInfo | undefined>;
    const { strides, pad, dataFormat, dilations, dimRoundingMode, activation } = args.attrs as unknown as FusedConv2DAttrs;
    const backend = args.backend as MathBackendCPU;
    const supported = activation === 'linear' || activation in unaryCodes;
    const info = backend_util.computeConv2DInfo(
      x!.shape as [number, number, number, number],
      filter!.shape as [number, number, number, number],
      strides,
      dilations,
      pad,
      dimRoundingMode,
      false,
      backend_util.convertConv2DDataFormat(dataFormat),
    );
    const geometry = convGeometry(info);
    const xValues = floatValues(backend, x!);
    const wValues = floatValues(backend, filter!);
    const biasValues = bias ? floatValues(backend, bias) : null;
    const channels = info.outChannels;
    const biasOk = !bias || (biasValues !== null && (biasValues.length === channels || biasValues.length === 1));
    if (!supported || preluActivationWeights || !geometry || !xValues || !wValues || !biasOk) return fusedCpu(args);
    const size = info.outShape.reduce((a, b) => a * b, 1);
    const y = outputArray(size);
    addon.conv2dForward(geometry, xValues, wValues, y);
    if (biasValues) {
      // In place: y is ours until it is wrapped in a tensor below.
      const inner = biasValues.length === 1 ? 1 : channels;
      addon.binary(0, y, 1, size, biasValues, size / inner, inner, y, inner === 1 ? size : inner);
    }
    if (activation !== 'linear') addon.unary(unaryCodes[activation]!, y, y, 0);
    return backend.makeTensorInfo(info.outShape, 'float32', y);
  };

  return [
    { kernelName: FusedConv2D, backendName: BACKEND_NAME, kernelFunc: fusedConv2d },
    { kernelName: Conv2D, backendName: BACKEND_NAME, kernelFunc: conv2d },
    { kernelName: Conv2DBackpropInput, backendName: BACKEND_NAME, kernelFunc: conv2dBackpropInput },
    { kernelName: Conv2DBackpropFilter, backendName: BACKEND_NAME, kernelFunc: conv2dBackpropFilter },
  ];
}
