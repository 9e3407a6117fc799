/**
 * `Conv2DBackpropFilter` for the wasm backend, which has none (tfjs 4.22), written as one forward
 * convolution so that it runs on XNNPACK's fast conv instead of a scalar loop:
 *
 *   dW[kh,kw,ci,co] = Σ_{n,oh,ow} x[n, oh·s + kh − padTop, ow·s + kw − padLeft, ci] · dy[n,oh,ow,co]
 *
 * Read x as a batch of Cin images with N channels (xᵀ: [Cin,H,W,N]) and dy as a filter of spatial
 * size OH×OW with N input and Cout output channels (dyᵀ: [OH,OW,N,Cout]); then dW is the forward
 * conv of xᵀ with dyᵀ at stride 1 and dilation s, whose [Cin,KH,KW,Cout] output is transposed to
 * [KH,KW,Cin,Cout]. Bottom/right padding is chosen so the output covers KH×KW; extra rows (when
 * the original conv dropped input rows at the border) are cropped.
 */
import {
  backend_util,
  Conv2DBackpropFilter,
  type Conv2DBackpropFilterAttrs,
  type Conv2DBackpropFilterInputs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { KernelScope } from './wasmKernelCalls';

function conv2dBackpropFilter(args: {
  inputs: Conv2DBackpropFilterInputs;
  backend: BackendWasm;
  attrs: Conv2DBackpropFilterAttrs;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const x = inputs.x as TensorInfo;
  const dy = inputs.dy as TensorInfo;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs;
  const convInfo = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    backend_util.convertConv2DDataFormat(dataFormat),
  );
  if (convInfo.dataFormat !== 'channelsLast') {
    throw new Error(`wasm Conv2DBackpropFilter supports dataFormat 'NHWC' only (got '${dataFormat}')`);
  }
  const { inHeight, inWidth, outHeight, outWidth, filterHeight, filterWidth, strideHeight, strideWidth, padInfo } = convInfo;
  // Rows of xᵀ that the stride-1, dilation-s conv needs to produce KH (KW) outputs.
  const padBottom = Math.max(0, filterHeight + strideHeight * (outHeight - 1) - inHeight - padInfo.top);
  const padRight = Math.max(0, filterWidth + strideWidth * (outWidth - 1) - inWidth - padInfo.left);

  const scope = new KernelScope(backend);
  try {
    // xᵀ = transpose(x, [3,1,2,0]) in two passes: a plain 2-D transpose [N, H·W·C] → [H·W·C, N],
    // then a shuffle of whole N-float rows. wasm's generic 4-D transpose is ~1.7× slower.
    const xRows = scope.run('Transpose', { x }, { perm: [1, 2, 3, 0] });
    const xT = scope.run('Transpose', { x: xRows }, { perm: [2, 0, 1, 3] });
    const dyT = scope.run('Transpose', { x: dy }, { perm: [1, 2, 0, 3] });
    let grad = scope.run(
      'Conv2D',
      { x: xT, filter: dyT },
      {
        strides: [1, 1],
        pad: [
          [0, 0],
          [padInfo.top, padBottom],
          [padInfo.left, padRight],
          [0, 0],
        ],
        dataFormat: 'NHWC',
        dilations: [strideHeight, strideWidth],
      },
    );
    if (grad.shape[1] !== filterHeight || grad.shape[2] !== filterWidth) {
      grad = scope.run('Slice', { x: grad }, { begin: [0, 0, 0, 0], size: [-1, filterHeight, filterWidth, -1] });
    }
    const dW = scope.run('Transpose', { x: grad }, { perm: [1, 2, 0, 3] });
    return scope.release(dW);
  } catch (err) {
    scope.disposeAll();
    throw err;
  }
}

export const conv2dBackpropFilterConfig: KernelConfig = {
  kernelName: Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2dBackpropFilter as unknown as KernelFunc,
};
