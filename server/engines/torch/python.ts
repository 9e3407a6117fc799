/**
 * Finds a Python with PyTorch ≥ 1.13 and torchvision for the torch engine, by running the
 * package's check_env.py, and turns every way that can fail into one EngineError that says what to
 * install or change (no Python, no PyTorch, too old a PyTorch, no torchvision, CUDA asked for but
 * absent).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { EngineError } from '../types';
import { torchPackageDir } from './paths';

export const MIN_TORCH: [number, number] = [1, 13];

export interface PythonInfo {
  python: string;
  executable: string;
  torch?: string;
  torchError?: string;
  torchvision?: string;
  torchvisionError?: string;
  cuda?: boolean;
  cudaDevices?: number;
  gloo?: boolean;
}

/** How long the environment check may take: importing torch and torchvision on a loaded machine can take tens of seconds. */
export const PROBE_TIMEOUT_MS = 60_000;

type Probe = PythonInfo | 'timedOut' | undefined;

function probe(python: string, timeoutMs: number): Promise<Probe> {
  return new Promise((resolve) => {
    execFile(python, [join(torchPackageDir(), 'check_env.py')], { timeout: timeoutMs }, (err, stdout) => {
      if (err) return resolve(err.killed ? 'timedOut' : undefined);
      try {
        resolve(JSON.parse(stdout.trim().split('\n').pop() ?? '') as PythonInfo);
      } catch {
        resolve(undefined);
      }
    });
  });
}

/** "1.13.0a0" → [1, 13]. */
export function torchVersion(version: string): [number, number] {
  const [major, minor] = version
    .split('+')[0]!
    .split('.')
    .map((p) => parseInt(p, 10));
  return [major ?? 0, minor ?? 0];
}

const INSTALL_TORCH =
  'Install PyTorch ≥ 1.13 for it (Debian/Ubuntu: `sudo apt-get install python3-torch`; elsewhere: `pip install torch`), or point --python / $TERN_PYTHON / the ternary.torch.python setting at a Python that has it.';

/**
 * The interpreter to use: `explicit` (--python / setting) alone when given, else $TERN_PYTHON alone
 * when set (a wrong one fails as a wrong --python does, instead of another Python being used
 * without a word), else the first of python3 and /usr/bin/python3 that has PyTorch and torchvision
 * (a pyenv python3 on PATH often has neither).
 */
export async function findPython(
  explicit: string | undefined,
  device: 'cpu' | 'cuda',
  probeTimeoutMs = PROBE_TIMEOUT_MS,
): Promise<PythonInfo & { path: string }> {
  const chosen = explicit || process.env.TERN_PYTHON;
  const candidates = chosen ? [chosen] : ['python3', '/usr/bin/python3'];
  const seen: (PythonInfo & { path: string })[] = [];
  const slow: string[] = [];
  for (const path of [...new Set(candidates)]) {
    if (path.includes('/') && !existsSync(path)) continue;
    const info = await probe(path, probeTimeoutMs);
    if (info === 'timedOut') slow.push(path);
    if (!info || info === 'timedOut') continue;
    seen.push({ ...info, path });
    // The data pipeline (engines/torch/ternary_torch/data.py) decodes and transforms with torchvision.
    if (info.torch && compare(torchVersion(info.torch), MIN_TORCH) >= 0 && info.torchvision) {
      if (device === 'cuda' && !info.cuda) {
        throw new EngineError(
          `--device cuda: PyTorch ${info.torch} in ${info.executable} sees no CUDA device. Train with --device cpu, or run on a machine with an NVIDIA GPU and a CUDA build of PyTorch (pip install torch from the CUDA wheels).`,
          'engineUnavailable',
          'ternary.torch.device',
        );
      }
      return { ...info, path };
    }
  }
  // A Python that did not answer may be the one with PyTorch: say so rather than blame another one.
  if (slow.length > 0)
    throw new EngineError(
      `${slow.join(' and ')} did not finish the torch engine's check of its PyTorch (engines/torch/check_env.py, which imports torch and torchvision) within ${probeTimeoutMs / 1000} s; the machine may be overloaded. Try again when it is less busy, or point --python / $TERN_PYTHON / the ternary.torch.python setting at the Python to use.`,
      'engineUnavailable',
      'ternary.torch.python',
    );
  if (seen.length === 0) {
    throw new EngineError(
      `The torch engine needs Python 3, and none was found (tried ${!explicit && chosen ? `$TERN_PYTHON = ${chosen}` : candidates.join(', ')}). Install Python 3 (Debian/Ubuntu: \`sudo apt-get install python3 python3-torch\`), or set --python / $TERN_PYTHON / the ternary.torch.python setting.`,
      'engineUnavailable',
      'ternary.torch.python',
    );
  }
  const noVision = seen.find((s) => s.torch && compare(torchVersion(s.torch), MIN_TORCH) >= 0);
  if (noVision)
    throw new EngineError(
      `No torchvision in ${noVision.executable} (${noVision.torchvisionError ?? 'import torchvision failed'}), next to its PyTorch ${noVision.torch}: the torch engine reads and augments images with it. Install it (Debian/Ubuntu: \`sudo apt-get install python3-torchvision\`; elsewhere: \`pip install torchvision\` matching the PyTorch version), or point --python / $TERN_PYTHON / the ternary.torch.python setting at a Python that has both.`,
      'engineUnavailable',
      'ternary.torch.python',
    );
  const old = seen.find((s) => s.torch);
  if (old)
    throw new EngineError(
      `PyTorch ${old.torch} in ${old.executable} is too old: the torch engine needs PyTorch ≥ ${MIN_TORCH.join('.')}. ${INSTALL_TORCH}`,
      'engineUnavailable',
      'ternary.torch.python',
    );
  throw new EngineError(
    `No PyTorch in ${seen.map((s) => s.executable).join(', ')} (${seen[0]!.torchError ?? 'import torch failed'}). ${INSTALL_TORCH}`,
    'engineUnavailable',
    'ternary.torch.python',
  );
}

function compare(a: [number, number], b: [number, number]): number {
  return a[0] !== b[0] ? a[0] - b[0] : a[1] - b[1];
}
