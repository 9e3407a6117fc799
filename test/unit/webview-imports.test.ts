/** The browser code stays free of `vscode`, tfjs and runtime imports from the server (style item 9). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

test('webview code imports neither vscode nor tfjs, and only types from server/', () => {
  const offenders: string[] = [];
  for (const file of sources('webview')) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^\s*(import|export)\s+(type\s+)?[^;]*?from\s+'([^']+)'/gm)) {
      const [, , typeOnly, spec] = m;
      if (spec === 'vscode' || spec.startsWith('@tensorflow/')) offenders.push(`${file}: ${spec}`);
      if (spec.includes('/server/') && !typeOnly) offenders.push(`${file}: value import from ${spec}`);
    }
  }
  assert.deepEqual(offenders, []);
});
