import type { OnednnAddon } from './addon';

/** Registers the backend; kernels are added as they are implemented. */
export async function registerBackendWithAddon(_addon: OnednnAddon, _threads: number): Promise<boolean> {
  return false;
}
