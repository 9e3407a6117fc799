/**
 * ONNX Runtime (onnxruntime-node, CPU) as an independent second implementation: the export parity
 * check runs exported models in it, and the import tests compare against it.
 *
 * onnxruntime-node is loaded lazily on first use, so commands that never touch ONNX do not pay for
 * its ~20 MB native library, and a missing or unloadable package (another platform, a trimmed
 * install) is a clear error only where ONNX Runtime is needed. The bundles keep it external
 * (esbuild.mjs): its native binding is found at run time in node_modules/onnxruntime-node.
 */
import { createRequire } from 'node:module';
import type * as Ort from 'onnxruntime-node';
import { UserError } from '../../../shared/userError';

const requireHere = createRequire(__filename);

/** ONNX Runtime could not be loaded or could not run a model: what failed and what to do. */
export class OnnxRuntimeError extends UserError {
  /** `unavailable`: ONNX Runtime cannot be loaded here; `exportFailed`: it cannot load or run a model. */
  constructor(message: string, code: 'unavailable' | 'exportFailed' = 'exportFailed') {
    super(code, message);
    this.name = 'OnnxRuntimeError';
  }
}

let ortPromise: Promise<typeof Ort> | undefined;

/** The onnxruntime-node module, loaded on first call. */
export function loadOrt(): Promise<typeof Ort> {
  ortPromise ??= (async () => {
    try {
      // External in the bundles (esbuild.mjs): resolved at run time from node_modules.
      const ort = requireHere('onnxruntime-node') as typeof Ort;
      if (!ort?.InferenceSession) throw new Error('the module has no InferenceSession export');
      return ort;
    } catch (err) {
      ortPromise = undefined;
      throw new OnnxRuntimeError(
        `ONNX Runtime (onnxruntime-node) cannot be loaded on ${process.platform}-${process.arch}: ${(err as Error).message.split('\n')[0]}. ` +
          'Install it next to Ternary Studio (npm install onnxruntime-node) or skip the ONNX Runtime check (tern export --no-parity).',
        'unavailable',
      );
    }
  })();
  return ortPromise;
}

/** Whether onnxruntime-node can be loaded here (without throwing). */
export async function ortAvailable(): Promise<boolean> {
  try {
    await loadOrt();
    return true;
  } catch {
    return false;
  }
}

/** A loaded ONNX model ready to run. */
export interface OnnxSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /**
   * Runs the model on one float32 input batch. `layout` says how `data` is laid out: "NHWC" (the
   * tfjs layout) is transposed to NCHW, the layout of ONNX image models, before running; "NCHW"
   * and "raw" are passed as they are. Returns the first output (or the named one).
   */
  run(
    data: Float32Array,
    shape: readonly number[],
    opts?: { layout?: 'NHWC' | 'NCHW' | 'raw'; output?: string },
  ): Promise<{ data: Float32Array; dims: number[] }>;
  release(): Promise<void>;
}

/** NHWC → NCHW transpose of a float32 batch. */
export function nhwcToNchw(data: Float32Array, shape: readonly number[]): { data: Float32Array; shape: number[] } {
  if (shape.length !== 4) return { data, shape: [...shape] };
  const [n, h, w, c] = shape;
  const out = new Float32Array(data.length);
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const src = ((b * h + y) * w + x) * c;
        for (let ch = 0; ch < c; ch++) out[((b * c + ch) * h + y) * w + x] = data[src + ch];
      }
    }
  }
  return { data: out, shape: [n, c, h, w] };
}

/** NCHW → NHWC transpose of a float32 batch (ONNX Runtime's feature maps in tfjs's layout). */
export function nchwToNhwc(data: Float32Array, shape: readonly number[]): { data: Float32Array; shape: number[] } {
  if (shape.length !== 4) return { data, shape: [...shape] };
  const [n, c, h, w] = shape;
  const out = new Float32Array(data.length);
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      for (let y = 0; y < h; y++) {
        const src = ((b * c + ch) * h + y) * w;
        for (let x = 0; x < w; x++) out[((b * h + y) * w + x) * c + ch] = data[src + x];
      }
    }
  }
  return { data: out, shape: [n, h, w, c] };
}

/** Opens an ONNX model (bytes or a file path) in ONNX Runtime on the CPU. `source` names it in errors. */
export async function openSession(
  modelBytesOrPath: Uint8Array | string,
  opts: {
    threads?: number;
    source?: string;
    /** Where ONNX Runtime writes the model as it optimized it (which nodes it fused): for tests and checks. */
    optimizedModelPath?: string;
  } = {},
): Promise<OnnxSession> {
  const ort = await loadOrt();
  const source = opts.source ?? (typeof modelBytesOrPath === 'string' ? modelBytesOrPath : 'the ONNX model');
  const sessionOptions: Ort.InferenceSession.SessionOptions = {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    ...(opts.threads ? { intraOpNumThreads: opts.threads, interOpNumThreads: 1 } : {}),
    ...(opts.optimizedModelPath ? { optimizedModelFilePath: opts.optimizedModelPath } : {}),
  };
  let session: Ort.InferenceSession;
  try {
    session =
      typeof modelBytesOrPath === 'string'
        ? await ort.InferenceSession.create(modelBytesOrPath, sessionOptions)
        : await ort.InferenceSession.create(modelBytesOrPath, sessionOptions);
  } catch (err) {
    throw new OnnxRuntimeError(`ONNX Runtime cannot load ${source}: ${(err as Error).message}`);
  }
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    async run(data, shape, runOpts = {}) {
      const layout = runOpts.layout ?? 'NHWC';
      const input = layout === 'NHWC' ? nhwcToNchw(data, shape) : { data, shape: [...shape] };
      const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', input.data, input.shape) };
      let results: Ort.InferenceSession.OnnxValueMapType;
      try {
        results = await session.run(feeds);
      } catch (err) {
        throw new OnnxRuntimeError(`ONNX Runtime failed to run ${source} on input [${input.shape.join(', ')}]: ${(err as Error).message}`);
      }
      const name = runOpts.output ?? session.outputNames[0];
      const out = results[name] as Ort.Tensor | undefined;
      if (!out) throw new OnnxRuntimeError(`${source} has no output "${name}"; its outputs: ${session.outputNames.join(', ')}.`);
      if (out.type !== 'float32') throw new OnnxRuntimeError(`Output "${name}" of ${source} is ${out.type}, expected float32.`);
      return { data: out.data as Float32Array, dims: out.dims.map(Number) };
    },
    release: () => session.release(),
  };
}

/** Runs a model once on one input: a convenience for tests and one-off checks. */
export async function runOnnx(
  modelBytesOrPath: Uint8Array | string,
  data: Float32Array,
  shape: readonly number[],
  opts: { layout?: 'NHWC' | 'NCHW' | 'raw'; output?: string; threads?: number } = {},
): Promise<{ data: Float32Array; dims: number[] }> {
  const session = await openSession(modelBytesOrPath, { threads: opts.threads });
  try {
    return await session.run(data, shape, opts);
  } finally {
    await session.release();
  }
}
