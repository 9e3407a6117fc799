/**
 * Augmentations named in `data.augment`, as torchvision does them in the reference recipes:
 *
 *   crop<s>pad<p>        RandomCrop(s, padding=p): zero-pad p on every side, take a random s×s window
 *   hflip                RandomHorizontalFlip(0.5)
 *   rrc<s>               RandomResizedCrop(s): scale (0.08, 1), ratio (3/4, 4/3), 10 tries, then the
 *                        centre-crop fallback; bilinear resize to s×s
 *   resize<r>center<c>   Resize(r) (shorter side to r) + CenterCrop(c)
 *
 * Random operations run only when training. For evaluation each one has a deterministic
 * counterpart giving the same shape: crop → centre crop of the padded image (the image itself
 * when s equals its size), hflip → nothing, rrc<s> → resize<round(s·256/224)>center<s> unless the
 * list also has a resize…center… (then that is the evaluation transform, and it is skipped while
 * training, because rrc already produced the final size). All draws come from the Rng passed in,
 * in list order, so the same seed gives the same images.
 */
import { DataError } from './errors';
import { resizeBilinear, type Image } from './resize';
import type { Rng } from './rng';

export interface Transform {
  readonly name: string;
  /** Output [height, width] for an input of [height, width] (no random dependence). */
  outputSize(height: number, width: number): [number, number];
  /** Applies the transform; `rng` draws the random choices (training only). */
  apply(img: Image, rng: Rng): Image;
}

export interface Pipeline {
  train: Transform[];
  eval: Transform[];
  /** True when the pipeline fixes the output size itself (rrc or resize…center…). */
  fixesSize: boolean;
}

const CROP = /^crop(\d+)pad(\d+)$/;
const RRC = /^rrc(\d+)$/;
const RESIZE_CENTER = /^resize(\d+)center(\d+)$/;

/** Parses `data.augment` into the training and evaluation transform lists. */
export function parseAugmentations(names: readonly string[]): Pipeline {
  const hasRrc = names.some((n) => RRC.test(n));
  const hasResizeCenter = names.some((n) => RESIZE_CENTER.test(n));
  const train: Transform[] = [];
  const evalList: Transform[] = [];
  for (const name of names) {
    let m: RegExpMatchArray | null;
    if ((m = name.match(CROP))) {
      const size = positive(name, m[1]);
      const pad = Number(m[2]);
      train.push(randomCropWithPadding(name, size, pad));
      evalList.push(centerCropWithPadding(name, size, pad));
    } else if (name === 'hflip') {
      train.push(randomHorizontalFlip());
    } else if ((m = name.match(RRC))) {
      const size = positive(name, m[1]);
      train.push(randomResizedCrop(name, size));
      if (!hasResizeCenter) {
        const resize = Math.round((size * 256) / 224);
        evalList.push(resizeCenterCrop(`resize${resize}center${size}`, resize, size));
      }
    } else if ((m = name.match(RESIZE_CENTER))) {
      const resize = positive(name, m[1]);
      const crop = positive(name, m[2]);
      const t = resizeCenterCrop(name, resize, crop);
      if (!hasRrc) train.push(t);
      evalList.push(t);
    } else {
      throw new DataError(
        `Unknown augmentation "${name}" in data.augment. Use crop<size>pad<p> (e.g. crop32pad4), ` +
          `hflip, rrc<size> (e.g. rrc224) or resize<r>center<c> (e.g. resize256center224).`,
      );
    }
  }
  return { train, eval: evalList, fixesSize: hasRrc || hasResizeCenter };
}

/** Output [h, w] of `transforms` applied in order to an h × w image. */
export function pipelineOutputSize(transforms: readonly Transform[], height: number, width: number): [number, number] {
  let size: [number, number] = [height, width];
  for (const t of transforms) size = t.outputSize(size[0], size[1]);
  return size;
}

function positive(name: string, digits: string): number {
  const v = Number(digits);
  if (!(v >= 1)) throw new DataError(`Augmentation "${name}": sizes must be at least 1.`);
  return v;
}

/** Copies the s×s window at (top, left) of `img` padded by `pad` zeros (window coordinates are in the padded image). */
function paddedWindow(img: Image, size: number, pad: number, top: number, left: number): Image {
  const { height: h, width: w, channels: c, data } = img;
  const out = data instanceof Uint8Array ? new Uint8Array(size * size * c) : new Float32Array(size * size * c);
  const y0 = top - pad;
  const x0 = left - pad;
  // Columns of the window that land inside the source image; the rest stay zero.
  const xFrom = Math.max(0, -x0);
  const xTo = Math.min(size, w - x0);
  if (xTo > xFrom) {
    for (let y = 0; y < size; y++) {
      const sy = y0 + y;
      if (sy < 0 || sy >= h) continue;
      const srcStart = (sy * w + x0 + xFrom) * c;
      out.set(data.subarray(srcStart, srcStart + (xTo - xFrom) * c), (y * size + xFrom) * c);
    }
  }
  return { height: size, width: size, channels: c, data: out };
}

