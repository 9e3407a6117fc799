// The `onednn` tfjs backend: the cpu backend's tensors and kernels, with the hot kernels replaced
// by oneDNN primitives from the native addon (server/native). See docs/onednn.md.
import { loadAddon } from './addon';
import { registerBackendWithAddon } from './register';

export { addonLoadError } from './addon';
export { BACKEND_NAME as ONEDNN_BACKEND } from './util';

/**
 * Registers the `onednn` backend with `threads` oneDNN (OpenMP) threads when the native addon is
 * built; returns false (and registers nothing) when it is not: addonLoadError() says why.
 */
export async function registerOnednnBackend(threads: number): Promise<boolean> {
  const addon = loadAddon();
  if (!addon) return false;
  return registerBackendWithAddon(addon, threads);
}

/** oneDNN's version string, or undefined when the addon is not loaded. */
export function onednnVersion(): string | undefined {
  return loadAddon()?.version();
}
