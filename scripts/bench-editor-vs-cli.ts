/**
 * Training from the editor against the CLI, same experiment, same machine:
 *   node esbuild.mjs && node --import tsx scripts/bench-editor-vs-cli.ts [--rounds N] [--experiment NAME] [--epochs N]
 * A workspace outside the repository gets a copy of examples/; code-server (test/e2e/harness.ts)
 * runs this checkout's extension with default settings (so the server runs at its default low
 * priority), and scripts/bench-editor/suite.ts alternates `tern train` (at nice 0 and at nice 10)
 * and the Train command.
 * Prints JSON: each training's wall time (command issued → answer / process exit), the
 * trainer's own time and the CPU seconds the workbench (Chromium, code-server and its extension
 * host) used meanwhile, the medians and the ratio editor / CLI.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';
import { e2eHome, launchBrowser, startCodeServer, type CodeServer } from '../test/e2e/harness';

const root = resolve(__dirname, '..');

interface Row {
  round: number;
  how: 'cli' | 'cli-nice10' | 'editor';
  wallMs: number;
  trainSeconds: number;
  backend: string;
  loadBefore: number;
  loadAfter: number;
  /** CPU seconds each group of processes used during this training (scripts/bench-editor/suite.ts). */
  cpuSeconds: { chromium: number; codeServer: number; trainingServer: number };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function cpuFlags(): string {
  const info = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /model name\s*:\s*(.*)/.exec(info)?.[1] ?? 'unknown';
  const flags = (/flags\s*:\s*(.*)/.exec(info)?.[1] ?? '')
    .split(' ')
    .filter((f) => /^(avx2|avx512f|avx512bw|avx512vl|avx512_vnni|avx512_bf16|fma)$/.test(f));
  return `${model} (${flags.join(', ')}), ${info.match(/^processor/gm)?.length ?? '?'} cores`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '3' },
      experiment: { type: 'string', default: 'fmnist-cnn-tern' },
      epochs: { type: 'string' },
    },
  });
  const suite = join(root, 'out', 'bench', 'editor-suite.js');
  await esbuild.build({
    entryPoints: [join(root, 'scripts', 'bench-editor', 'suite.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['vscode'],
    outfile: suite,
    logLevel: 'warning',
  });
  mkdirSync(e2eHome, { recursive: true });
  const runDir = mkdtempSync(join(e2eHome, 'bench-editor-'));
  const workspace = join(runDir, 'ws');
  cpSync(join(root, 'examples'), join(workspace, 'examples'), {
    recursive: true,
    filter: (src) => !src.startsWith(join(root, 'examples', 'runs')),
  });
  const config = join(workspace, 'examples', 'fashion-mnist.tern.json');
  // --epochs N: the same experiment, shorter (the Train command has no epochs override).
  if (values.epochs) writeFileSync(config, readFileSync(config, 'utf8').replace(/"epochs": \d+/g, `"epochs": ${Number(values.epochs)}`));
  const out = join(runDir, 'rows.jsonl');
  writeFileSync(out, '');
  const payload = encodeURIComponent(
    JSON.stringify([
      ['extensionDevelopmentPath', `vscode-remote://remote${root}`],
      ['extensionTestsPath', `vscode-remote://remote${suite.replace(/\.js$/, '')}`],
    ]),
  );
  let server: CodeServer | undefined;
  const browser = await launchBrowser(join(runDir, 'chromium'));
  const started = new Date().toISOString();
  try {
    server = await startCodeServer(runDir, workspace, {
      BENCH_OUT: out,
      BENCH_CONFIG: config,
      BENCH_EXPERIMENT: values.experiment!,
      BENCH_ROUNDS: values.rounds!,
      BENCH_REPO: root,
      BENCH_CLI_RUNS: join(runDir, 'cli-runs'),
      BENCH_PID: String(process.pid),
    });
    const page = browser.pages()[0] ?? (await browser.newPage());
    const exit = new Promise<number>((r) => {
      void page.exposeFunction('codeAutomationExit', (code: number) => r(code));
    });
    await page.exposeFunction('codeAutomationLog', () => undefined);
    await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}&payload=${payload}`);
    const code = await exit;
    const rows = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Row);
    if (code !== 0 || rows.length === 0) throw new Error(`the benchmark suite failed (exit ${code}); see ${runDir}`);
    const of = (how: Row['how']) => rows.filter((r) => r.how === how);
    const stats = (how: Row['how']) => ({
      wallSeconds: median(of(how).map((r) => r.wallMs / 1000)),
      trainSeconds: median(of(how).map((r) => r.trainSeconds)),
      workbenchCpuSeconds: median(of(how).map((r) => r.cpuSeconds.chromium + r.cpuSeconds.codeServer)),
    });
    const cli = stats('cli');
    const cliNice10 = stats('cli-nice10');
    const editor = stats('editor');
    const perRound = [...new Set(rows.map((r) => r.round))].map((round) => {
      const at = (how: Row['how']) => rows.find((r) => r.round === round && r.how === how)!.wallMs;
      return { editorOverCli: at('editor') / at('cli'), editorOverCliNice10: at('editor') / at('cli-nice10') };
    });
    process.stdout.write(
      `${JSON.stringify(
        {
          date: started,
          machine: cpuFlags(),
          experiment: values.experiment,
          config: 'examples/fashion-mnist.tern.json',
          settings: 'defaults (ternary.backend auto, ternary.server.lowPriority true, threads 0 = all cores)',
          epochs: values.epochs ?? 'as in the config',
          rows,
          cli,
          cliNice10,
          editor,
          ratioOfMedians: {
            editorOverCli: editor.wallSeconds / cli.wallSeconds,
            editorOverCliNice10: editor.wallSeconds / cliNice10.wallSeconds,
          },
          ratioPerRound: perRound,
        },
        null,
        2,
      )}\n`,
    );
  } finally {
    await browser.close();
    await server?.stop();
    try {
      rmSync(runDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
    } catch {
      /* still flushing */
    }
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
