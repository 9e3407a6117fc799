/**
 * ONNX's NCHW layout against the NHWC layout tfjs uses: weight rearrangements (conv kernels OIHW →
 * HWIO, depthwise and grouped kernels, Gemm weights and the rows of a Dense that follows a Flatten
 * of NCHW feature maps) and the padding arithmetic of tfjs's 'same'.
 */

/** A float weight for a tfjs layer: values in tfjs's layout and its shape. */
export interface Weight {
  shape: number[];
  data: Float32Array;
}

/** Conv weight [O, I, kh, kw] (OIHW) → tfjs Conv2D kernel [kh, kw, I, O] (HWIO). */
export function convKernel(w: number[], [o, i, kh, kw]: number[]): Weight {
  const out = new Float32Array(o * i * kh * kw);
  for (let oc = 0; oc < o; oc++) {
    for (let ic = 0; ic < i; ic++) {
      for (let y = 0; y < kh; y++) {
        for (let x = 0; x < kw; x++) out[((y * kw + x) * i + ic) * o + oc] = w[((oc * i + ic) * kh + y) * kw + x];
      }
    }
  }
  return { shape: [kh, kw, i, o], data: out };
}

/**
 * Grouped conv weight [O, I/G, kh, kw] → one tfjs Conv2D kernel [kh, kw, I, O] that is zero outside
 * the G diagonal blocks: the same outputs as the grouped conv (tfjs-layers has no `groups`).
 */
export function groupedConvKernel(w: number[], [o, ig, kh, kw]: number[], groups: number): Weight {
  const i = ig * groups;
  const og = o / groups;
  const out = new Float32Array(o * i * kh * kw);
  for (let oc = 0; oc < o; oc++) {
    const g = Math.floor(oc / og);
    for (let icg = 0; icg < ig; icg++) {
      const ic = g * ig + icg;
      for (let y = 0; y < kh; y++) {
        for (let x = 0; x < kw; x++) out[((y * kw + x) * i + ic) * o + oc] = w[((oc * ig + icg) * kh + y) * kw + x];
      }
    }
  }
  return { shape: [kh, kw, i, o], data: out };
}

/**
 * Depthwise conv weight [C·m, 1, kh, kw] (group = C, m outputs per channel) → tfjs DepthwiseConv2D
 * kernel [kh, kw, C, m]. Both order the outputs channel by channel: output c·m + j comes from input c.
 */
export function depthwiseKernel(w: number[], [o, , kh, kw]: number[], channels: number): Weight {
  const m = o / channels;
  const out = new Float32Array(o * kh * kw);
  for (let c = 0; c < channels; c++) {
    for (let j = 0; j < m; j++) {
      for (let y = 0; y < kh; y++) {
        for (let x = 0; x < kw; x++) out[((y * kw + x) * channels + c) * m + j] = w[((c * m + j) * kh + y) * kw + x];
      }
    }
  }
  return { shape: [kh, kw, channels, m], data: out };
}

/** Gemm's B (or MatMul's) → tfjs Dense kernel [K, M], scaled by `alpha`. */
export function denseKernel(b: number[], [rows, cols]: number[], transposed: boolean, alpha: number): Weight {
  const [k, m] = transposed ? [cols, rows] : [rows, cols];
  const out = new Float32Array(k * m);
  for (let r = 0; r < k; r++) {
    for (let c = 0; c < m; c++) out[r * m + c] = alpha * (transposed ? b[c * cols + r] : b[r * cols + c]);
  }
  return { shape: [k, m], data: out };
}

/**
 * The rows of a Dense kernel that follows a Flatten of NCHW maps [C, H, W], reordered for tfjs's
 * Flatten of the NHWC maps: ONNX's feature c·H·W + h·W + w is tfjs's (h·W + w)·C + c. The outputs
 * are then exactly the ONNX model's, with no transpose at run time.
 */
export function permuteFlattenedRows(kernel: Weight, [c, h, w]: [number, number, number]): Weight {
  const m = kernel.shape[1];
  const out = new Float32Array(kernel.data.length);
  for (let ch = 0; ch < c; ch++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const from = (ch * h + y) * w + x;
        const to = (y * w + x) * c + ch;
        out.set(kernel.data.subarray(from * m, from * m + m), to * m);
      }
    }
  }
  return { shape: kernel.shape, data: out };
}

/** tfjs/TensorFlow 'same' padding of one spatial dim: [before, after] (the odd pixel goes after). */
export function samePads(size: number, kernel: number, stride: number, dilation = 1): [number, number] {
  const effective = (kernel - 1) * dilation + 1;
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + effective - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** An ONNX axis of a rank-4 NCHW tensor → the same axis of the NHWC tfjs tensor. */
export function nhwcAxis(axis: number): number {
  return [0, 3, 1, 2][axis];
}
