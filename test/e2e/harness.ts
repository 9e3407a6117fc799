/**
 * Shared pieces of the tests in a real VS Code (docs/extension.md, shared vscode-e2e.md):
 * code-server 4.100.3 (installed by scripts/e2e/install-code-server.sh outside the project),
 * Debian's Chromium through playwright-core, run folders and workspaces outside the repository,
 * a tiny synthetic workspace, the extension-host suites (test/e2e/suite/) and the UI sessions of
 * the runners (run.ts, editor-run.ts, torch-ui.ts), what a user does in the workbench, and waits
 * on conditions.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import * as esbuild from 'esbuild';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { writeIdxSplit } from '../shared/idx';
import type { LayersRecord } from '../../shared/runRecords';

export const e2eHome = process.env.TERNARY_E2E_HOME ?? '/tmp/ternary-e2e';
export const codeServerBin = join(e2eHome, 'code-server', 'node_modules', '.bin', 'code-server');
export const chromiumPath = process.env.TERNARY_E2E_CHROMIUM ?? '/usr/bin/chromium';
/** This checkout: the extension under development and the source of the suites. */
export const repoRoot = resolve(__dirname, '..', '..');

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs` naming `what`. */
export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `Timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${lastError instanceof Error ? lastError.message : JSON.stringify(lastError)})` : ''}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** The folders one code-server instance writes into (never the home directory). */
export function runFolders(
  runDir: string,
  settings: Record<string, unknown> = {},
): { userData: string; extensions: string; env: NodeJS.ProcessEnv } {
  const userData = join(runDir, 'ud');
  const extensions = join(runDir, 'exts');
  for (const dir of [
    userData,
    extensions,
    join(runDir, 'xdg-config'),
    join(runDir, 'xdg-data'),
    join(runDir, 'xdg-cache'),
    join(runDir, 'tmp'),
  ]) {
    mkdirSync(dir, { recursive: true });
  }
  mkdirSync(join(userData, 'User'), { recursive: true });
  writeFileSync(
    join(userData, 'User', 'settings.json'),
    JSON.stringify(
      {
        'workbench.startupEditor': 'none',
        'telemetry.telemetryLevel': 'off',
        'workbench.tips.enabled': false,
        'extensions.ignoreRecommendations': true,
        'window.zoomLevel': 0,
        ...settings,
      },
      null,
      2,
    ),
  );
  return {
    userData,
    extensions,
    env: {
      ...process.env,
      XDG_CONFIG_HOME: join(runDir, 'xdg-config'),
      XDG_DATA_HOME: join(runDir, 'xdg-data'),
      XDG_CACHE_HOME: join(runDir, 'xdg-cache'),
      TMPDIR: join(runDir, 'tmp'),
    },
  };
}

/** Installs a packaged extension into a run's extensions folder. */
export function installVsix(runDir: string, vsix: string): void {
  const { userData, extensions, env } = runFolders(runDir);
  const result = spawnSync(codeServerBin, ['--user-data-dir', userData, '--extensions-dir', extensions, '--install-extension', vsix], {
    env,
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`Installing ${vsix} failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
}

export interface CodeServer {
  url: string;
  process: ChildProcess;
  /** Everything it printed (for failure reports). */
  output(): string;
  /** Quits it; the training runs of its workspace are ended too unless `keepRuns` (a quit VS Code leaves them training). */
  stop(options?: { keepRuns?: boolean }): Promise<void>;
}

