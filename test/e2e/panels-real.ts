/**
 * The panels with the real extension and the real training server (no fixture): train the tiny
 * synthetic experiment from the palette, open the dashboard while it trains and watch the number
 * of plotted points grow, open the histograms and compare the exact counts with the run's
 * layers.jsonl, then stop the run. Screenshots in .test-artifacts/panels/real-*.png.
 * Needs `node esbuild.mjs --test-hooks` (dist/ with the panel timings of webview/shared/perf.ts)
 * and scripts/e2e/install-code-server.sh.
 * Run from the repository root: `node --import tsx test/e2e/panels-real.ts`.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { join, resolve } from 'node:path';
import { threadNiceness } from '../shared/procThreads';
import { codeServerBin, launchBrowser, makeTinyWorkspace, startCodeServer, tinyExperiments, waitFor } from './harness';
import {
  bodyData,
  expectedCounts,
  panelFrame,
  perfOf,
  pickTheme,
  quantiles,
  readShown,
  runCommand,
  screenshot,
  setTheme,
} from './panels-ui';

const repo = process.cwd();
const work = resolve(process.env.TERNARY_PANELS_E2E_DIR ?? `/tmp/ternary-e2e-panels/real-${Date.now()}`);
const artifacts = join(repo, '.test-artifacts', 'panels');
const results: Record<string, unknown> = {};

function step(name: string): void {
  console.log(`[panels-real] ${new Date().toISOString().slice(11, 19)} ${name}`);
}

/** Niceness of every thread of the training server started from `serverJs` (Linux /proc). */
function serverNiceness(serverJs: string): number[] | undefined {
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    const cmdline = (() => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      } catch {
        return [];
      }
    })();
    if (!cmdline.includes(serverJs)) continue;
    return threadNiceness(pid);
  }
  return undefined;
}

