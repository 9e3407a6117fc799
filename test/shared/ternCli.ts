/** `tern` as a user runs it, from the sources (as the bundle would), for the CLI tests. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

export interface TernResult {
  code: number;
  out: string;
  /** stderr without tfjs-node's "Hi, looks like you are running TensorFlow.js in Node.js" banner. */
  err: string;
}

/** Runs `tern ARGS` in the repo root, capturing its output and exit code. */
export function tern(...args: string[]): Promise<TernResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'server', 'cli', 'main.ts'), ...args], { cwd: ROOT });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, out, err: err.replace(/={5,}\nHi, looks like[^\n]*\n={5,}\n/, '') }));
  });
}