/** Starts code-server on a free port for `workspace` and waits until /healthz answers. */
export async function startCodeServer(
  runDir: string,
  workspace: string,
  extraEnv: NodeJS.ProcessEnv = {},
  trusted = true,
  settings: Record<string, unknown> = {},
): Promise<CodeServer> {
  const { userData, extensions, env } = runFolders(runDir, settings);
  const port = await freePort();
  const args = [
    '--auth',
    'none',
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--user-data-dir',
    userData,
    '--extensions-dir',
    extensions,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
    ...(trusted ? ['--disable-workspace-trust'] : []),
    workspace,
  ];
  const child = spawn(codeServerBin, args, { env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    'code-server /healthz',
    30_000,
    async () => {
      if (child.exitCode !== null) throw new Error(`code-server exited with ${child.exitCode}:\n${output}`);
      const response = await fetch(`${url}/healthz`).catch(() => undefined);
      return response?.ok === true;
    },
    200,
  );
  return {
    url,
    process: child,
    output: () => output,
    stop: async (options = {}) => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      if (!options.keepRuns) endRunsIn(workspace);
    },
  };
}

/**
 * Training runs are processes of their own (server/rpc/detachedTrain.ts) and outlive code-server:
 * a test that stops it with a run going ends that run here (`tern train` processes whose working
 * folder is in `workspace`, with their process group: torchrun and its ranks).
 */
export function endRunsIn(workspace: string): void {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (!args.includes('train') || !args.some((a) => a.endsWith('cli.js') || a.endsWith('main.ts'))) continue;
      if (!readlinkSync(`/proc/${entry}/cwd`).startsWith(workspace)) continue;
      try {
        process.kill(-Number(entry), 'SIGKILL');
      } catch {
        process.kill(Number(entry), 'SIGKILL');
      }
    } catch {
      // ended while we looked, or not ours to read
    }
  }
}

