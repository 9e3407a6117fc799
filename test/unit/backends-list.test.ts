/** One list of backends (shared/backends.ts): the setting's enum, the ladder and the docs say the same. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BACKEND_CHOICES, BACKEND_NAMES } from '../../shared/backends';
import { availableBackends } from '../../server/backends/ladder';

const root = resolve(__dirname, '..', '..');

test('ternary.backend in package.json, the ladder and docs/protocol.md list the backends of shared/backends.ts', async () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const setting = pkg.contributes.configuration.properties['ternary.backend'];
  assert.deepEqual(setting.enum, BACKEND_CHOICES);
  assert.equal(setting.enumDescriptions.length, BACKEND_CHOICES.length);
  // The ladder only ever reports names of the list.
  for (const name of await availableBackends()) assert.ok((BACKEND_NAMES as readonly string[]).includes(name), name);
  const doc = readFileSync(join(root, 'docs', 'protocol.md'), 'utf8');
  const line = /`initializationOptions` \(all optional\): `backend` — ([^;]*);/.exec(doc.replace(/\n/g, ' '));
  assert.ok(line, 'docs/protocol.md describes initializationOptions.backend');
  assert.deepEqual(
    [...line[1].matchAll(/`([a-z-]+)`/g)].map((m) => m[1]),
    BACKEND_CHOICES,
  );
});
