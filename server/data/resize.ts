/**
 * Bilinear resampling of HWC images, PIL-style: a triangle filter whose support widens with the
 * downscale factor (so shrinking antialiases, as torchvision's `Resize` on PIL images does) and
 * half-pixel centres (align_corners = false) when enlarging. A source box can be given, so a crop
 * followed by a resize (random-resized-crop) is one pass and never copies the crop.
 */

/** An HWC image; values 0..255 (uint8 from the readers, float after a resize). */
export interface Image {
  height: number;
  width: number;
  channels: number;
  data: Uint8Array | Float32Array;
}

/** A source region in pixels: rows [top, top+height), columns [left, left+width). */
export interface Box {
  top: number;
  left: number;
  height: number;
  width: number;
}

/** Per output coordinate: the first source index and the normalized filter weights. */
interface Coefficients {
  start: Int32Array;
  count: Int32Array;
  /** `maxCount` weights per output coordinate. */
  weights: Float32Array;
  maxCount: number;
}

function triangle(x: number): number {
  const a = Math.abs(x);
  return a < 1 ? 1 - a : 0;
}

/** Filter coefficients mapping [from, from+length) of an axis of `inSize` onto `outSize` samples. */
function coefficients(inSize: number, from: number, length: number, outSize: number): Coefficients {
  const scale = length / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale; // triangle support 1, widened when shrinking
  const maxCount = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float32Array(outSize * maxCount);
  for (let o = 0; o < outSize; o++) {
    const center = from + (o + 0.5) * scale;
    let lo = Math.floor(center - support + 0.5);
    let hi = Math.floor(center + support + 0.5);
    lo = Math.max(lo, 0);
    hi = Math.min(hi, inSize);
    let n = hi - lo;
    if (n > maxCount) n = maxCount;
    let sum = 0;
    for (let k = 0; k < n; k++) {
      const w = triangle((lo + k - center + 0.5) / filterScale);
      weights[o * maxCount + k] = w;
      sum += w;
    }
    if (sum > 0) for (let k = 0; k < n; k++) weights[o * maxCount + k] /= sum;
    else {
      // Degenerate (can only happen on an empty axis): take the nearest pixel.
      n = 1;
      lo = Math.min(Math.max(Math.floor(center), 0), inSize - 1);
      weights[o * maxCount] = 1;
    }
    start[o] = lo;
    count[o] = n;
  }
  return { start, count, weights, maxCount };
}

/** Resamples `box` of `img` (default: all of it) to outHeight × outWidth. Returns a float image. */
export function resizeBilinear(img: Image, outHeight: number, outWidth: number, box?: Box): Image {
  const b = box ?? { top: 0, left: 0, height: img.height, width: img.width };
  const c = img.channels;
  const src = img.data;
  const horiz = coefficients(img.width, b.left, b.width, outWidth);
  const vert = coefficients(img.height, b.top, b.height, outHeight);

  // Only the source rows the vertical filter touches need the horizontal pass.
  const rowLo = vert.start[0];
  const rowHi = vert.start[outHeight - 1] + vert.count[outHeight - 1];
  const rows = rowHi - rowLo;
  const tmp = new Float32Array(rows * outWidth * c);
  for (let r = 0; r < rows; r++) {
    const srcRow = (rowLo + r) * img.width * c;
    const tmpRow = r * outWidth * c;
    for (let o = 0; o < outWidth; o++) {
      const s = srcRow + horiz.start[o] * c;
      const n = horiz.count[o];
      const wOff = o * horiz.maxCount;
      const dst = tmpRow + o * c;
      for (let k = 0; k < n; k++) {
        const w = horiz.weights[wOff + k];
        const at = s + k * c;
        for (let ch = 0; ch < c; ch++) tmp[dst + ch] += w * src[at + ch];
      }
    }
  }

  const out = new Float32Array(outHeight * outWidth * c);
  const rowLen = outWidth * c;
  for (let o = 0; o < outHeight; o++) {
    const s = vert.start[o] - rowLo;
    const n = vert.count[o];
    const wOff = o * vert.maxCount;
    const dst = o * rowLen;
    for (let k = 0; k < n; k++) {
      const w = vert.weights[wOff + k];
      const t = (s + k) * rowLen;
      for (let i = 0; i < rowLen; i++) out[dst + i] += w * tmp[t + i];
    }
  }
  return { height: outHeight, width: outWidth, channels: c, data: out };
}
