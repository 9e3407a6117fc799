/**
 * Shared pieces of the tests in a real VS Code (docs/extension.md, shared vscode-e2e.md):
 * code-server 4.100.3 (installed by scripts/e2e/install-code-server.sh outside the project),
 * Debian's Chromium through playwright-core, a tiny synthetic workspace, and waits on conditions.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { writeIdxSplit } from '../shared/idx';

export const e2eHome = process.env.TERNARY_E2E_HOME ?? '/tmp/ternary-e2e';
export const codeServerBin = join(e2eHome, 'code-server', 'node_modules', '.bin', 'code-server');
export const chromiumPath = process.env.TERNARY_E2E_CHROMIUM ?? '/usr/bin/chromium';

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
  stop(): Promise<void>;
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
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
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
