/**
 * The Python with PyTorch the torch-engine tests run, or why they skip: found as the engine finds
 * it (server/engines/torch/python.ts), so a machine without PyTorch skips with the engine's own
 * message instead of failing.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { findPython, type PythonInfo } from '../../server/engines/torch/python';

export type TorchPython = { python: PythonInfo & { path: string }; skip?: undefined } | { python?: undefined; skip: string };

let found: Promise<TorchPython> | undefined;

export function torchPython(): Promise<TorchPython> {
  found ??= findPython(undefined, 'cpu').then(
    (python) => ({ python }),
    (err: Error) => ({ skip: `torch engine tests skipped: ${err.message}` }),
  );
  return found;
}

/** The torch engine's package folder: the check scripts run as `python -m tests.<name>` from it. */
export const TORCH_PACKAGE_DIR = join(__dirname, '..', '..', 'engines', 'torch');

/** Runs engines/torch/tests/<name>.py as a module of the package folder; its last stdout line, parsed as JSON. */
export function runTorchCheck<T>(python: string, name: string, args: string[]): T {
  let out: string;
  try {
    out = execFileSync(python, ['-m', `tests.${name}`, ...args], { encoding: 'utf8', cwd: TORCH_PACKAGE_DIR, maxBuffer: 64 << 20 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    throw new Error(`engines/torch/tests/${name}.py failed: ${e.stdout ?? ''} ${e.stderr ?? ''}`, { cause: err });
  }
  return JSON.parse(out.trim().split('\n').pop()!) as T;
}
