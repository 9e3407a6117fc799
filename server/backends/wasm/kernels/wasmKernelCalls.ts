/**
 * Calls into the wasm backend's own kernels from inside a kernel function, with explicit ownership
 * of the intermediates. A kernelFunc may not run tfjs ops (the engine is mid-kernel and would track
 * them as user tensors), so the composite kernels here call other kernels' `kernelFunc`s directly,
 * as the backends' own composite kernels do, and free every intermediate before returning.
 */
import { getKernel, type KernelConfig, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/** Kernel configs that a composite kernel of ours may replace and must still be able to call. */
const originals = new Map<string, KernelConfig>();

/** Remembers the wasm backend's own implementation of `kernelName` before ours replaces it. */
export function rememberOriginalKernel(kernelName: string): void {
  if (!originals.has(kernelName)) {
    const config = getKernel(kernelName, 'wasm');
    if (config) originals.set(kernelName, config);
  }
}

/** The wasm backend's own implementation of `kernelName`, if it had one before ours was registered. */
export function originalKernel(kernelName: string): KernelConfig | undefined {
  return originals.get(kernelName);
}

/**
 * A scope for one kernel invocation: `run` calls a wasm kernel and records its output; `keep` marks
 * the one output that is returned to the engine; `dispose` frees everything else.
 */
export class KernelScope {
  private readonly owned: TensorInfo[] = [];

  constructor(private readonly backend: BackendWasm) {}

  /** Runs the wasm kernel `kernelName` (the original one if ours replaced it) and owns its output. */
  run(kernelName: string, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap = {}): TensorInfo {
    const config = originals.get(kernelName) ?? getKernel(kernelName, 'wasm');
    if (!config) throw new Error(`wasm backend has no '${kernelName}' kernel (needed by a composite conv gradient kernel)`);
    const out = config.kernelFunc({ inputs, attrs, backend: this.backend }) as TensorInfo;
    this.owned.push(out);
    return out;
  }

  /** Takes ownership of an intermediate made outside `run` (e.g. by backend.makeOutput). */
  adopt(info: TensorInfo): TensorInfo {
    this.owned.push(info);
    return info;
  }

  /** Frees every intermediate except `result`, which the caller hands to the engine. */
  release(result: TensorInfo): TensorInfo {
    for (const info of this.owned) {
      if (info !== result) this.backend.disposeData(info.dataId);
    }
    this.owned.length = 0;
    return result;
  }

  /** Frees everything (error path). */
  disposeAll(): void {
    for (const info of this.owned) this.backend.disposeData(info.dataId);
    this.owned.length = 0;
  }
}
