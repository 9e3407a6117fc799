/**
 * Each part is type-checked with its own globals and modules (the tsconfig.json in shared/,
 * server/, webview/, extension/; `npm run typecheck` builds them all). These probes compile one
 * small file inside each part with that part's settings and check that what the part must not
 * use fails and what it may use compiles: if someone adds `node` to the webview's types or DOM
 * to the server's lib, this test says so.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join, resolve } from 'node:path';
import ts from 'typescript';

const root = resolve(__dirname, '..', '..');

interface Probe {
  name: string;
  code: string;
  allowed: boolean;
}

const vscodeImport: Probe = { name: 'vscode', code: "import * as vscode from 'vscode';\nexport const x = vscode.window;", allowed: false };
const nodeFs: Probe = { name: 'node:fs', code: "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;", allowed: false };
const nodeGlobal: Probe = { name: 'process', code: 'export const x = process.env;', allowed: false };
const dom: Probe = { name: 'document', code: 'export const x = document.body;', allowed: false };
const tfjs: Probe = { name: 'tfjs', code: "import * as tf from '@tensorflow/tfjs-core';\nexport const x = tf.tensor;", allowed: false };
const allow = (probe: Probe): Probe => ({ ...probe, allowed: true });

const parts: Record<string, Probe[]> = {
  shared: [
    vscodeImport,
    nodeFs,
    nodeGlobal,
    dom,
    tfjs,
    {
      name: 'the JSON-RPC message types',
      code: "import { RequestType } from 'vscode-languageserver-protocol';\nexport const x = RequestType;",
      allowed: true,
    },
  ],
  server: [vscodeImport, dom, allow(nodeFs), allow(nodeGlobal), allow(tfjs)],
  webview: [vscodeImport, nodeFs, nodeGlobal, tfjs, allow(dom)],
  extension: [dom, tfjs, allow(vscodeImport), allow(nodeFs)],
};

/** Errors of each probe file, compiled with the part's own compiler options. */
function compileProbes(part: string, probes: Probe[]): Map<string, string[]> {
  const configPath = join(root, part, 'tsconfig.json');
  const { config, error } = ts.readConfigFile(configPath, ts.sys.readFile);
  assert.equal(error, undefined, `${configPath} reads`);
  const parsed = ts.parseJsonConfigFileContent(config, ts.sys, dirname(configPath));
  // Only the probes are compiled (not the whole part): no project-reference bookkeeping, no output.
  const options: ts.CompilerOptions = {
    ...parsed.options,
    composite: false,
    declaration: false,
    emitDeclarationOnly: false,
    noEmit: true,
    incremental: false,
  };
  const files = new Map(probes.map((p, i) => [join(root, part, `__boundary_probe_${i}__.ts`), p]));
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (name) => files.has(name) || fileExists.call(host, name);
  host.readFile = (name) => files.get(name)?.code ?? readFile.call(host, name);
  host.getSourceFile = (name, languageVersion, ...rest) => {
    const probe = files.get(name);
    return probe ? ts.createSourceFile(name, probe.code, languageVersion) : getSourceFile.call(host, name, languageVersion, ...rest);
  };
  const program = ts.createProgram([...files.keys()], options, host);
  const errors = new Map<string, string[]>();
  for (const [file, probe] of files) {
    const diagnostics = [
      ...program.getSyntacticDiagnostics(program.getSourceFile(file)),
      ...program.getSemanticDiagnostics(program.getSourceFile(file)),
    ];
    errors.set(
      probe.name,
      diagnostics.map((d) => `TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`),
    );
  }
  return errors;
}

for (const [part, probes] of Object.entries(parts)) {
  test(`${part}/ may use ${probes
    .filter((p) => p.allowed)
    .map((p) => p.name)
    .join(', ')}; not ${probes
    .filter((p) => !p.allowed)
    .map((p) => p.name)
    .join(', ')}`, () => {
    const errors = compileProbes(part, probes);
    for (const probe of probes) {
      const found = errors.get(probe.name)!;
      if (probe.allowed) assert.deepEqual(found, [], `${part}: ${probe.name} should compile`);
      else assert.ok(found.length > 0, `${part}: ${probe.name} should fail to type-check`);
    }
  });
}
