// The config schema as the editor gets it (package.json `jsonValidation` → dist/tern.editor.schema.json,
// written by esbuild.mjs): shared/tern.schema.json with its descriptions, defaults and structure, so
// VS Code's JSON language service still completes and explains every property, but without the
// keywords that make that service report mistakes. The training server checks configs with the full
// schema and more (server/config/checkConfig.ts) and its diagnostics (extension/configDiagnostics.ts)
// say what to do ("did you mean …"): with both validating, every mistake was listed twice in Problems.

/** Keywords that only validate: dropped. */
const VALIDATION_ONLY = new Set([
  'required',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'pattern',
  'minItems',
  'maxItems',
  'uniqueItems',
  'minProperties',
  'maxProperties',
]);

/** Scalar types: the language service would report "Incorrect type"; their values are proposed as examples. */
const SCALAR_TYPES = new Set(['string', 'number', 'integer', 'boolean', 'null']);

/**
 * A copy of `schema` that completes and describes like it but reports nothing:
 * `enum` becomes `examples` (still proposed as values), scalar `type`s go (booleans are proposed as
 * `true`/`false` examples), `additionalProperties: false` becomes allowed.
 * @param {unknown} schema
 * @returns {unknown}
 */
export function editorSchema(schema) {
  if (Array.isArray(schema)) return schema.map(editorSchema);
  if (schema === null || typeof schema !== 'object') return schema;
  /** @type {Record<string, unknown>} */
  const out = {};
  /** @type {unknown[]} */
  let examples = [];
  for (const [key, value] of Object.entries(schema)) {
    if (VALIDATION_ONLY.has(key)) continue;
    if (key === 'additionalProperties' && value === false) continue;
    if (key === 'enum' && Array.isArray(value)) {
      examples = [...examples, ...value];
      continue;
    }
    if (key === 'examples' && Array.isArray(value)) {
      examples = [...examples, ...value];
      continue;
    }
    if (key === 'type') {
      const types = Array.isArray(value) ? value : [value];
      if (types.includes('boolean')) examples = [...examples, true, false];
      const structural = types.filter((t) => !SCALAR_TYPES.has(t));
      if (structural.length === 1) out.type = structural[0];
      continue;
    }
    // Property names are data, not keywords: walk their schemas, keep the names.
    if ((key === 'properties' || key === 'definitions') && value && typeof value === 'object') {
      out[key] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, editorSchema(sub)]));
      continue;
    }
    out[key] = editorSchema(value);
  }
  if (examples.length) out.examples = [...new Set(examples)];
  return out;
}
