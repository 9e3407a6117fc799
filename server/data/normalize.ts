/**
 * Mean/std normalization. Pixels are first scaled to [0, 1] (as torchvision's ToTensor), then
 * each channel becomes (v − mean) / std. Without `normalize`, pixels are only scaled to [0, 1].
 */
import { DataError } from './errors';

export interface Normalization {
  mean: number[];
  std: number[];
}

/**
 * Named presets. CIFAR values are the reference repository's (`[125.3, 123.0, 113.9] / 255`,
 * `[63.0, 62.1, 66.7] / 255`; CIFAR-100 likewise); the others are the usual published ones.
 */
export const NORMALIZATION_PRESETS: Record<string, Normalization> = {
  cifar10: { mean: [125.3 / 255, 123.0 / 255, 113.9 / 255], std: [63.0 / 255, 62.1 / 255, 66.7 / 255] },
  cifar100: { mean: [129.3 / 255, 124.1 / 255, 112.4 / 255], std: [68.2 / 255, 65.4 / 255, 70.4 / 255] },
  fmnist: { mean: [0.286], std: [0.353] },
  mnist: { mean: [0.1307], std: [0.3081] },
  imagenet: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
  none: { mean: [0], std: [1] },
};

/**
 * Per-channel affine map from a raw 0..255 pixel: normalized = pixel · scale[c] + bias[c].
 * Folding /255, −mean and /std into one multiply-add keeps batch assembly cheap.
 */
export interface PixelAffine {
  scale: Float32Array;
  bias: Float32Array;
}

/** Resolves `data.normalize` for images with `channels` channels. */
export function resolveNormalization(spec: string | { mean: number[]; std: number[] } | undefined, channels: number): PixelAffine {
  let norm: Normalization;
  let label: string;
  if (spec === undefined) {
    norm = NORMALIZATION_PRESETS.none;
    label = 'none';
  } else if (typeof spec === 'string') {
    const preset = NORMALIZATION_PRESETS[spec];
    if (!preset) {
      throw new DataError(
        `Unknown normalization preset "${spec}" in data.normalize. Use one of ` +
          `${Object.keys(NORMALIZATION_PRESETS).join(', ')}, or { "mean": [...], "std": [...] }.`,
      );
    }
    norm = preset;
    label = `"${spec}"`;
  } else {
    norm = spec;
    label = 'the explicit mean/std';
  }
  const { mean, std } = norm;
  if (mean.length !== std.length || (mean.length !== 1 && mean.length !== channels)) {
    throw new DataError(
      `data.normalize: ${label} has ${mean.length} mean and ${std.length} std values, but the images have ` +
        `${channels} channel(s). Give one value (used for every channel) or one per channel` +
        (typeof spec === 'string' ? `, or pick a preset made for ${channels}-channel images.` : '.'),
    );
  }
  if (std.some((s) => !(s > 0)) || mean.some((m) => !Number.isFinite(m))) {
    throw new DataError(
      `data.normalize: every std must be > 0 and every mean a finite number (got mean ${JSON.stringify(mean)}, std ${JSON.stringify(std)}).`,
    );
  }
  const scale = new Float32Array(channels);
  const bias = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    const m = mean.length === 1 ? mean[0] : mean[c];
    const s = std.length === 1 ? std[0] : std[c];
    scale[c] = 1 / (255 * s);
    bias[c] = -m / s;
  }
  return { scale, bias };
}

/** Writes an HWC image (0..255) into `out` at `offset`, normalized. */
export function writeNormalized(
  data: Uint8Array | Float32Array,
  channels: number,
  affine: PixelAffine,
  out: Float32Array,
  offset: number,
): void {
  const { scale, bias } = affine;
  const n = data.length;
  if (channels === 1) {
    const s = scale[0];
    const b = bias[0];
    for (let i = 0; i < n; i++) out[offset + i] = data[i] * s + b;
  } else if (channels === 3) {
    const s0 = scale[0],
      s1 = scale[1],
      s2 = scale[2];
    const b0 = bias[0],
      b1 = bias[1],
      b2 = bias[2];
    for (let i = 0; i < n; i += 3) {
      out[offset + i] = data[i] * s0 + b0;
      out[offset + i + 1] = data[i + 1] * s1 + b1;
      out[offset + i + 2] = data[i + 2] * s2 + b2;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const c = i % channels;
      out[offset + i] = data[i] * scale[c] + bias[c];
    }
  }
}
