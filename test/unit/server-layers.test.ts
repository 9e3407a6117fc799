/**
 * The server's folders import only downward (scripts/serverLayers.mjs, docs/architecture.md
 * "Server layers"): the import graph drawn from the sources (scripts/importGraph.ts) has no cycle
 * between folders, no run-time cycle between files, and every folder import goes to a lower floor.
 * eslint.config.mjs enforces the same floors file by file; this test names whole cycles.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describeLoop, folderCycles, folderGraph, serverImports, valueFileCycles } from '../../scripts/importGraph';
import { foldersBelow, SERVER_FLOORS, serverLayerRules } from '../../scripts/serverLayers.mjs';

const edges = serverImports();

test('every folder of server/ has a floor, and every floor names folders of server/', () => {
  const folders = readdirSync(join(__dirname, '..', '..', 'server'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && entry.name !== 'native')
    .map((entry) => entry.name);
  const floored = new Set(SERVER_FLOORS.flat());
  assert.deepEqual(
    folders.filter((folder) => !floored.has(folder)),
    [],
    'give each new folder a floor in scripts/serverLayers.mjs',
  );
  assert.deepEqual(
    [...floored].filter((folder) => !folders.includes(folder)),
    [],
    'remove folders that are gone from scripts/serverLayers.mjs',
  );
});

test('no import cycle among server folders', () => {
  assert.ok(edges.length > 100, `the graph reads the sources (${edges.length} imports)`);
  assert.deepEqual(folderCycles(edges).map(describeLoop), []);
});

test('no run-time import cycle among server files', () => {
  assert.deepEqual(valueFileCycles(edges), []);
});

test('every import between server folders goes down a floor', () => {
  const upward: string[] = [];
  for (const [from, targets] of folderGraph(edges)) {
    const below = new Set(foldersBelow(from));
    for (const [to, imports] of targets) if (!below.has(to)) upward.push(...imports.map((e) => `${e.from} → ${e.to}`));
  }
  assert.deepEqual(upward, []);
});

test('the cycle check finds a cycle', () => {
  const made = [
    { from: 'core/a.ts', to: 'export/b.ts', typeOnly: true },
    { from: 'export/b.ts', to: 'core/c.ts', typeOnly: false },
  ];
  assert.deepEqual(folderCycles(made).map(describeLoop), ['core → export → core (core/a.ts → export/b.ts, export/b.ts → core/c.ts)']);
  assert.deepEqual(valueFileCycles([...made, { from: 'core/c.ts', to: 'export/b.ts', typeOnly: false }]), [['core/c.ts', 'export/b.ts']]);
});

test('the lint rule refuses an import that points up, in every form, and allows one that points down', async () => {
  // Only the layer rules, without type information: the check is about specifiers, and fast.
  const eslint = new ESLint({
    cwd: join(__dirname, '..', '..'),
    overrideConfigFile: true,
    overrideConfig: [{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } }, ...serverLayerRules()],
  });
  const problems = async (file: string, code: string): Promise<string[]> =>
    (await eslint.lintText(code, { filePath: join(__dirname, '..', '..', file) }))[0].messages.map((m) => `${m.line}: ${m.ruleId}`);
  const upward = [
    "import { loadModel } from '../models/loadModel';",
    "export { exportModelFiles } from '../export/exportModel';",
    "export const later = () => import('../formats/tern/ternFile');",
    "export type P = import('../formats/packedModel').PackedModel;",
  ].join('\n');
  assert.deepEqual(await problems('server/core/probe.ts', upward), [
    '1: no-restricted-imports',
    '2: no-restricted-imports',
    '3: no-restricted-syntax',
    '4: no-restricted-syntax',
  ]);
  // Two levels down the folder, the same folders are two levels up; server/formats/onnx/export/ is not server/export/.
  assert.deepEqual(await problems('server/formats/onnx/import/probe.ts', "import { x } from '../../../export/exportModel';"), [
    '1: no-restricted-imports',
  ]);
  assert.deepEqual(await problems('server/formats/onnx/import/probe.ts', "import { x } from '../export/toOnnx';"), []);
  assert.deepEqual(
    await problems('server/export/probe.ts', "import { x } from '../formats/packedModel';\nimport { y } from '../../shared/quant';"),
    [],
  );
});
