// The `onednn` tfjs backend: the cpu backend's tensors and kernels, with the hot kernels replaced
// by oneDNN primitives from the native addon (server/native). See docs/onednn.md.
import { loadAddon } from './addon';

/**
 * Registers the `onednn` backend when the native addon is built; returns false (and registers
 * nothing) when it is not, so the backend ladder can fall through to wasm.
 */
export async function registerOnednnBackend(threads: number): Promise<boolean> {
  const addon = loadAddon();
  if (!addon) return false;
  const { registerBackendWithAddon } = await import('./register');
  return registerBackendWithAddon(addon, threads);
}
