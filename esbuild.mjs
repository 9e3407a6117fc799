// One build script, several contexts (docs/architecture.md): tsc only type-checks, esbuild bundles.
//   dist/extension.js  the VS Code side (node, `vscode` external; never imports tfjs)
//   dist/server.js     the training server (`node dist/server.js --stdio`)
//   dist/cli.js        the `tern` command line (same core as the server)
//   dist/webview/*.js  browser code of the panels
//   dist/tern.editor.schema.json  the config schema as the editor gets it (scripts/editorSchema.mjs)
// The wasm backend's binaries are copied next to the server bundles.
import * as esbuild from 'esbuild';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { editorSchema } from './scripts/editorSchema.mjs';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');
// Test-only hooks (panel timings `window.__ternaryPerf`, the send time stamped on live panel
// messages) are compiled in only with --test-hooks (the panels' e2e tests); otherwise the code
// they guard is dropped from the bundles (test/unit/bundles.test.ts).
const define = { TERNARY_TEST_HOOKS: process.argv.includes('--test-hooks') ? 'true' : 'false' };

const nodeCommon = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
  define,
  // The native oneDNN addon is loaded at run time from its build folder when present.
  // onnxruntime-node (server/formats/onnx/runtime.ts) is loaded lazily at run time with its native binding.
  external: ['vscode', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'onnxruntime-node', '*.node'],
  // jsonc-parser's "main" is a UMD build whose lazy require('./impl/…') calls esbuild cannot
  // follow: the bundle would throw "Cannot find module './impl/format'" on the first config parse.
  alias: { 'jsonc-parser': 'jsonc-parser/lib/esm/main.js' },
};

const contexts = [
  {
    ...nodeCommon,
    entryPoints: {
      extension: 'extension/extension.ts',
      server: 'server/rpc/main.ts',
      cli: 'server/cli/main.ts',
    },
    outdir: 'dist',
  },
  {
    bundle: true,
    platform: 'browser',
    target: 'es2022',
    format: 'iife',
    sourcemap: !production,
    minify: production,
    logLevel: 'warning',
    define,
    entryPoints: {
      dashboard: 'webview/dashboard/main.ts',
      histograms: 'webview/histograms/main.ts',
      tradeoff: 'webview/tradeoff/main.ts',
    },
    outdir: 'dist/webview',
    loader: { '.css': 'text' },
  },
];

function copyWasmBinaries() {
  const from = 'node_modules/@tensorflow/tfjs-backend-wasm/dist';
  mkdirSync('dist', { recursive: true });
  for (const file of readdirSync(from).filter((f) => f.endsWith('.wasm'))) {
    cpSync(join(from, file), join('dist', file));
  }
}

/**
 * The native oneDNN addon, when built (server/native/build.mjs), next to the server bundle: the
 * server finds it there, and `npm run package` ships it in the .vsix (linux-x64; it links
 * against the system's libdnnl.so.2, docs/onednn.md).
 */
function copyNativeAddon() {
  const built = 'server/native/build/Release/ternary_onednn.node';
  if (existsSync(built)) cpSync(built, 'dist/ternary_onednn.node');
}

/**
 * ONNX Runtime for the export's parity check (server/formats/onnx/runtime.ts loads it at run time). The
 * .vsix has no node_modules (vsce --no-dependencies), so a production build puts onnxruntime-node
 * with its linux-x64 binaries only (~45 MB unpacked; all platforms would be ~290 MB) and
 * onnxruntime-common in dist/node_modules, where require() from dist/server.js finds them. Other
 * platforms write model.onnx but skip its ONNX Runtime check, saying so (docs/formats.md).
 */
function copyOnnxRuntime() {
  const from = 'node_modules/onnxruntime-node';
  const to = 'dist/node_modules/onnxruntime-node';
  if (!existsSync(from)) return;
  rmSync('dist/node_modules', { recursive: true, force: true });
  for (const part of ['package.json', 'LICENSE', 'dist', 'bin/napi-v6/linux/x64']) {
    if (existsSync(join(from, part))) cpSync(join(from, part), join(to, part), { recursive: true });
  }
  cpSync('node_modules/onnxruntime-common', 'dist/node_modules/onnxruntime-common', { recursive: true });
}

/** The schema package.json contributes to VS Code for `*.tern.json` (why: scripts/editorSchema.mjs). */
function writeEditorSchema() {
  const schema = JSON.parse(readFileSync('shared/tern.schema.json', 'utf8'));
  mkdirSync('dist', { recursive: true });
  writeFileSync('dist/tern.editor.schema.json', JSON.stringify(editorSchema(schema), null, 1) + '\n');
}

copyWasmBinaries();
copyNativeAddon();
writeEditorSchema();
if (production) copyOnnxRuntime();
if (watch) {
  for (const options of contexts) {
    const ctx = await esbuild.context(options);
    await ctx.watch();
  }
} else {
  await Promise.all(contexts.map((options) => esbuild.build(options)));
}