/** Headless Chromium with a fresh profile (Playwright refuses --user-data-dir in args). */
export async function launchBrowser(profileDir: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profileDir, {
    executablePath: chromiumPath,
    headless: true,
    // Chromium puts crash reports under XDG_CONFIG_HOME: keep them in the run's folder, not $HOME.
    env: { ...process.env, XDG_CONFIG_HOME: join(profileDir, 'xdg-config'), XDG_CACHE_HOME: join(profileDir, 'xdg-cache') },
    viewport: { width: 1400, height: 900 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}

/**
 * Synthetic Fashion-MNIST-shaped IDX data: class k is a bright horizontal band at rows 2k..2k+5
 * plus deterministic noise, so a tiny CNN learns it in an epoch or two.
 */
function writeTinyIdx(dir: string, prefix: 'train' | 't10k', count: number, seed: number): void {
  const images = new Uint8Array(count * 28 * 28);
  const labels = new Uint8Array(count);
  let state = seed;
  const random = (): number => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  for (let i = 0; i < count; i++) {
    const label = i % 10;
    labels[i] = label;
    for (let y = 0; y < 28; y++) {
      for (let x = 0; x < 28; x++) {
        const band = y >= 2 * label + 2 && y < 2 * label + 6 ? 200 : 0;
        images[i * 784 + y * 28 + x] = Math.min(255, band + Math.floor(random() * 40));
      }
    }
  }
  writeIdxSplit(dir, prefix, images, labels, 28);
}

/** Names of the experiments in the tiny workspace's config. */
export const tinyExperiments = { short: 'tiny', long: 'tiny-long', float: 'tiny-float', rel: 'tiny-rel' } as const;

/**
 * A workspace with `tiny.tern.json` (a 2-epoch, a 200-epoch, a 1-epoch float and a 1-epoch t_ex = 2 experiment of the Fashion-MNIST CNN)
 * over 64 training and 32 test synthetic images (the 200-epoch one over 512 training images).
 */
export function makeTinyWorkspace(dir: string): { configPath: string } {
  mkdirSync(join(dir, 'data'), { recursive: true });
  writeTinyIdx(join(dir, 'data'), 'train', 64, 1);
  writeTinyIdx(join(dir, 'data'), 't10k', 32, 2);
  // The long run's epochs last about a second, like real ones, instead of a third of a second:
  // at three epochs a second the per-epoch UI updates kept Chromium so busy that a webview opened
  // during the run took up to 26 s to load in code-server (test/e2e/panels-ui.ts).
  mkdirSync(join(dir, 'data-long'), { recursive: true });
  writeTinyIdx(join(dir, 'data-long'), 'train', 512, 1);
  writeTinyIdx(join(dir, 'data-long'), 't10k', 32, 2);
  const experiment = (name: string, epochs: number, method: 'he2019' | 'none' = 'he2019', tex: 1 | 2 = 1): object => ({
    name,
    model: { arch: 'fmnist-cnn', classes: 10 },
    quant: { method, thresholdFactor: 0.05, tex },
    data: { format: 'idx', path: name === tinyExperiments.long ? 'data-long' : 'data', augment: [] },
    train: { epochs, batchSize: 16, optimizer: 'adam', lr: 0.001, seed: 7 },
  });
  const configPath = join(dir, 'tiny.tern.json');
  writeFileSync(
    configPath,
    `// Tiny experiments for the end-to-end tests: synthetic data, seconds per epoch.\n${JSON.stringify(
      {
        experiments: [
          experiment(tinyExperiments.short, 2),
          experiment(tinyExperiments.long, 200),
          experiment(tinyExperiments.float, 1, 'none'),
          experiment(tinyExperiments.rel, 1, 'he2019', 2),
        ],
      },
      null,
      2,
    )}\n`,
  );
  return { configPath };
}

// ---------------------------------------------------------------------------------------------
// Run folders: one per code-server instance, under e2eHome (outside the repository), holding its
// user data, extensions, browser profile and the workspace it opens.

export function newRunDir(name: string): string {
  mkdirSync(e2eHome, { recursive: true });
  return mkdtempSync(join(e2eHome, `${name}-`));
}

/** Removes a run's folder; the code-server tree may still be flushing files for a moment. */
export function removeRunDir(runDir: string): void {
  try {
    rmSync(runDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  } catch (error) {
    console.log(`note: could not remove ${runDir}: ${String(error)}`);
  }
}

/** A screenshot into `artifacts` (a failed one is no failure of the test); its path. */
export async function shoot(page: Page, artifacts: string, name: string): Promise<string> {
  const file = join(artifacts, `${name}.png`);
  await page.screenshot({ path: file }).catch(() => undefined);
  return file;
}

const errorText = (error: unknown): string => (error instanceof Error ? (error.stack ?? error.message) : String(error));

/**
 * Runs the tiers a runner names (all, or only the one in argv[2]) one after the other, with a
 * fresh `artifacts` folder, after `preflight` (which throws what is missing); prints one line of
 * results and sets the exit code.
 */
export function runTiers(
  title: string,
  artifacts: string,
  tiers: Record<string, () => Promise<boolean>>,
  preflight?: (only: string | undefined) => void,
): void {
  const main = async (): Promise<void> => {
    const started = Date.now();
    const only = process.argv[2];
    preflight?.(only);
    rmSync(artifacts, { recursive: true, force: true });
    mkdirSync(artifacts, { recursive: true });
    const failed: string[] = [];
    for (const [name, tier] of Object.entries(tiers)) {
      if (only && only !== name) continue;
      if (!(await tier())) failed.push(name);
    }
    console.log(
      `${title}: ${failed.length === 0 ? 'passed' : `FAILED (${failed.join(', ')})`} in ${((Date.now() - started) / 1000).toFixed(0)} s; artifacts in ${artifacts}`,
    );
    process.exitCode = failed.length === 0 ? 0 : 1;
  };
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  });
}

// ---------------------------------------------------------------------------------------------
// The extension-host suites (test/e2e/suite/): bundled, then run by code-server's test runner
// with this checkout as the development extension; the suite's exit code arrives through
// `codeAutomationExit` and its report lines through $TERNARY_E2E_REPORT.

/** Bundles test/e2e/suite/NAME.ts to out/test/suite/NAME.js; the path without `.js`, as extensionTestsPath takes it. */
export async function buildSuite(name: string): Promise<string> {
  const outfile = join(repoRoot, 'out', 'test', 'suite', `${name}.js`);
  await esbuild.build({
    entryPoints: [join(repoRoot, 'test', 'e2e', 'suite', `${name}.ts`)],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['vscode'],
    outfile,
    logLevel: 'warning',
    // As in esbuild.mjs: jsonc-parser's UMD main cannot be bundled.
    alias: { 'jsonc-parser': 'jsonc-parser/lib/esm/main.js' },
  });
  return outfile.replace(/\.js$/, '');
}

/** The workbench URL opening `workspace`; with `dev`, this checkout as the development extension (and `dev.suitePath`'s tests). */
export function workbenchUrl(server: CodeServer, workspace: string, dev?: { suitePath?: string }): string {
  const url = `${server.url}/?folder=${encodeURIComponent(workspace)}`;
  if (!dev) return url;
  const payload: [string, string][] = [['extensionDevelopmentPath', `vscode-remote://remote${repoRoot}`]];
  if (dev.suitePath) payload.push(['extensionTestsPath', `vscode-remote://remote${dev.suitePath}`]);
  return `${url}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
}

export interface SuiteRun {
  /** What the messages call it ("the integration suite"). */
  suite: string;
  suitePath: string;
  /** The run's folder (newRunDir), removed at the end, and the workspace in it. */
  runDir: string;
  workspace: string;
  artifacts: string;
  /** File in `artifacts` that collects the suite's report (it is also printed). */
  reportName: string;
  /** More environment for the extension host (TERNARY_E2E_REPORT is set here). */
  env: NodeJS.ProcessEnv;
  /** User settings for the run. */
  settings?: Record<string, unknown>;
  timeoutMinutes: number;
}

/** Runs an extension-host suite in code-server; whether it passed. */
export async function runSuite(o: SuiteRun): Promise<boolean> {
  const reportFile = join(o.artifacts, o.reportName);
  writeFileSync(reportFile, '');
  let server: CodeServer | undefined;
  const browser = await launchBrowser(join(o.runDir, 'chromium'));
  try {
    server = await startCodeServer(o.runDir, o.workspace, { ...o.env, TERNARY_E2E_REPORT: reportFile }, true, o.settings);
    const page = browser.pages()[0] ?? (await browser.newPage());
    const exitCode = new Promise<number>((resolveExit) => {
      void page.exposeFunction('codeAutomationExit', (code: number) => resolveExit(code));
    });
    await page.exposeFunction('codeAutomationLog', () => undefined);
    await page.goto(workbenchUrl(server, o.workspace, { suitePath: o.suitePath }));
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      exitCode,
      new Promise<number>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${o.suite} did not finish within ${o.timeoutMinutes} minutes`)),
          o.timeoutMinutes * 60_000,
        );
      }),
    ]).finally(() => clearTimeout(timer));
    await shoot(page, o.artifacts, 'integration-end');
    return code === 0;
  } finally {
    process.stdout.write(readFileSync(reportFile, 'utf8'));
    if (server) writeFileSync(join(o.artifacts, 'integration-code-server.log'), server.output());
    await browser.close();
    await server?.stop();
    removeRunDir(o.runDir);
  }
}

