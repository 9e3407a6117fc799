/**
 * The schema VS Code validates `*.tern.json` with (scripts/editorSchema.mjs → dist/tern.editor.schema.json)
 * completes and explains like shared/tern.schema.json but reports nothing: the training server's
 * diagnostics are the one entry per mistake (extension/configDiagnostics.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import schema from '../../shared/tern.schema.json';

type Node = Record<string, unknown>;
const VALIDATING = [
  'required',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'minLength',
  'maxLength',
  'pattern',
  'minItems',
  'maxItems',
  'uniqueItems',
  'enum',
];

async function editorSchema(): Promise<Node> {
  const { editorSchema: make } = await import('../../scripts/editorSchema.mjs');
  return make(structuredClone(schema)) as Node;
}

/** Every [path, node] of a schema, paths through property names and definitions. */
function walk(node: unknown, path: string, out: Map<string, Node>): Map<string, Node> {
  if (!node || typeof node !== 'object' || Array.isArray(node)) return out;
  out.set(path, node as Node);
  for (const [key, value] of Object.entries(node)) {
    if ((key === 'properties' || key === 'definitions') && value && typeof value === 'object') {
      for (const [name, sub] of Object.entries(value)) walk(sub, `${path}/${key}/${name}`, out);
    } else if (key === 'items' || key === 'additionalProperties') {
      walk(value, `${path}/${key}`, out);
    } else if (key === 'oneOf' || key === 'anyOf') {
      (value as unknown[]).forEach((sub, i) => walk(sub, `${path}/${key}/${i}`, out));
    }
  }
  return out;
}

test('the editor schema keeps every property, description and default of the config schema', async () => {
  const full = walk(schema, '', new Map());
  const editor = walk(await editorSchema(), '', new Map());
  for (const [path, node] of full) {
    const twin = editor.get(path);
    assert.ok(twin, `${path} is missing from the editor schema`);
    assert.equal(twin.description, node.description, `${path}: description`);
    assert.deepEqual(twin.default, node.default, `${path}: default`);
    if (node.$ref) assert.equal(twin.$ref, node.$ref, `${path}: $ref`);
  }
});

test('the editor schema validates nothing: no constraints, no scalar types, no closed objects', async () => {
  for (const [path, node] of walk(await editorSchema(), '', new Map())) {
    for (const keyword of VALIDATING) assert.ok(!(keyword in node), `${path} keeps "${keyword}"`);
    assert.notEqual(node.additionalProperties, false, `${path} is closed`);
    if ('type' in node) assert.ok(node.type === 'object' || node.type === 'array', `${path} keeps type ${String(node.type)}`);
  }
});

test('allowed values are still proposed: enums and booleans become examples', async () => {
  const editor = walk(await editorSchema(), '', new Map());
  for (const [path, node] of walk(schema, '', new Map())) {
    const examples = (editor.get(path)!.examples ?? []) as unknown[];
    for (const value of (node.enum ?? []) as unknown[])
      assert.ok(examples.includes(value), `${path}: ${JSON.stringify(value)} not proposed`);
    if (node.type === 'boolean') assert.deepEqual(examples, [true, false], `${path}: booleans`);
  }
});
