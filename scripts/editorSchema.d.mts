/** The config schema as the editor gets it: completes and explains, validates nothing (editorSchema.mjs). */
export function editorSchema(schema: unknown): unknown;
