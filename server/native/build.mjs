#!/usr/bin/env node
// Builds the native oneDNN addon (server/native/build/Release/ternary_onednn.node) with node-gyp.
// Run by `npm install` (package.json "install"), and by hand: `node server/native/build.mjs`.
// It never fails the install: without oneDNN it prints one line and exits 0, and a failed build
// prints a short notice and exits 0 — the server then falls back to wasm (see docs/onednn.md).
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const addonFile = join(here, 'build/Release/ternary_onednn.node');

function notice(message) {
  console.log(`ternary-studio: ${message}`);
}

/** oneDNN's header and library, in the system folders or under $DNNL_ROOT. */
function findOnednn() {
  const prefixes = [process.env.DNNL_ROOT, '/usr', '/usr/local'].filter(Boolean);
  const libDirs = ['lib/x86_64-linux-gnu', 'lib/aarch64-linux-gnu', 'lib64', 'lib'];
  for (const prefix of prefixes) {
    if (!existsSync(join(prefix, 'include/oneapi/dnnl/dnnl.hpp'))) continue;
    const libDir = libDirs.map((d) => join(prefix, d)).find((d) => existsSync(join(d, 'libdnnl.so')));
    if (libDir) return { prefix, libDir };
  }
  return null;
}

/** node-gyp's entry point: the one npm runs us with, npm's bundled copy, or a local install. */
function findNodeGyp() {
  const candidates = [process.env.npm_config_node_gyp];
  if (process.env.npm_execpath) {
    candidates.push(join(dirname(process.env.npm_execpath), '../node_modules/node-gyp/bin/node-gyp.js'));
  }
  candidates.push(join(dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'));
  try {
    candidates.push(createRequire(join(root, 'package.json')).resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // not installed locally
  }
  return candidates.find((c) => c && existsSync(c)) ?? null;
}

/**
 * Node's headers: npm passes its `nodedir` setting; otherwise use the running Node's own prefix
 * when it ships them (Debian's nodejs does, in /usr/include/node), so nothing is downloaded.
 */
function nodeDirArgs() {
  if (process.env.npm_config_nodedir) return [`--nodedir=${process.env.npm_config_nodedir}`];
  const prefix = resolve(dirname(process.execPath), '..');
  return existsSync(join(prefix, 'include/node/node_api.h')) ? [`--nodedir=${prefix}`] : [];
}

function main() {
  if (process.env.TERN_SKIP_NATIVE === '1') {
    notice('TERN_SKIP_NATIVE=1; the native oneDNN backend is not built');
    return;
  }
  if (process.platform !== 'linux') {
    notice(`the native oneDNN backend is built on Linux only (this is ${process.platform}); it is skipped`);
    return;
  }
  const onednn = findOnednn();
  if (!onednn) {
    notice('oneDNN not found (apt-get install libdnnl-dev); the native backend is skipped');
    return;
  }
  const nodeGyp = findNodeGyp();
  if (!nodeGyp) {
    notice('node-gyp not found (it comes with npm); the native oneDNN backend is skipped');
    return;
  }
  const env = { ...process.env };
  if (onednn.prefix !== '/usr') {
    env.CXXFLAGS = `${env.CXXFLAGS ?? ''} -I${join(onednn.prefix, 'include')}`;
    env.LDFLAGS = `${env.LDFLAGS ?? ''} -L${onednn.libDir} -Wl,-rpath,${onednn.libDir}`;
  }
  const started = Date.now();
  const result = spawnSync(process.execPath, [nodeGyp, 'rebuild', ...nodeDirArgs()], {
    cwd: here, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0 || !existsSync(addonFile)) {
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
    const errors = output.split('\n').filter((l) => /error/i.test(l)).slice(0, 5).join('\n  ');
    notice(`building the native oneDNN backend failed; it is skipped (rerun: node server/native/build.mjs)${errors ? `\n  ${errors}` : ''}`);
    return;
  }
  // Next to the bundles, so a packaged dist/ (the .vsix) carries the addon for linux-x64.
  mkdirSync(join(root, 'dist'), { recursive: true });
  copyFileSync(addonFile, join(root, 'dist/ternary_onednn.node'));
  notice(`native oneDNN backend built in ${((Date.now() - started) / 1000).toFixed(0)} s (${addonFile})`);
}

try {
  main();
} catch (error) {
  notice(`the native oneDNN backend is skipped (${error instanceof Error ? error.message : String(error)})`);
}
process.exitCode = 0;
