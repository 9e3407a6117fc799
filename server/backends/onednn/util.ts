import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';

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
 * A Float32Array for a kernel's output, which the kernel overwrites entirely. Large ones skip the
 * zero fill (`new Float32Array` clears every byte; on a training step's 8 MB activations that is
 * a whole extra pass over memory per kernel).
 */
export function outputArray(length: number): Float32Array {
  if (length * 4 < 64 * 1024) return new Float32Array(length);
  return new Float32Array(Buffer.allocUnsafeSlow(length * 4).buffer, 0, length);
}
