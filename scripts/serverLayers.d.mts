import type { Linter } from 'eslint';

/** Floors of server/<folder>, lowest first (serverLayers.mjs). */
export const SERVER_FLOORS: string[][];
/** The folders `folder` may import: those on lower floors. */
export function foldersBelow(folder: string): string[];
/** ESLint config blocks: the import rule per server folder. */
export function serverLayerRules(): Linter.Config[];
