// Lint (npm run lint, part of npm test): typescript-eslint's type-checked recommendations, each
// file type-checked with its part's tsconfig.json (the project service finds it), plus rules
// against floating promises and unused code. Formatting is Prettier's job (npm run format:check).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { serverLayerRules } from './scripts/serverLayers.mjs';

export default tseslint.config(
  { ignores: ['dist/', 'out/', 'node_modules/', 'server/native/build/', '.test-artifacts/', 'boundaries/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // node:test's test()/describe() return promises the runner itself awaits.
          allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] }],
        },
      ],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
      // tfjs's generic calls (tf.tidy, tf.customGrad) are cast to the tensor rank a kernel needs.
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      // Functions are async to meet an async interface (Jobs, command handlers) even when they do not await.
      '@typescript-eslint/require-await': 'off',
      // Interfaces declare callbacks in method syntax (`close(): void`) and callers destructure them.
      '@typescript-eslint/unbound-method': 'off',
      // Messages quote numbers, flags and shapes (number arrays) as they are.
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true, allowArray: true, allowNullish: true },
      ],
    },
  },
  {
    // The protocol declares each message as a namespace with `method` and `type`, the style of
    // vscode-languageserver-protocol that clients of the server know.
    files: ['shared/protocol.ts'],
    rules: { '@typescript-eslint/no-namespace': 'off' },
  },
  // Each server folder imports only the folders on lower floors (scripts/serverLayers.mjs).
  ...serverLayerRules(),
  {
    // Tests and scripts read JSON (run files, protocol answers) whose shape they then assert.
    files: ['test/**/*.ts', 'scripts/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
    },
  },
  {
    // Plain JavaScript (build scripts, bin/): no type information; bin/tern.js is CommonJS.
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', require: 'readonly', __dirname: 'readonly', module: 'writable' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
