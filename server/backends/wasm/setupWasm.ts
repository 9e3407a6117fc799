/**
 * Starts the tfjs wasm backend in Node: finds the .wasm binaries (next to the bundle in dist/, or in
 * node_modules when running from sources under tsx), initialises the backend and registers the
 * project's conv-gradient kernels.
 *
 * Threads: tfjs-backend-wasm 4.22 never selects its threaded SIMD build in Node
 * (`WASM_HAS_MULTITHREAD_SUPPORT` is hard-wired to false there, tfjs issue #3830). Forcing the flag
 * fails in `new Worker(blob:…)`; patching worker_threads to load the worker script gets the module
 * to start, but XNNPACK's pool still reports 1 thread, since the pthreads it needs are created
 * synchronously during init, before Node's event loop can start the workers. So the wasm backend
 * runs on exactly one thread in Node, and we say so instead of pretending.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { registerWasmKernels } from './kernels';

/** The binary tfjs picks in Node (SIMD is available in Node 20's V8; threads are not used). */
const SIMD_BINARY = 'tfjs-backend-wasm-simd.wasm';

export interface WasmBackendInfo {
  threads: number;
  simd: boolean;
  /** Folder the .wasm binaries were loaded from. */
  binariesFolder: string;
}

/** Folders that may hold the .wasm binaries, most specific first. */
function candidateFolders(): string[] {
  const folders = [__dirname];
  try {
    folders.push(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')));
  } catch {
    // Not resolvable from here (packaged extension without node_modules): dist/ must have them.
  }
  return folders;
}

/** The folder holding the wasm binaries, or an error that says where we looked and how to fix it. */
export function locateWasmBinaries(): string {
  const folders = candidateFolders();
  const found = folders.find((folder) => fs.existsSync(path.join(folder, SIMD_BINARY)));
  if (!found) {
    throw new Error(
      `the wasm binaries (${SIMD_BINARY}) are not in ${folders.join(' or ')}; run \`npm run build\` (esbuild.mjs copies them into dist/)`,
    );
  }
  return found;
}

let started: WasmBackendInfo | undefined;

/** Initialises the wasm backend and makes it the active tfjs backend. Idempotent. */
export async function startWasmBackend(): Promise<WasmBackendInfo> {
  // Imported lazily so that processes on another backend never load the wasm module.
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  if (!started) {
    const folder = locateWasmBinaries();
    wasm.setWasmPaths(folder + path.sep);
    started = { threads: 1, simd: false, binariesFolder: folder };
  }
  if (!(await tf.setBackend('wasm'))) {
    throw new Error(`tfjs could not initialise the wasm backend from ${started.binariesFolder}`);
  }
  await tf.ready();
  registerWasmKernels();
  started.simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  started.threads = wasm.getThreadsCount();
  return { ...started };
}
