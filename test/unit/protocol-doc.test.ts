/** The plain-Node client in docs/protocol.md works as printed: extracted, run against the bundle. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { writeTinyWorkspace } from './protocol-harness';

const root = resolve(__dirname, '..', '..');

test('docs/protocol.md: the drive.js example trains a tiny config through the server', async () => {
  const serverJs = join(root, 'dist', 'server.js');
  assert.ok(existsSync(serverJs), `${serverJs} is missing: run \`node esbuild.mjs\` first`);
  const doc = await readFile(join(root, 'docs', 'protocol.md'), 'utf8');
  const block = /<!-- example: drive\.js[^>]*-->\s*```js\n([\s\S]*?)```/.exec(doc);
  assert.ok(block, 'the example block is marked in docs/protocol.md');
  const dir = await mkdtemp(join(tmpdir(), 'tern-doc-'));
  try {
    const ws = await writeTinyWorkspace(dir);
    await writeFile(join(dir, 'drive.js'), block[1]);
    const { stdout } = await promisify(execFile)(process.execPath, [join(dir, 'drive.js'), serverJs, ws.configPath], {
      cwd: dir,
      timeout: 60_000,
      env: { ...process.env, TERN_BACKEND: 'wasm' },
    });
    const lines = stdout.trim().split('\n');
    assert.match(lines[0], /^server \d+\.\d+\.\d+ on wasm \(\d+ threads?\)$/);
    assert.match(lines[1], /^run \S+: 1 epoch\(s\) of 4 batches$/);
    assert.match(lines[2], /^epoch 1: loss \d+\.\d{3}, validation top-1 \d+\.\d %$/);
    assert.equal(lines[3], 'run ended: completed');
    assert.match(lines[4], /^completed: top-1 \d+\.\d\d %, \d+\.\d× smaller; files in .*runs\/tiny\/\S+$/);
    // The numbers printed are the run's own.
    const runDir = /files in (\S+)$/.exec(lines[4])![1];
    const summary = JSON.parse(await readFile(join(runDir, 'summary.json'), 'utf8'));
    assert.equal(lines[4].split(':')[1].trim().split(' ')[1], (summary.final.top1 * 100).toFixed(2));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