function checkCropFits(name: string, size: number, pad: number, h: number, w: number): void {
  if (size > h + 2 * pad || size > w + 2 * pad) {
    throw new DataError(
      `Augmentation "${name}" needs a crop of ${size}×${size} from a ${h}×${w} image padded by ${pad}: ` +
        `it does not fit. Use a smaller crop size or more padding.`,
    );
  }
}

function randomCropWithPadding(name: string, size: number, pad: number): Transform {
  return {
    name,
    outputSize(h, w) {
      checkCropFits(name, size, pad, h, w);
      return [size, size];
    },
    apply(img, rng) {
      checkCropFits(name, size, pad, img.height, img.width);
      const top = rng.nextInt(img.height + 2 * pad - size + 1);
      const left = rng.nextInt(img.width + 2 * pad - size + 1);
      return paddedWindow(img, size, pad, top, left);
    },
  };
}

function centerCropWithPadding(name: string, size: number, pad: number): Transform {
  return {
    name,
    outputSize(h, w) {
      checkCropFits(name, size, pad, h, w);
      return [size, size];
    },
    apply(img) {
      if (size === img.height && size === img.width) return img;
      const top = Math.round((img.height + 2 * pad - size) / 2);
      const left = Math.round((img.width + 2 * pad - size) / 2);
      return paddedWindow(img, size, pad, top, left);
    },
  };
}

/** Mirrors columns (a new image). */
export function flipHorizontal(img: Image): Image {
  const { height: h, width: w, channels: c, data } = img;
  const out = data instanceof Uint8Array ? new Uint8Array(data.length) : new Float32Array(data.length);
  for (let y = 0; y < h; y++) {
    const row = y * w * c;
    for (let x = 0; x < w; x++) {
      const src = row + x * c;
      const dst = row + (w - 1 - x) * c;
      for (let ch = 0; ch < c; ch++) out[dst + ch] = data[src + ch];
    }
  }
  return { height: h, width: w, channels: c, data: out };
}

function randomHorizontalFlip(): Transform {
  return {
    name: 'hflip',
    outputSize: (h, w) => [h, w],
    apply: (img, rng) => (rng.next() < 0.5 ? flipHorizontal(img) : img),
  };
}

/** Python's round(): halves go to the even neighbour (torchvision computes crop sizes with it). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** torchvision RandomResizedCrop.get_params with scale (0.08, 1) and ratio (3/4, 4/3). */
export function randomResizedCropBox(
  height: number,
  width: number,
  rng: Rng,
): { top: number; left: number; height: number; width: number } {
  const area = height * width;
  const logLo = Math.log(3 / 4);
  const logHi = Math.log(4 / 3);
  for (let attempt = 0; attempt < 10; attempt++) {
    const targetArea = area * rng.uniform(0.08, 1);
    const aspect = Math.exp(rng.uniform(logLo, logHi));
    const w = roundHalfEven(Math.sqrt(targetArea * aspect));
    const h = roundHalfEven(Math.sqrt(targetArea / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const top = rng.nextInt(height - h + 1);
      const left = rng.nextInt(width - w + 1);
      return { top, left, height: h, width: w };
    }
  }
  // Fallback: the largest centred crop whose aspect ratio is within the range.
  const inRatio = width / height;
  let w = width;
  let h = height;
  if (inRatio < 3 / 4) h = roundHalfEven(w / (3 / 4));
  else if (inRatio > 4 / 3) w = roundHalfEven(h * (4 / 3));
  return { top: Math.floor((height - h) / 2), left: Math.floor((width - w) / 2), height: h, width: w };
}

function randomResizedCrop(name: string, size: number): Transform {
  return {
    name,
    outputSize: () => [size, size],
    apply(img, rng) {
      const box = randomResizedCropBox(img.height, img.width, rng);
      return resizeBilinear(img, size, size, box);
    },
  };
}

/** torchvision Resize(r) then CenterCrop(c) as one resampling of the matching source box. */
export function resizeCenterCropImage(img: Image, resize: number, crop: number): Image {
  const { height: h, width: w } = img;
  // Resize(r): the shorter side becomes r, the longer side int(r · long / short).
  const [rh, rw] = h <= w ? [resize, Math.floor((resize * w) / h)] : [Math.floor((resize * h) / w), resize];
  if (crop > rh || crop > rw) {
    // CenterCrop pads with zeros when the crop is larger; keep it simple and explicit instead.
    throw new DataError(`resize${resize}center${crop}: the centre crop ${crop} is larger than the resized image ${rh}×${rw}.`);
  }
  const top = roundHalfEven((rh - crop) / 2);
  const left = roundHalfEven((rw - crop) / 2);
  if (rh === h && rw === w) {
    if (crop === h && crop === w) return img;
  }
  // The crop window of the resized image, mapped back to source pixels.
  const sy = h / rh;
  const sx = w / rw;
  return resizeBilinear(img, crop, crop, { top: top * sy, left: left * sx, height: crop * sy, width: crop * sx });
}

function resizeCenterCrop(name: string, resize: number, crop: number): Transform {
  if (crop > resize) {
    throw new DataError(`Augmentation "${name}": the centre crop (${crop}) cannot be larger than the resize (${resize}).`);
  }
  return {
    name,
    outputSize: () => [crop, crop],
    apply: (img) => resizeCenterCropImage(img, resize, crop),
  };
}
