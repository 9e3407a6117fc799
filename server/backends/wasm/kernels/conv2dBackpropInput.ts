/**
 * `Conv2DBackpropInput` for the wasm backend as one forward convolution on XNNPACK (the backend's
 * own kernel is a scalar loop, about 10× slower than its forward conv):
 *
 *   dx = conv(dyˢ, flip(W)ᵀ)   at stride 1, 'explicit' padding
 *
 * where dyˢ is dy with s−1 zeros inserted between rows and columns (stride s), flip(W) reverses the
 * filter spatially and ᵀ swaps its in/out channels ([KH,KW,Cout,Cin]). Padding: KH−1−padTop rows on
 * top, and whatever makes the output exactly H rows at the bottom (cropping zero rows if negative).
 * NCHW data falls back to the backend's original kernel.
 */
import {
  backend_util,
  Conv2DBackpropInput,
  type Conv2DBackpropInputAttrs,
  type Conv2DBackpropInputInputs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { KernelScope, originalKernel } from './wasmKernelCalls';

/** Padding of one spatial axis: leading/trailing pads for the conv, or a crop when negative. */
function axisPadding(available: number, leading: number, wanted: number): { begin: number; size: number; before: number; after: number } {
  // `wanted` = rows the stride-1 conv must see (H + KH − 1); `leading` rows of zeros go first.
  const begin = Math.max(0, -leading);
  const before = Math.max(0, leading);
  const size = Math.min(available - begin, wanted - before);
  const after = wanted - before - size;
  return { begin, size, before, after };
}

/**
 * flip(W)ᵀ[kh,kw,co,ci] = W[KH−1−kh, KW−1−kw, ci, co], in one JS pass over the (small) filter:
 * wasm's Reverse + Transpose kernels cost ~2 ms per filter, this a few µs.
 */
function flippedTransposedFilter(backend: BackendWasm, filter: TensorInfo): TensorInfo {
  const [kh, kw, cin, cout] = filter.shape as [number, number, number, number];
  const out = backend.makeOutput([kh, kw, cout, cin], 'float32');
  // Views after makeOutput: allocating may grow (and detach) the wasm heap.
  const src = backend.typedArrayFromHeap(filter) as Float32Array;
  const dst = backend.typedArrayFromHeap(out) as Float32Array;
  for (let y = 0; y < kh; y++) {
    for (let x = 0; x < kw; x++) {
      const from = ((kh - 1 - y) * kw + (kw - 1 - x)) * cin * cout;
      const to = (y * kw + x) * cout * cin;
      for (let ci = 0; ci < cin; ci++) {
        for (let co = 0; co < cout; co++) dst[to + co * cin + ci] = src[from + ci * cout + co]!;
      }
    }
  }
  return out;
}

function conv2dBackpropInput(args: {
  inputs: Conv2DBackpropInputInputs;
  backend: BackendWasm;
  attrs: Conv2DBackpropInputAttrs;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const dy = inputs.dy as TensorInfo;
  const filter = inputs.filter as TensorInfo;
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs;
  const convInfo = backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    backend_util.convertConv2DDataFormat(dataFormat),
  );
  if (convInfo.dataFormat !== 'channelsLast') {
    const original = originalKernel(Conv2DBackpropInput);
    if (!original) throw new Error(`wasm Conv2DBackpropInput supports dataFormat 'NHWC' only (got '${dataFormat}')`);
    return original.kernelFunc(args as unknown as Parameters<KernelFunc>[0]) as TensorInfo;
  }
  const { batchSize, inHeight, inWidth, outHeight, outWidth, outChannels, filterHeight, filterWidth, strideHeight, strideWidth, padInfo } =
    convInfo;

  const scope = new KernelScope(backend);
  try {
    const filterT = flippedTransposedFilter(backend, filter);
    scope.adopt(filterT);

    let dilated = dy;
    if (strideHeight > 1 || strideWidth > 1) {
      // Zero insertion as reshape → pad → reshape: [N·OH,1,OW,1,C] padded to [N·OH,sH,OW,sW,C].
      const split = scope.run('Reshape', { x: dy }, { shape: [batchSize * outHeight, 1, outWidth, 1, outChannels] });
      const padded = scope.run(
        'PadV2',
        { x: split },
        {
          paddings: [
            [0, 0],
            [0, strideHeight - 1],
            [0, 0],
            [0, strideWidth - 1],
            [0, 0],
          ],
          constantValue: 0,
        },
      );
      dilated = scope.run('Reshape', { x: padded }, { shape: [batchSize, outHeight * strideHeight, outWidth * strideWidth, outChannels] });
    }
    const rows = axisPadding(dilated.shape[1], filterHeight - 1 - padInfo.top, inHeight + filterHeight - 1);
    const cols = axisPadding(dilated.shape[2], filterWidth - 1 - padInfo.left, inWidth + filterWidth - 1);
    if (rows.begin > 0 || cols.begin > 0 || rows.size < dilated.shape[1] || cols.size < dilated.shape[2]) {
      dilated = scope.run('Slice', { x: dilated }, { begin: [0, rows.begin, cols.begin, 0], size: [-1, rows.size, cols.size, -1] });
    }
    const dx = scope.run(
      'Conv2D',
      { x: dilated, filter: filterT },
      {
        strides: [1, 1],
        pad: [
          [0, 0],
          [rows.before, rows.after],
          [cols.before, cols.after],
          [0, 0],
        ],
        dataFormat: 'NHWC',
        dilations: [1, 1],
      },
    );
    return scope.release(dx);
  } catch (err) {
    scope.disposeAll();
    throw err;
  }
}

export const conv2dBackpropInputConfig: KernelConfig = {
  kernelName: Conv2DBackpropInput,
  backendName: 'wasm',
  kernelFunc: conv2dBackpropInput as unknown as KernelFunc,
};
