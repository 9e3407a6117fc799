/**
 * The torch engine's Python package (engines/torch/) held to the TypeScript standard inside
 * `npm test`: pyright type-checks it (configured in engines/torch/pyproject.toml, against the Python
 * the engine would run, so torch's own types resolve) and its unit tests (engines/torch/tests/
 * test_*.py, the standard library's unittest) pass. Both skip, saying why, where that Python has no
 * PyTorch: the default path of the studio needs no Python.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { TORCH_PACKAGE_DIR, torchPython } from '../shared/torchPython';

const PYRIGHT = join(__dirname, '..', '..', 'node_modules', 'pyright', 'index.js');

function run(command: string, args: string[]): { code: number | null; output: string } {
  const r = spawnSync(command, args, { cwd: TORCH_PACKAGE_DIR, encoding: 'utf8', maxBuffer: 16 << 20 });
  return { code: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

test('pyright finds no type errors in engines/torch (basic mode)', async (t) => {
  const found = await torchPython();
  if (!found.python) return t.skip(found.skip);
  const r = run(process.execPath, [PYRIGHT, '-p', '.', '--pythonpath', found.python.path]);
  assert.equal(r.code, 0, r.output);
  t.diagnostic(r.output.trim().split('\n').pop()!);
});

test('the Python unit tests of engines/torch pass (unittest)', async (t) => {
  const found = await torchPython();
  if (!found.python) return t.skip(found.skip);
  const r = run(found.python.path, ['-m', 'unittest', 'discover', '-s', 'tests', '-t', '.', '-p', 'test_*.py']);
  assert.equal(r.code, 0, r.output);
  assert.match(r.output, /Ran [1-9]\d* tests?/, r.output);
  t.diagnostic(
    r.output
      .trim()
      .split('\n')
      .find((l) => l.startsWith('Ran ')) ?? '',
  );
});
