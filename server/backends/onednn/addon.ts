// Finds and loads the native oneDNN addon (server/native/build/Release/ternary_onednn.node).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

/** The functions the addon exports (see server/native/src/addon.cc). */
export interface OnednnAddon {
  setThreads(threads: number): void;
  getThreads(): number;
}

let cached: OnednnAddon | null | undefined;
let loadError: string | undefined;

/** Candidate locations: next to a bundle in dist/, or the build folder seen from the sources. */
function candidatePaths(): string[] {
  const name = 'ternary_onednn.node';
  const fromEnv = process.env.TERN_ONEDNN_ADDON;
  const paths = fromEnv ? [fromEnv] : [];
  for (const base of [__dirname, process.cwd()]) {
    paths.push(join(base, name));
    for (const up of ['.', '..', '../..', '../../..']) {
      paths.push(resolve(base, up, 'server/native/build/Release', name));
    }
  }
  return paths;
}

/** The addon, or null when it is not built (the reason is in addonLoadError()). */
export function loadAddon(): OnednnAddon | null {
  if (cached !== undefined) return cached;
  cached = null;
  const path = candidatePaths().find((p) => existsSync(p));
  if (!path) {
    loadError = 'the native addon is not built (apt-get install libdnnl-dev, then npm install)';
    return cached;
  }
  try {
    const requireNative = createRequire(__filename);
    cached = requireNative(path) as OnednnAddon;
  } catch (error) {
    loadError = `the native addon at ${path} failed to load: ${(error as Error).message}`;
  }
  return cached;
}

/** Why loadAddon() returned null, for the backend ladder's message. */
export function addonLoadError(): string | undefined {
  return loadError;
}
