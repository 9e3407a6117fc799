/**
 * The compute backends of the training server, in the order `auto` tries them (fastest first).
 * One list for the server's ladder (server/backends/ladder.ts), the CLI's `--backend`, the
 * protocol's `initializationOptions.backend`, the extension's `ternary.backend` setting (its enum
 * in package.json is checked against this list by test/unit/backends-list.test.ts) and
 * docs/protocol.md.
 */
export const BACKEND_NAMES = ['tensorflow-gpu', 'tensorflow', 'onednn', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/** A backend to ask for: one by name, or `auto` (the first of BACKEND_NAMES that starts). */
export type BackendChoice = 'auto' | BackendName;
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', ...BACKEND_NAMES];

export function isBackendChoice(value: unknown): value is BackendChoice {
  return (BACKEND_CHOICES as readonly unknown[]).includes(value);
}
