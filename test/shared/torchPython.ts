/**
 * The Python with PyTorch the torch-engine tests run, or why they skip: found as the engine finds
 * it (server/engines/torch/python.ts), so a machine without PyTorch skips with the engine's own
 * message instead of failing.
 */
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
