import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { totalmem } from 'node:os';
import { BufferPool } from './bufferPool';

/** The pool behind every output of this backend's kernels: keeps at most 1 GiB or 1/8 of RAM unused. */
export const outputPool = new BufferPool(Math.min(2 ** 30, Math.floor(totalmem() / 8)));

/** The tfjs backend name this project registers. */
export const BACKEND_NAME = 'onednn';

/** The Float32Array behind a float32 tensor of the cpu backend, or null for other dtypes. */
export function floatValues(backend: MathBackendCPU, t: TensorInfo): Float32Array | null {
  if (t.dtype !== 'float32') return null;
  const values = backend.data.get(t.dataId).values;
  return values instanceof Float32Array ? values : null;
}

/** Number of elements of a shape. */
export function sizeOf(shape: readonly number[]): number {
  let size = 1;
  for (const d of shape) size *= d;
  return size;
}

/**
 * A Float32Array for a kernel's output, which the kernel overwrites entirely: uninitialised, and
 * recycled from disposed tensors when one of the same size is free (bufferPool.ts).
 */
export function outputArray(length: number): Float32Array {
  return outputPool.take(length);
}
