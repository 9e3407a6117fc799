/**
 * Runs outlive the window, in the real VS Code (code-server) with the real extension and server:
 * 1. Train from the palette, Developer: Reload Window mid-epoch: after the reload the same process
 *    is still training and its progress notification, status bar and dashboard are live again;
 *    Ternary: Stop stops it (cancelled) after an epoch more; its epochs are those of a run nobody
 *    reloaded (`tern train` with the same backend, threads and epoch count: same seed, same metrics).
 * 2. `tern train` started in the workspace as a terminal would (a process of its own) appears live
 *    in the Experiments view, the status bar and the dashboard; Ternary: Restart Server leaves it
 *    training and followed (the status bar takes it up again); Ternary: Stop stops it (cancelled,
 *    with its checkpoint).
 * 3. A run of the window's goes on when VS Code quits (code-server stopped: nothing asks, the same
 *    process trains on and ends an epoch more); a SIGTERM while no window watches stops it
 *    (cancelled, with its checkpoint).
 * 4. VS Code started again (another address, so nothing of the browser's storage carries over):
 *    the window announces that end once, with Resume; Resume trains the same run folder on.
 * Needs `node esbuild.mjs` (dist/) and scripts/e2e/install-code-server.sh.
 * Run from the repository root: `node --import tsx test/e2e/detach-real.ts`.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { MetricsRecord, RunConfigRecord, RunSummary } from '../../shared/runRecords';
import { codeServerBin, launchBrowser, makeTinyWorkspace, openTernaryView, pane, startCodeServer, toast, waitFor } from './harness';
import { bodyData, panelFrame, panelFrames, runCommand, WEBVIEW_LOAD_TIMEOUT_MS } from './panels-ui';

const repo = process.cwd();
const cliJs = join(repo, 'dist', 'cli.js');
const work = resolve(process.env.TERNARY_DETACH_E2E_DIR ?? `/tmp/ternary-e2e-detach/run-${Date.now()}`);
const artifacts = join(repo, '.test-artifacts', 'detach');

function step(name: string): void {
  console.log(`[detach-e2e] ${new Date().toISOString().slice(11, 19)} ${name}`);
}

/** The run folders of an experiment, oldest first. */
function runsOf(runsDir: string, experiment: string): string[] {
  const dir = join(runsDir, experiment);
  return existsSync(dir)
    ? readdirSync(dir)
        .sort()
        .map((id) => join(dir, id))
    : [];
}

function lines<T>(file: string): T[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as T];
      } catch {
        return [];
      }
    });
}

function summaryOf(runDir: string): RunSummary | undefined {
  try {
    return JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as RunSummary;
  } catch {
    return undefined;
  }
}

function lockPid(runDir: string): number | undefined {
  try {
    return (JSON.parse(readFileSync(join(runDir, '.lock'), 'utf8')) as { pid: number }).pid;
  } catch {
    return undefined;
  }
}

/** Epoch records without their timings: what two runs of one seed must share. */
function epochRecords(runDir: string): Omit<MetricsRecord, 'time' | 'imgPerSec'>[] {
  return lines<MetricsRecord>(join(runDir, 'metrics.jsonl'))
    .filter((r) => r.kind === 'epoch')
    .map(({ time: _t, imgPerSec: _i, ...rest }) => rest);
}

