// Finds and loads the native oneDNN addon (server/native/build/Release/ternary_onednn.node).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

/**
 * The convolution geometry the addon takes, in this order (server/native/src/conv.h):
 * batch, inHeight, inWidth, inChannels, outChannels, filterHeight, filterWidth, outHeight,
 * outWidth, strideHeight, strideWidth, padTop, padLeft, padBottom, padRight, dilationHeight,
 * dilationWidth.
 */
export type ConvGeometry = number[];

/** The functions the addon exports (server/native/src/addon.cc). Outputs are caller-allocated. */
export interface OnednnAddon {
  conv2dForward(geometry: ConvGeometry, x: Float32Array, w: Float32Array, y: Float32Array): void;
  conv2dBackwardData(geometry: ConvGeometry, dy: Float32Array, w: Float32Array, dx: Float32Array): void;
  conv2dBackwardWeights(geometry: ConvGeometry, x: Float32Array, dy: Float32Array, dw: Float32Array): void;
  /** out = op(a, b); each input described by (repeat, inner): see kernels/elementwise.ts. Comparisons write a Uint8Array. */
  binary(
    op: number,
    a: Float32Array,
    aRepeat: number,
    aInner: number,
    b: Float32Array,
    bRepeat: number,
    bInner: number,
    out: Float32Array | Uint8Array,
    run: number,
  ): void;
  unary(op: number, x: Float32Array, out: Float32Array, alpha: number): void;
  /** out[o, i] = scale · Σ_r x[o, r, i]. */
  reduceSum(x: Float32Array, out: Float32Array, outer: number, reduced: number, inner: number, scale: number): void;
  batchNormForward(
    x: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    offset: Float32Array | null,
    scale: Float32Array | null,
    y: Float32Array,
    channels: number,
    epsilon: number,
  ): void;
  /** Batch norm in training mode over x = [rows, channels]: y, batch mean, biased batch variance. */
  batchNormTrainForward(
    rows: number,
    channels: number,
    epsilon: number,
    x: Float32Array,
    scale: Float32Array,
    shift: Float32Array,
    y: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
  ): void;
  /** Its gradient for the given statistics: dx, dscale, dshift. */
  batchNormTrainBackward(
    rows: number,
    channels: number,
    epsilon: number,
    x: Float32Array,
    dy: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    scale: Float32Array,
    shift: Float32Array,
    dx: Float32Array,
    dscale: Float32Array,
    dshift: Float32Array,
  ): void;
  /** dx = dy · step(x), ReLU's gradient in one pass. */
  reluBackward(dy: Float32Array, x: Float32Array, dx: Float32Array): void;
  /** One SGD-with-momentum step (server/train/optimizers.ts's float ops, in order): writes wOut and bufOut. */
  sgdUpdate(
    w: Float32Array,
    g: Float32Array,
    buf: Float32Array,
    wOut: Float32Array,
    bufOut: Float32Array,
    lr: number,
    momentum: number,
    nesterov: boolean,
    weightDecay: number,
  ): void;
  slice(x: Float32Array, shape: number[], begin: number[], size: number[], out: Float32Array): void;
  pad(x: Float32Array, shape: number[], before: number[], outShape: number[], value: number, out: Float32Array): void;
  /** Pool geometry: batch, inHeight, inWidth, channels, outHeight, outWidth, filterHeight, filterWidth, strideHeight, strideWidth, padTop, padLeft, padBottom, padRight. */
  avgPool(geometry: number[], x: Float32Array, y: Float32Array): void;
  avgPoolGrad(geometry: number[], dy: Float32Array, dx: Float32Array): void;
  maxPool(geometry: number[], x: Float32Array, y: Float32Array): void;
  /** dy to the first maximum of each window of x. */
  maxPoolGrad(geometry: number[], x: Float32Array, dy: Float32Array, dx: Float32Array): void;
  /** c[i] = op(a[i or 0]) · op(b[i or 0]) for i < batch, row-major m×k by k×n (aBatch, bBatch: 1 or batch). */
  batchMatMul(
    batch: number,
    m: number,
    n: number,
    k: number,
    transposeA: boolean,
    transposeB: boolean,
    a: Float32Array,
    aBatch: number,
    b: Float32Array,
    bBatch: number,
    c: Float32Array,
  ): void;
  setThreads(threads: number): void;
  getThreads(): number;
  /** oneDNN's version, e.g. "2.6.0". */
  version(): string;
}

const ADDON_FILE = 'ternary_onednn.node';
let cached: OnednnAddon | null | undefined;
let loadError: string | undefined;

/**
 * Where the addon may be: $TERN_ONEDNN_ADDON, next to the bundle (dist/), or the native build
 * folder seen from the bundle (dist/ → ../server/native) or from these sources.
 */
function candidatePaths(): string[] {
  const paths: string[] = [];
  if (process.env.TERN_ONEDNN_ADDON) paths.push(process.env.TERN_ONEDNN_ADDON);
  paths.push(join(__dirname, ADDON_FILE));
  for (const up of ['..', '../..', '../../..']) {
    paths.push(resolve(__dirname, up, 'server/native/build/Release', ADDON_FILE));
  }
  return paths;
}

/** The addon, or null when it is not built or does not load (the reason: addonLoadError()). */
export function loadAddon(): OnednnAddon | null {
  if (cached !== undefined) return cached;
  cached = null;
  const path = candidatePaths().find((p) => existsSync(p));
  if (!path) {
    loadError = `the native addon ${ADDON_FILE} is not built (apt-get install libdnnl-dev, then npm install or node server/native/build.mjs)`;
    return cached;
  }
  try {
    cached = createRequire(__filename)(path) as OnednnAddon;
  } catch (error) {
    loadError = `the native addon ${path} failed to load (${(error as Error).message}); is libdnnl2 installed?`;
  }
  return cached;
}

/** Why loadAddon() returned null, for the backend ladder's message. */
export function addonLoadError(): string | undefined {
  return loadError;
}
