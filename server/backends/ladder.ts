/**
 * The backend ladder (docs/architecture.md, The backends): pick the fastest tfjs backend this machine can run, or the one
 * the user named. `auto` tries, in order, tfjs-node-gpu (CUDA), tfjs-node (libtensorflow), the
 * project's native oneDNN backend, wasm, cpu; each rung either starts or says why not.
 *
 * tfjs-node and tfjs-node-gpu are optional: they are never dependencies (their install downloads
 * libtensorflow, which fails offline), esbuild leaves them external, and they are loaded only if
 * `require.resolve` finds them.
 */
import * as os from 'node:os';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import { registerFastGradients } from './gradients';
import { locateWasmBinaries, startWasmBackend } from './wasm/setupWasm';
import { UserError } from '../../shared/userError';

import { BACKEND_CHOICES, type BackendChoice, type BackendName } from '../../shared/backends';

export { BACKEND_CHOICES, type BackendChoice, type BackendName };

export interface BackendOptions {
  /** Which backend to use; `auto` walks the ladder. */
  backend: BackendChoice;
  /** Threads for backends that take a count (oneDNN); default: os.availableParallelism(). */
  threads?: number;
}

export interface BackendAttempt {
  name: BackendName;
  /** Why this rung was skipped; absent for the rung that started. */
  error?: string;
}

export interface BackendInfo {
  /** The backend in use (ladder name; tfjs calls both tfjs-node variants 'tensorflow'). */
  name: BackendName;
  /** Threads the backend computes with (as far as it tells us). */
  threads: number;
  /** Short details for humans: 'simd', 'CUDA', … */
  features: string[];
  /** Rungs tried before (and including) the one that started, in order. */
  tried: BackendAttempt[];
}

/** One rung of the ladder: starts its backend and makes it current, or throws saying why not. */
interface BackendCandidate {
  name: BackendName;
  start(threads: number): Promise<{ threads: number; features: string[] }>;
}

const requireHere = createRequire(__filename);

/** Loads an optional npm package that registers a tfjs backend, if it is installed. */
async function startOptionalPackage(
  packageName: string,
  tfjsBackend: string,
  threads: number,
): Promise<{ threads: number; features: string[] }> {
  try {
    requireHere.resolve(packageName);
  } catch {
    throw new Error(
      `${packageName} is not installed (optional; \`npm install ${packageName}\` needs network access to download libtensorflow)`,
    );
  }
  requireHere(packageName);
  if (!tf.findBackendFactory(tfjsBackend)) {
    throw new Error(
      `${packageName} loaded but did not register the '${tfjsBackend}' backend with this copy of @tensorflow/tfjs-core ${tf.version_core}; install a ${packageName} built for tfjs ${tf.version_core}`,
    );
  }
  if (!(await tf.setBackend(tfjsBackend))) throw new Error(`${packageName} is installed but its backend failed to initialise`);
  // libtensorflow sizes its own thread pools from the machine; it takes no count from us.
  return { threads, features: [] };
}

const candidates: BackendCandidate[] = [
  {
    name: 'tensorflow-gpu',
    start: async (threads) => ({ ...(await startOptionalPackage('@tensorflow/tfjs-node-gpu', 'tensorflow', threads)), features: ['CUDA'] }),
  },
  {
    name: 'tensorflow',
    start: (threads) => startOptionalPackage('@tensorflow/tfjs-node', 'tensorflow', threads),
  },
  {
    name: 'onednn',
    // Before wasm (BENCHMARKS.md): measured 3–4× faster than wasm on ResNet-20 and fmnist-cnn on one
    // thread, and it uses every core (BENCHMARKS.md).
    start: async (threads) => {
      const onednn = await import('./onednn');
      if (!(await onednn.registerOnednnBackend(threads))) {
        throw new Error(onednn.addonLoadError() ?? 'the native oneDNN addon did not load');
      }
      if (!(await tf.setBackend(onednn.ONEDNN_BACKEND))) throw new Error('the oneDNN backend failed to initialise');
      const version = onednn.onednnVersion();
      return { threads, features: version ? [`oneDNN ${version}`] : [] };
    },
  },
  {
    name: 'wasm',
    start: async () => {
      const info = await startWasmBackend();
      return { threads: info.threads, features: info.simd ? ['simd'] : [] };
    },
  },
  {
    name: 'cpu',
    start: async () => {
      await import('@tensorflow/tfjs-backend-cpu');
      if (!(await tf.setBackend('cpu'))) throw new Error('tfjs could not initialise the cpu backend');
      // The cpu backend greets Node users with advice to install tfjs-node on its first tensor;
      // the ladder has already reported why tfjs-node is not in use, so skip the greeting.
      (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
      return { threads: 1, features: [] };
    },
  },
];

let current: BackendInfo | undefined;

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A user-facing failure to start a named backend: what, why, and which ones do work here. */
export class BackendUnavailableError extends UserError {
  constructor(message: string) {
    super('unavailable', message);
    this.name = 'BackendUnavailableError';
  }
}

/**
 * Starts the requested backend (or the first that works, for `auto`) and makes it tfjs's current
 * backend. Throws `BackendUnavailableError` when a named backend cannot start.
 */
export async function initBackend(options: BackendOptions): Promise<BackendInfo> {
  const threads = options.threads ?? os.availableParallelism();
  if (!Number.isInteger(threads) || threads < 1) {
    throw new BackendUnavailableError(`--threads must be a positive integer (got ${options.threads})`);
  }
  if (!BACKEND_CHOICES.includes(options.backend)) {
    throw new BackendUnavailableError(`unknown backend '${options.backend}'; choose one of ${BACKEND_CHOICES.join(', ')}`);
  }
  const rungs = options.backend === 'auto' ? candidates : candidates.filter((c) => c.name === options.backend);
  const tried: BackendAttempt[] = [];
  for (const candidate of rungs) {
    try {
      const started = await candidate.start(threads);
      tried.push({ name: candidate.name });
      registerFastGradients();
      current = { name: candidate.name, threads: started.threads, features: started.features, tried };
      return current;
    } catch (err) {
      tried.push({ name: candidate.name, error: errorMessage(err) });
    }
  }
  const reasons = tried.map((t) => `${t.name}: ${t.error}`).join('; ');
  const available = await availableBackends();
  throw new BackendUnavailableError(
    `backend '${options.backend}' is not available (${reasons}). Available here: ${available.join(', ') || 'none'}; pass --backend auto to pick the fastest.`,
  );
}

/** Names of the rungs whose prerequisites are present (without starting them). */
export async function availableBackends(): Promise<BackendName[]> {
  const names: BackendName[] = [];
  for (const name of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const) {
    try {
      requireHere.resolve(name);
      names.push(name.endsWith('gpu') ? 'tensorflow-gpu' : 'tensorflow');
    } catch {
      // not installed
    }
  }
  if (tf.findBackendFactory('onednn')) names.push('onednn');
  try {
    locateWasmBinaries();
    names.push('wasm');
  } catch {
    // binaries missing: wasm cannot start
  }
  names.push('cpu');
  return names;
}

/** One line for humans, e.g. `backend: wasm (simd, 1 thread)`. */
export function describeBackend(info: BackendInfo | undefined = current): string {
  if (!info) return `backend: ${tf.getBackend() ?? 'none'} (not started by initBackend)`;
  const details = [...info.features, `${info.threads} thread${info.threads === 1 ? '' : 's'}`];
  return `backend: ${info.name} (${details.join(', ')})`;
}