// ---------------------------------------------------------------------------------------------
// UI sessions: what a user does, seen through the browser.

export interface UiSession {
  /** How the result lines name it ("UI", "Restricted Mode"). */
  label: string;
  /** Prefix of its artifacts: `<tag>-failure.png`, `<tag>-code-server.log`. */
  tag: string;
  /** The run's folder (newRunDir), removed at the end, and the workspace in it. */
  runDir: string;
  workspace: string;
  artifacts: string;
  /** false: VS Code asks whether to trust the workspace (Restricted Mode). */
  trusted?: boolean;
  settings?: Record<string, unknown>;
  /** This checkout as the development extension instead of an installed .vsix. */
  dev?: boolean;
}

/**
 * Opens the workspace in code-server and Chromium and runs `steps`; on a failure prints
 * `FAIL <label>` with the error and a screenshot. Whether the steps passed.
 */
export async function uiSession(o: UiSession, steps: (page: Page) => Promise<void>): Promise<boolean> {
  let server: CodeServer | undefined;
  const browser = await launchBrowser(join(o.runDir, 'chromium'));
  const page = browser.pages()[0] ?? (await browser.newPage());
  try {
    server = await startCodeServer(o.runDir, o.workspace, {}, o.trusted ?? true, o.settings);
    await page.goto(workbenchUrl(server, o.workspace, o.dev ? {} : undefined));
    await steps(page);
    return true;
  } catch (error) {
    const shot = await shoot(page, o.artifacts, `${o.tag}-failure`);
    console.log(`FAIL ${o.label}: ${errorText(error)}\n  screenshot: ${shot}`);
    return false;
  } finally {
    if (server) writeFileSync(join(o.artifacts, `${o.tag}-code-server.log`), server.output());
    await browser.close();
    await server?.stop();
    removeRunDir(o.runDir);
  }
}