async function main(): Promise<void> {
  if (!existsSync(codeServerBin))
    throw new Error(`code-server is not installed at ${codeServerBin}: run scripts/e2e/install-code-server.sh first.`);
  for (const f of ['dist/extension.js', 'dist/server.js', 'dist/cli.js']) {
    if (!existsSync(join(repo, f))) throw new Error(`${f} is missing: run \`node esbuild.mjs\` first.`);
  }
  rmSync(work, { recursive: true, force: true });
  mkdirSync(artifacts, { recursive: true });
  const workspace = join(work, 'workspace');
  mkdirSync(workspace, { recursive: true });
  makeTinyWorkspace(workspace);
  // Two experiments of their own over the 512-image data (epochs of about a second).
  const experiment = (name: string, epochs: number): object => ({
    name,
    model: { arch: 'fmnist-cnn', classes: 10 },
    quant: { method: 'he2019', thresholdFactor: 0.05, tex: 1 },
    data: { format: 'idx', path: 'data-long', augment: [] },
    train: { epochs, batchSize: 16, optimizer: 'adam', lr: 0.001, seed: 7 },
  });
  const configPath = join(workspace, 'detach.tern.json');
  writeFileSync(
    configPath,
    JSON.stringify({ experiments: [experiment('reloaded', 200), experiment('terminal', 200), experiment('unwatched', 200)] }, null, 2) +
      '\n',
  );
  const runsDir = join(workspace, 'runs');

  step('starting code-server with the extension from the repository');
  let server = await startCodeServer(work, workspace);
  const browser = await launchBrowser(join(work, 'chromium'));
  const page = browser.pages()[0] ?? (await browser.newPage());
  const payload = JSON.stringify([['extensionDevelopmentPath', `vscode-remote://remote${repo}`]]);
  const openWindow = async (): Promise<void> => {
    await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(payload)}`);
    await page.locator('.monaco-workbench').waitFor({ timeout: 30_000 });
  };
  try {
    await openWindow();

    // ---- 1. a run from the palette through a window reload
    step('Ternary: Train → reloaded');
    await runCommand(page, 'Ternary: Train', 60_000);
    const pick = page
      .locator('.quick-input-widget .quick-input-list .monaco-list-row')
      .filter({ has: page.locator('.label-name').getByText('reloaded', { exact: true }) })
      .first();
    await pick.waitFor({ state: 'visible', timeout: 20_000 });
    await pick.click();
    const runDir = await waitFor('the run folder', 120_000, () => runsOf(runsDir, 'reloaded')[0]);
    await waitFor('the status bar to follow the run', 120_000, () =>
      page.locator('.statusbar-item', { hasText: /reloaded · epoch \d+\/200/ }).isVisible(),
    );
    // Mid-epoch: batch lines of epoch 2 and no epoch line of it yet.
    await waitFor(
      'the middle of epoch 2',
      120_000,
      () => {
        const records = lines<MetricsRecord>(join(runDir, 'metrics.jsonl'));
        return records.some((r) => r.kind === 'batch' && r.epoch === 2) && !records.some((r) => r.kind === 'epoch' && r.epoch === 2);
      },
      20,
    );
    const pid = lockPid(runDir);
    assert.ok(pid, 'the run holds its lock');

    step(`Developer: Reload Window (run ${runDir}, process ${pid})`);
    await runCommand(page, 'Developer: Reload Window');
    await page.locator('.monaco-workbench').waitFor({ timeout: 30_000 });
    await waitFor('the status bar to follow the run again', 120_000, () =>
      page.locator('.statusbar-item', { hasText: /reloaded · epoch \d+\/200 · \d+%/ }).isVisible(),
    );
    await toast(page, 'training reloaded').waitFor({ state: 'visible', timeout: 30_000 });
    assert.equal(lockPid(runDir), pid, 'the same process trains the run after the reload');
    assert.equal(summaryOf(runDir)?.status, 'running');

    step('Ternary: Show Dashboard: live again');
    await runCommand(page, 'Ternary: Show Dashboard');
    const frameNow = async () => (await panelFrames(page, 'Ternary Dashboard'))[0];
    await panelFrame(page, 'Ternary Dashboard');
    const p0 = await waitFor(
      'plotted points',
      WEBVIEW_LOAD_TIMEOUT_MS,
      async () => {
        const frame = await frameNow();
        const n = frame ? Number((await bodyData(frame).catch(() => ({ points: undefined }))).points ?? 0) : 0;
        return n > 0 ? n : undefined;
      },
      250,
    );
    await waitFor(
      'the plotted points to grow (live)',
      120_000,
      async () => {
        const frame = await frameNow();
        const n = frame ? Number((await bodyData(frame).catch(() => ({ points: undefined }))).points ?? 0) : 0;
        return n > p0 ? n : undefined;
      },
      250,
    );
    // Trains on after the reload: an epoch ends that began before it.
    const epochsAtReload = epochRecords(runDir).length;
    await waitFor('an epoch to end after the reload', 600_000, () => epochRecords(runDir).length > epochsAtReload, 250);
    await page.screenshot({ path: join(artifacts, 'reloaded-live.png') });

    step('Ternary: Stop');
    await runCommand(page, 'Ternary: Stop');
    await toast(page, /Stopped reloaded (after|during)/).waitFor({ state: 'visible', timeout: 120_000 });
    const reloaded = summaryOf(runDir)!;
    assert.equal(reloaded.status, 'cancelled');
    assert.equal(lockPid(runDir), undefined, 'the run released its lock');
    await waitFor(
      'the status bar to clear',
      30_000,
      async () => !(await page.locator('.statusbar-item', { hasText: /reloaded · epoch/ }).isVisible()),
    );

    step(`the same ${reloaded.epochs} epoch(s) by \`tern train\`, not reloaded`);
    const record = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')) as RunConfigRecord;
    const compareRuns = join(work, 'compare-runs');
    const compare = spawn(
      process.execPath,
      [
        cliJs,
        'train',
        configPath,
        '--experiment',
        'reloaded',
        '--epochs',
        String(reloaded.epochs),
        '--runs-dir',
        compareRuns,
        '--backend',
        record.backend,
        '--threads',
        String(record.threads),
      ],
      { cwd: work, stdio: 'ignore' },
    );
    assert.equal(await new Promise((r) => compare.on('exit', r)), 0);
    const [uninterrupted] = runsOf(compareRuns, 'reloaded');
    assert.deepEqual(epochRecords(runDir), epochRecords(uninterrupted!));
    assert.deepEqual(reloaded.final, summaryOf(uninterrupted!)!.final);
    step(`final metrics equal: ${JSON.stringify(reloaded.final)}`);

    // ---- 2. a run of a terminal's `tern train`
    step('tern train in the workspace, as a terminal runs it');
    const terminal = spawn(process.execPath, [cliJs, 'train', configPath, '--experiment', 'terminal'], {
      cwd: workspace,
      detached: true,
      stdio: 'ignore',
    });
    const terminalExit = new Promise<number | null>((r) => terminal.on('exit', r));
    const terminalRun = await waitFor('its run folder', 120_000, () => runsOf(runsDir, 'terminal')[0]);
    await waitFor('the status bar to follow it', 120_000, () =>
      page.locator('.statusbar-item', { hasText: /terminal · epoch \d+\/200/ }).isVisible(),
    );
    await openTernaryView(page);
    const experiments = pane(page, 'Experiments');
    await experiments.locator('.monaco-list-row', { hasText: 'terminal' }).first().waitFor({ state: 'visible', timeout: 30_000 });
    await waitFor('the experiment to say it trains', 60_000, () =>
      experiments
        .locator('.monaco-list-row', { hasText: /terminal.*training…/ })
        .first()
        .isVisible(),
    );
    await runCommand(page, 'Ternary: Show Dashboard');
    const runId = terminalRun.split('/').pop()!;
    await waitFor(
      "the terminal run's points to grow in the dashboard",
      WEBVIEW_LOAD_TIMEOUT_MS,
      async () => {
        const frame = await frameNow();
        if (!frame) return undefined;
        const first = Number((await bodyData(frame)).points ?? 0);
        const text = await frame.evaluate(() => document.body.innerText);
        if (!text.includes(runId)) return undefined;
        await waitFor('more points', 30_000, async () => Number((await bodyData(frame)).points ?? 0) > first, 250);
        return true;
      },
      500,
    );
    await page.screenshot({ path: join(artifacts, 'terminal-live.png') });

    step('Ternary: Restart Server mid-run');
    const terminalPid = lockPid(terminalRun);
    const terminalEpochs = epochRecords(terminalRun).length;
    await runCommand(page, 'Ternary: Restart Server');
    await waitFor('the terminal run to end an epoch more', 300_000, () => epochRecords(terminalRun).length > terminalEpochs, 250);
    assert.equal(lockPid(terminalRun), terminalPid, 'the same process trains on through the restart');
    await waitFor('the status bar to follow it again', 60_000, () =>
      page.locator('.statusbar-item', { hasText: /terminal · epoch \d+\/200/ }).isVisible(),
    );

    step('Ternary: Stop');
    await runCommand(page, 'Ternary: Stop');
    assert.equal(await waitFor('tern train to exit', 60_000, async () => (terminal.exitCode !== null ? terminalExit : undefined)), 130);
    assert.equal(summaryOf(terminalRun)?.status, 'cancelled');
    await toast(page, /Stopped terminal (after|during)/).waitFor({ state: 'visible', timeout: 30_000 });
    await waitFor(
      'the status bar to clear',
      30_000,
      async () => !(await page.locator('.statusbar-item', { hasText: /terminal · epoch/ }).isVisible()),
    );

    // ---- 3. quit with a run going: nothing asks, the run trains on, and stops while no window watches
    step('Ternary: Train → unwatched, until its first epoch ends');
    await runCommand(page, 'Ternary: Train', 60_000);
    const unwatchedPick = page
      .locator('.quick-input-widget .quick-input-list .monaco-list-row')
      .filter({ has: page.locator('.label-name').getByText('unwatched', { exact: true }) })
      .first();
    await unwatchedPick.waitFor({ state: 'visible', timeout: 20_000 });
    await unwatchedPick.click();
    const unwatchedRun = await waitFor('its run folder', 120_000, () => runsOf(runsDir, 'unwatched')[0]);
    await waitFor('its first epoch', 300_000, () => epochRecords(unwatchedRun).length >= 1, 250);
    await waitFor('the status bar to follow it', 60_000, () =>
      page.locator('.statusbar-item', { hasText: /unwatched · epoch \d+\/200/ }).isVisible(),
    );
    const unwatchedPid = lockPid(unwatchedRun);
    assert.ok(unwatchedPid, 'the run holds its lock');

    step('quit: code-server stops, the run trains on');
    await page.goto('about:blank');
    await server.stop({ keepRuns: true });
    const epochsAtQuit = epochRecords(unwatchedRun).length;
    await waitFor('an epoch to end after the quit', 300_000, () => epochRecords(unwatchedRun).length > epochsAtQuit, 250);
    assert.equal(lockPid(unwatchedRun), unwatchedPid, 'the same process trains on');

    step('the run stops while no window watches it');
    process.kill(unwatchedPid, 'SIGTERM');
    await waitFor('the run to stop', 120_000, () => summaryOf(unwatchedRun)?.status === 'cancelled', 250);
    const stoppedAfter = summaryOf(unwatchedRun)!.epochs;
    assert.ok(stoppedAfter >= 2);

    // ---- 4. the next window tells that end, once, with Resume
    step('VS Code again: the end is announced with Resume');
    server = await startCodeServer(work, workspace);
    await openWindow();
    const announcement = toast(
      page,
      new RegExp(`unwatched/${unwatchedRun.split('/').pop()!} cancelled after \\d+ of 200 epochs while no window watched it`),
    );
    await announcement.waitFor({ state: 'visible', timeout: 120_000 });
    await page.screenshot({ path: join(artifacts, 'announced.png') });
    await announcement.locator('.monaco-button', { hasText: 'Resume' }).first().click();
    await waitFor(
      'the run to train again',
      300_000,
      () => {
        const pidNow = lockPid(unwatchedRun);
        return pidNow !== undefined && pidNow !== unwatchedPid && epochRecords(unwatchedRun).length > stoppedAfter;
      },
      250,
    );
    assert.equal(runsOf(runsDir, 'unwatched').length, 1, 'Resume continues the same run folder');
    await runCommand(page, 'Ternary: Stop');
    await waitFor('the resumed run to stop', 120_000, () => summaryOf(unwatchedRun)?.status === 'cancelled', 250);
  } catch (err) {
    await page.screenshot({ path: join(artifacts, 'failure.png') }).catch(() => undefined);
    writeFileSync(join(artifacts, 'failure-code-server.log'), server.output());
    throw err;
  } finally {
    await browser.close().catch(() => undefined);
    await server.stop();
  }
}

main().then(
  () => console.log('[detach-e2e] PASS'),
  (err: unknown) => {
    console.error(`[detach-e2e] FAIL: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exitCode = 1;
  },
);
