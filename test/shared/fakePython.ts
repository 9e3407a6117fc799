/**
 * A stand-in Python for the torch engine's environment check: a shell script printing the JSON
 * line engines/torch/check_env.py would print on a machine with that setup (no PyTorch, an old
 * one, one without CUDA).
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function fakePython(dir: string, name: string, info: Record<string, unknown>): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\necho '${JSON.stringify({ python: '3.11.2', executable: path, ...info })}'\n`);
  chmodSync(path, 0o755);
  return path;
}