/** Waits for the workbench and opens the Ternary view from the activity bar, as a user would; its activity-bar entry. */
export async function openTernaryView(page: Page): Promise<Locator> {
  await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
  // The Ternary entry appears once the extension is known.
  const ternaryView = page.locator('.activitybar [aria-label^="Ternary"]').first();
  await ternaryView.waitFor({ state: 'visible', timeout: 60_000 });
  await ternaryView.click();
  return ternaryView;
}

/** A view of the side bar by its title ("Experiments", "Layers"). */
export function pane(page: Page, title: string): Locator {
  return page.locator('.pane', { has: page.locator('.pane-header', { hasText: title }) });
}

/** A notification toast showing `text`. */
export function toast(page: Page, text: string | RegExp): Locator {
  return page.locator('.notifications-toasts .notification-toast', { hasText: text });
}

/** The row of experiment `name` in the quick pick of Ternary: Train. */
export function experimentPick(page: Page, name: string): Locator {
  const exactly = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
  return page.locator('.quick-input-list .monaco-list-row').filter({ has: page.locator('.label-name', { hasText: exactly }) });
}

/** Runs a palette command the way a user does: F1, type, Enter. */
export async function runFromPalette(page: Page, title: string): Promise<void> {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await input.fill(`>${title}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor({ state: 'visible', timeout: 30_000 });
  await page.keyboard.press('Enter');
}

/** Opens a file of the workspace by name with Quick Open (Ctrl+P), as a user does. */
export async function quickOpen(page: Page, fileName: string): Promise<void> {
  await page.keyboard.press('Control+P');
  await page.locator('.quick-input-widget input').fill(fileName);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: fileName }).first().waitFor({ state: 'visible' });
  await page.keyboard.press('Enter');
}

/** The sparsities layers.jsonl's last record gives the ternary layers of a run, as the Layers view words them. */
export function lastSparsities(runDir: string): string[] {
  const lines = readFileSync(join(runDir, 'layers.jsonl'), 'utf8').trim().split('\n');
  const record = JSON.parse(lines[lines.length - 1]!) as LayersRecord;
  return record.layers.filter((l) => l.ternary).map((l) => `${(l.sparsity * 100).toFixed(1)}% zero`);
}

/**
 * Waits until the Layers view lists `expected` (lastSparsities): the view follows a run live and
 * may show the previous epoch's stats for a moment after the run ends. Names the first row that
 * differs when it never comes; the rows shown.
 */
export async function waitForLayerSparsities(page: Page, expected: string[], what: string): Promise<string[]> {
  const rows = pane(page, 'Layers').locator('.monaco-list-row .label-description');
  let shown: string[] = [];
  await waitFor(what, 30_000, async () => {
    shown = (await rows.allInnerTexts()).filter((t) => /^\d+\.\d% zero/.test(t));
    return shown.length === expected.length && shown.every((d, i) => d.startsWith(expected[i]!));
  }).catch((err: unknown) => {
    const i = shown.findIndex((d, k) => !d.startsWith(expected[k] ?? ''));
    throw new Error(i >= 0 ? `Layers view row ${i + 1}: "${shown[i]}", layers.jsonl says ${expected[i]}` : String(err));
  });
  return shown;
}
