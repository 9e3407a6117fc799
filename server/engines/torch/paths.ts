/**
 * Where the Python package of the torch engine is: engines/torch/ of the repository, shipped in
 * the .vsix next to dist/ (see .vscodeignore). The bundles live in dist/, the sources in
 * server/engines/torch/: walk up until the folder is found.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

let cached: string | undefined;

export function torchPackageDir(): string {
  if (cached) return cached;
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'engines', 'torch');
    if (existsSync(join(candidate, 'ternary_torch', '__init__.py'))) return (cached = candidate);
    dir = dirname(dir);
  }
  throw new Error(
    `The torch engine's Python package (engines/torch/ternary_torch/) was not found above ${__dirname}; the installation is incomplete.`,
  );
}