async function main(): Promise<void> {
  if (!existsSync(codeServerBin))
    throw new Error(`code-server is not installed at ${codeServerBin}: run scripts/e2e/install-code-server.sh first.`);
  for (const f of ['dist/extension.js', 'dist/server.js', 'dist/webview/dashboard.js', 'dist/webview/histograms.js']) {
    if (!existsSync(join(repo, f))) throw new Error(`${f} is missing: run \`node esbuild.mjs\` first.`);
  }
  rmSync(work, { recursive: true, force: true });
  mkdirSync(artifacts, { recursive: true });
  const workspace = join(work, 'workspace');
  mkdirSync(workspace, { recursive: true });
  makeTinyWorkspace(workspace);

  step('starting code-server with the extension from the repository');
  const server = await startCodeServer(work, workspace);
  setTheme(join(work, 'ud'), 'Default Dark Modern');
  const browser = await launchBrowser(join(work, 'chromium'));
  const page = browser.pages()[0] ?? (await browser.newPage());
  try {
    const payload = JSON.stringify([['extensionDevelopmentPath', `vscode-remote://remote${repo}`]]);
    await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(payload)}`);
    await page.locator('.monaco-workbench').waitFor({ timeout: 30_000 });

    step(`Ternary: Train → ${tinyExperiments.long}`);
    await runCommand(page, 'Ternary: Train', 60_000);
    const pick = page
      .locator('.quick-input-widget .quick-input-list .monaco-list-row')
      .filter({ has: page.locator('.label-name').getByText(tinyExperiments.long, { exact: true }) })
      .first();
    await pick.waitFor({ state: 'visible', timeout: 20_000 });
    await pick.click();

    // The server lowers its priority when the extension initializes it, a moment after the process
    // starts: read until its threads are there (or 30 s have passed), then check what they are.
    const lowPriority = Math.max(10, getPriority());
    let niceness: number[] = [];
    await waitFor('the training server threads at low priority', 30_000, () => {
      niceness = serverNiceness(join(repo, 'dist', 'server.js')) ?? [];
      return niceness.length > 0 && niceness.every((n) => n === lowPriority) ? niceness : undefined;
    }).catch(() => undefined);
    step(`training server threads at nice ${[...new Set(niceness)].join(', ')} (ternary.server.lowPriority)`);
    assert.deepEqual([...new Set(niceness)], [lowPriority]);

    step('Ternary: Show Dashboard while it trains');
    let asked = Date.now();
    await runCommand(page, 'Ternary: Show Dashboard');
    let ran = Date.now();
    const dash = await panelFrame(page, 'Ternary Dashboard');
    step(`dashboard: command picked in ${ran - asked} ms, webview up ${Date.now() - ran} ms later`);
    const p0 = await waitFor(
      'the first plotted points of the run',
      120_000,
      async () => {
        const n = Number((await bodyData(dash)).points ?? 0);
        return n > 0 ? n : undefined;
      },
      250,
    );
    const t0 = Date.now();
    const p1 = await waitFor(
      'the number of plotted points to grow',
      120_000,
      async () => {
        const n = Number((await bodyData(dash)).points ?? 0);
        return n > p0 ? n : undefined;
      },
      250,
    );
    step(`plotted points ${p0} → ${p1} after ${Date.now() - t0} ms`);
    await waitFor(
      'an epoch line (validation curves)',
      120_000,
      async () => {
        const n = await dash.evaluate(
          () =>
            document.querySelectorAll('.chart').length > 0 &&
            Number((document.querySelectorAll('.chart')[4] as HTMLElement)?.dataset.points ?? 0),
        );
        return n && n > 0 ? n : undefined;
      },
      500,
    );
    const p2 = await waitFor(
      'more points after the first epoch line',
      120_000,
      async () => {
        const n = Number((await bodyData(dash)).points ?? 0);
        return n > p1 ? n : undefined;
      },
      250,
    );
    const live = await perfOf(dash);
    results.dashboard = {
      points: [p0, p1, p2],
      liveMessages: live.liveMessages,
      updateLatencyMs: quantiles(live.updateLatencies),
      arrivalLatencyMs: quantiles(live.arrivalLatencies),
    };
    assert.ok(p2 > p0, `points did not grow: ${p0} → ${p2}`);
    await screenshot(page, artifacts, 'real-dashboard-dark');

    step('Ternary: Show Weight Histograms');
    asked = Date.now();
    await runCommand(page, 'Ternary: Show Weight Histograms');
    ran = Date.now();
    const hist = await panelFrame(page, 'Ternary Weight Histograms');
    step(`histograms: command picked in ${ran - asked} ms, webview up ${Date.now() - ran} ms later`);
    // The dashboard's tab is hidden now: wait for the host's `visibility` message to arrive.
    const hidden0 = await waitFor(
      'the dashboard to learn it is hidden',
      30_000,
      async () => {
        const p = await perfOf(dash);
        return p.visible ? undefined : p;
      },
      100,
    );
    const shown = await waitFor(
      'histogram counts',
      60_000,
      async () => {
        const s = await readShown(hist).catch(() => undefined);
        return s && s.epoch >= 1 && Object.keys(s.counts).length === 3 ? s : undefined;
      },
      250,
    );
    assert.deepEqual(shown.counts, expectedCounts(shown.runDir, shown.epoch, shown.layer));
    step(`counts of ${shown.layer} at epoch ${shown.epoch} equal layers.jsonl: ${JSON.stringify(shown.counts)}`);
    const next = await waitFor(
      'a later epoch, live',
      120_000,
      async () => {
        const s = await readShown(hist);
        return s.epoch > shown.epoch ? s : undefined;
      },
      250,
    );
    assert.deepEqual(next.counts, expectedCounts(next.runDir, next.epoch, next.layer));
    results.histograms = [shown, next].map((s) => ({ runDir: s.runDir, epoch: s.epoch, layer: s.layer, counts: s.counts }));
    await screenshot(page, artifacts, 'real-histograms-dark');
    await pickTheme(page, 'Light Modern');
    await waitFor('light theme in the webview', 15_000, () => hist.evaluate(() => document.body.classList.contains('vscode-light')));
    await screenshot(page, artifacts, 'real-histograms-light');
    // The dashboard was hidden all this time: kept (retainContextWhenHidden), receiving, not drawing.
    const hiddenDash = await perfOf(dash);
    const hiddenPoints = Number((await bodyData(dash)).points);
    const whileHidden = {
      liveMessages: hiddenDash.liveMessages - hidden0.liveMessages,
      redraws: hiddenDash.redraws.length - hidden0.redraws.length,
    };
    results.hiddenDashboard = { ...whileHidden, points: [p2, hiddenPoints] };
    assert.ok(whileHidden.liveMessages > 0, 'the hidden dashboard received no live messages');
    assert.equal(whileHidden.redraws, 0, 'the hidden dashboard kept drawing');
    asked = Date.now();
    await runCommand(page, 'Ternary: Show Dashboard');
    // Shown again, the same webview draws in one render what arrived while it was hidden.
    await waitFor(
      'the dashboard to draw what arrived while hidden',
      30_000,
      async () => Number((await bodyData(dash)).points ?? 0) > hiddenPoints,
      100,
    );
    step(
      `dashboard shown again: ${whileHidden.liveMessages} messages arrived while hidden, drawn ${Date.now() - asked} ms after the palette opened (points ${p2} → ${Number((await bodyData(dash)).points)})`,
    );
    await screenshot(page, artifacts, 'real-dashboard-light');

    step('Ternary: Stop');
    await runCommand(page, 'Ternary: Stop');
    results.passed = true;
  } catch (err) {
    await page.screenshot({ path: join(artifacts, 'real-failure.png') }).catch(() => undefined);
    writeFileSync(join(artifacts, 'real-failure-code-server.log'), server.output());
    throw err;
  } finally {
    writeFileSync(join(artifacts, 'real-results.json'), JSON.stringify(results, null, 2));
    await browser.close().catch(() => undefined);
    await server.stop();
  }
}

main().then(
  () => console.log(`[panels-real] PASS — ${join(artifacts, 'real-results.json')}`),
  (err: unknown) => {
    console.error(`[panels-real] FAIL: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exitCode = 1;
  },
);
