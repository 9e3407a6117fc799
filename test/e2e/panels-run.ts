/**
 * End-to-end test of the webview panels in a real VS Code (code-server 4.100.3 + Debian Chromium,
 * harness.ts). A fixture extension (panels-fixture/) runs the real panel hosts over synthetic run
 * folders and a fake training loop at 10 metric updates a second. Checks, as a user sees them:
 *   - the dashboard opened during a run plots more points as the run goes on, and an update
 *     reaches the chart in < 100 ms (p95; timestamps host → drawn);
 *   - the histograms panel shows counts equal to the run's layers.jsonl, steps epochs with the
 *     keyboard, opens on a layer given by the command argument, and stays one instance;
 *   - 5 runs × 10 000 points: redraw times of zoom and pan;
 *   - light and dark themes (screenshots in .test-artifacts/panels/), restore after a reload.
 * Run from the repository root: `node --import tsx test/e2e/panels-run.ts` (after
 * scripts/e2e/install-code-server.sh). About a minute on 2 cores.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as esbuild from 'esbuild';
import type { Frame, Page } from 'playwright-core';
import type { LayersRecord } from '../../server/protocol/protocol';
import { codeServerBin, launchBrowser, startCodeServer, waitFor } from './harness';
import { syntheticEpochLayers, syntheticMetrics, syntheticSummary } from './panels-synthetic';

const repo = process.cwd();
const work = resolve(process.env.TERNARY_PANELS_E2E_DIR ?? `/tmp/ternary-e2e-panels/run-${Date.now()}`);
const artifacts = join(repo, '.test-artifacts', 'panels');
const results: Record<string, unknown> = {};

function step(name: string): void {
  console.log(`[panels-e2e] ${new Date().toISOString().slice(11, 19)} ${name}`);
}

// ------------------------------------------------------------------------------- fixture build
async function buildFixture(extDir: string): Promise<void> {
  await esbuild.build({
    entryPoints: { extension: join(repo, 'test/e2e/panels-fixture/extension.ts') },
    bundle: true, platform: 'node', target: 'node20', format: 'cjs', outdir: join(extDir, 'dist'),
    external: ['vscode'], logLevel: 'warning',
  });
  // The same options as esbuild.mjs's webview context.
  await esbuild.build({
    entryPoints: { dashboard: join(repo, 'webview/dashboard/main.ts'), histograms: join(repo, 'webview/histograms/main.ts') },
    bundle: true, platform: 'browser', target: 'es2022', format: 'iife', outdir: join(extDir, 'dist', 'webview'),
    loader: { '.css': 'text' }, logLevel: 'warning',
  });
  cpSync(join(repo, 'media/webview'), join(extDir, 'media/webview'), { recursive: true });
  const command = (id: string, title: string, category = 'Ternary'): object => ({ command: id, title, category });
  writeFileSync(join(extDir, 'package.json'), JSON.stringify({
    name: 'ternary-panels-fixture', publisher: 'ternary-studio-test', version: '0.0.0', engines: { vscode: '^1.100.0' },
    main: './dist/extension.js',
    activationEvents: ['onStartupFinished', 'onWebviewPanel:ternary.dashboard', 'onWebviewPanel:ternary.histograms'],
    contributes: {
      commands: [
        command('ternary.showDashboard', 'Show Dashboard'),
        command('ternary.showHistograms', 'Show Weight Histograms'),
        command('ternaryFixture.startLive', 'Start Live Run', 'Panels Fixture'),
        command('ternaryFixture.stopLive', 'Stop Live Run', 'Panels Fixture'),
        command('ternaryFixture.showRecordedRuns', 'Show Recorded Runs', 'Panels Fixture'),
        command('ternaryFixture.showConv2', 'Show conv2 Histograms', 'Panels Fixture'),
      ],
    },
  }, null, 2));
}

/** Five finished runs of 10 000 metrics lines each, with different epoch lengths (so x values differ). */
const recordedEpochs = [100, 125, 80, 50, 200];

function writeRecordedRuns(runsRoot: string): void {
  recordedEpochs.forEach((epochs, k) => {
    const experiment = `recorded-${k + 1}`;
    const runId = `r${k + 1}`;
    const runDir = join(runsRoot, experiment, runId);
    mkdirSync(join(runDir, 'histograms'), { recursive: true });
    const metrics = syntheticMetrics(k + 10, epochs, 10_000 / epochs - 1);
    assert.equal(metrics.length, 10_000);
    writeFileSync(join(runDir, 'config.json'), JSON.stringify({
      runId, experiment: { name: experiment, train: { epochs } }, backend: 'fixture', threads: 1, versions: {}, seed: k,
      startedAt: new Date(Date.UTC(2026, 0, 1 + k)).toISOString(),
    }));
    writeFileSync(join(runDir, 'metrics.jsonl'), metrics.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const layerLines: string[] = [];
    for (let e = 1; e <= epochs; e += Math.ceil(epochs / 20)) {
      const { layers, histograms } = syntheticEpochLayers(k + 10, e, epochs);
      layerLines.push(JSON.stringify(layers));
      writeFileSync(join(runDir, 'histograms', `epoch-${String(e).padStart(3, '0')}.json`), JSON.stringify(histograms));
    }
    writeFileSync(join(runDir, 'layers.jsonl'), layerLines.join('\n') + '\n');
    writeFileSync(join(runDir, 'summary.json'), JSON.stringify(syntheticSummary(runId, experiment, epochs)));
  });
}

// ------------------------------------------------------------------------------------ UI helpers
/** Runs a command from the palette; retries while the extension host is still registering commands. */
async function runCommand(page: Page, title: string, timeoutMs = 30_000): Promise<void> {
  const input = page.locator('.quick-input-widget input');
  // The row whose label is exactly the title (not e.g. "… Color Themes in Marketplace").
  const row = page.locator('.quick-input-widget .quick-input-list .monaco-list-row')
    .filter({ has: page.locator('.label-name').getByText(title, { exact: true }) }).first();
  await waitFor(`command "${title}" in the palette`, timeoutMs, async () => {
    if (!(await input.isVisible())) await page.keyboard.press('F1');
    await input.waitFor({ state: 'visible', timeout: 5000 });
    await input.fill(`>${title}`);
    if (await row.isVisible({ timeout: 1000 }).catch(() => false)) return true;
    await row.waitFor({ state: 'visible', timeout: 1500 }).catch(() => undefined);
    if (await row.isVisible()) return true;
    await page.keyboard.press('Escape');
    return false;
  }, 500);
  await row.click();
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 10_000 }).catch(() => undefined);
}

/** The frames of our panel documents (VS Code nests each webview in two iframes). */
async function panelFrames(page: Page, title: string): Promise<Frame[]> {
  const found: Frame[] = [];
  for (const frame of page.frames()) {
    const t = await frame.evaluate(() => (document.getElementById('app') ? document.title : undefined)).catch(() => undefined);
    if (t === title) found.push(frame);
  }
  return found;
}

async function panelFrame(page: Page, title: string, timeoutMs = 20_000): Promise<Frame> {
  return waitFor(`the "${title}" webview`, timeoutMs, async () => (await panelFrames(page, title))[0]);
}

async function bodyData(frame: Frame): Promise<Record<string, string | undefined>> {
  return frame.evaluate(() => ({ ...document.body.dataset }));
}

interface Perf { updateLatencies: number[]; arrivalLatencies: number[]; redraws: number[]; liveMessages: number }
async function perfOf(frame: Frame): Promise<Perf> {
  return frame.evaluate(() => {
    const p = (globalThis as unknown as { __ternaryPerf: Perf }).__ternaryPerf;
    return { updateLatencies: [...p.updateLatencies], arrivalLatencies: [...p.arrivalLatencies], redraws: [...p.redraws], liveMessages: p.liveMessages };
  });
}

function quantiles(values: number[]): { n: number; p50: number; p95: number; max: number } {
  const s = [...values].sort((a, b) => a - b);
  const q = (p: number): number => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN;
  return { n: s.length, p50: Math.round(q(0.5) * 10) / 10, p95: Math.round(q(0.95) * 10) / 10, max: Math.round((s[s.length - 1] ?? NaN) * 10) / 10 };
}

async function screenshot(page: Page, name: string): Promise<void> {
  await page.waitForTimeout(300); // let the last animation frame land (a screenshot is not a condition)
  await page.screenshot({ path: join(artifacts, `${name}.png`) });
}

/** Switches the color theme through its picker, as a user does. */
async function pickTheme(page: Page, theme: string): Promise<void> {
  await runCommand(page, 'Preferences: Color Theme');
  const input = page.locator('.quick-input-widget input');
  await input.fill(theme);
  await page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: theme }).first().waitFor({ state: 'visible', timeout: 10_000 });
  await input.press('Enter');
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 10_000 }).catch(() => undefined);
}

function setTheme(userData: string, theme: string): void {
  const file = join(userData, 'User', 'settings.json');
  const settings = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  settings['workbench.colorTheme'] = theme;
  writeFileSync(file, JSON.stringify(settings, null, 2));
}

// ------------------------------------------------------------------------------------------ main
async function main(): Promise<void> {
  try { readFileSync(codeServerBin); } catch {
    throw new Error(`code-server is not installed at ${codeServerBin}: run scripts/e2e/install-code-server.sh first.`);
  }
  rmSync(work, { recursive: true, force: true });
  mkdirSync(artifacts, { recursive: true });
  const extDir = join(work, 'ext');
  const runsRoot = join(work, 'runs');
  const workspace = join(work, 'workspace');
  mkdirSync(workspace, { recursive: true });
  writeFileSync(join(workspace, 'README.md'), '# panels e2e workspace\n');
  step('building the fixture extension and the webview bundles');
  await buildFixture(extDir);
  writeRecordedRuns(runsRoot);
  step('starting code-server');
  const server = await startCodeServer(work, workspace, { TERNARY_PANELS_RUNS: runsRoot });
  // After the harness wrote its settings.json (it rewrites it at every start).
  const userData = join(work, 'ud');
  setTheme(userData, 'Default Dark Modern');
  const browser = await launchBrowser(join(work, 'chromium'));
  const consoleErrors: string[] = [];
  const page = browser.pages()[0] ?? await browser.newPage();
  try {
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    const payload = JSON.stringify([['extensionDevelopmentPath', `vscode-remote://remote${extDir}`]]);
    await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(payload)}`);
    await page.locator('.monaco-workbench').waitFor({ timeout: 30_000 });
    await page.waitForTimeout(1500);

    // ---- live run, dashboard opened while it trains
    step('live run at 10 updates/s; open the dashboard');
    await runCommand(page, 'Panels Fixture: Start Live Run');
    await page.waitForTimeout(1500);
    await runCommand(page, 'Ternary: Show Dashboard');
    const dash = await panelFrame(page, 'Ternary Dashboard');
    const p0 = Number(await waitFor('first plotted points', 15_000, async () => {
      const n = Number((await bodyData(dash)).points ?? 0);
      return n > 0 ? n : undefined;
    }));
    const t0 = Date.now();
    await page.waitForTimeout(3000);
    const p1 = Number((await bodyData(dash)).points);
    const grewPerSecond = (p1 - p0) / ((Date.now() - t0) / 1000);
    step(`plotted points ${p0} → ${p1} in 3 s`);
    assert.ok(p1 > p0 + 10, `the dashboard did not grow while the run trained: ${p0} → ${p1} points`);
    const live = await perfOf(dash);
    const latency = quantiles(live.updateLatencies);
    const arrival = quantiles(live.arrivalLatencies);
    results.liveDashboard = { pointsBefore: p0, pointsAfter: p1, pointsPerSecond: Math.round(grewPerSecond * 10) / 10, liveMessages: live.liveMessages, updateLatencyMs: latency, arrivalLatencyMs: arrival };
    step(`update latency host → drawn: ${JSON.stringify(latency)}; host → received: ${JSON.stringify(arrival)}`);
    assert.ok(latency.n >= 10, `too few live updates measured (${latency.n})`);
    assert.ok(latency.p95 < 100, `p95 update latency ${latency.p95} ms is not under 100 ms`);
    await screenshot(page, 'dashboard-live-dark');

    // ---- histograms of the live run
    step('histograms panel of the live run');
    await runCommand(page, 'Ternary: Show Weight Histograms');
    const hist = await panelFrame(page, 'Ternary Weight Histograms');
    const readShown = async (): Promise<{ runDir: string; epoch: number; layer: string; counts: Record<string, number> }> => {
      const d = await bodyData(hist);
      const counts = await hist.$$eval('td[data-count]', (cells) => Object.fromEntries(cells.map((c) => [(c as HTMLElement).dataset.count!, Number((c as HTMLElement).dataset.value)])));
      return { runDir: d.runDir ?? '', epoch: Number(d.epoch), layer: d.layer ?? '', counts };
    };
    const expectedCounts = (runDir: string, epoch: number, layer: string): Record<string, number> => {
      const lines = readFileSync(join(runDir, 'layers.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as LayersRecord);
      const stats = lines.find((r) => r.epoch === epoch)?.layers.find((l) => l.layer === layer);
      assert.ok(stats, `layers.jsonl of ${runDir} has no ${layer} at epoch ${epoch}`);
      return { ...stats.counts };
    };
    const first = await waitFor('histogram counts of epoch ≥ 2', 20_000, async () => {
      const s = await readShown().catch(() => undefined);
      return s && s.epoch >= 2 && Object.keys(s.counts).length === 3 ? s : undefined;
    });
    assert.deepEqual(first.counts, expectedCounts(first.runDir, first.epoch, first.layer));
    step(`counts of ${first.layer} at epoch ${first.epoch} equal layers.jsonl: ${JSON.stringify(first.counts)}`);
    const followed = await waitFor('the next epoch to arrive live', 15_000, async () => {
      const s = await readShown();
      return s.epoch > first.epoch ? s : undefined;
    });
    assert.deepEqual(followed.counts, expectedCounts(followed.runDir, followed.epoch, followed.layer));
    // Keyboard: the epoch slider steps back with the arrow key.
    await hist.locator('#epoch').focus();
    await hist.locator('#epoch').press('ArrowLeft');
    const back = await waitFor('the slider to step back', 5000, async () => {
      const s = await readShown();
      return s.epoch < followed.epoch ? s : undefined;
    });
    assert.deepEqual(back.counts, expectedCounts(back.runDir, back.epoch, back.layer));
    await screenshot(page, 'histograms-dark');
    // The command argument picks the layer, in the same (single) panel.
    await runCommand(page, 'Panels Fixture: Show conv2 Histograms');
    const conv2 = await waitFor('layer conv2 shown', 10_000, async () => {
      const s = await readShown();
      return s.layer === 'conv2' ? s : undefined;
    });
    assert.deepEqual(conv2.counts, expectedCounts(conv2.runDir, conv2.epoch, conv2.layer));
    assert.equal((await panelFrames(page, 'Ternary Weight Histograms')).length, 1, 'a second histograms panel was opened');
    results.histograms = { checked: [first, followed, back, conv2].map((s) => ({ epoch: s.epoch, layer: s.layer, counts: s.counts })) };

    // ---- light theme
    step('light theme');
    await pickTheme(page, 'Light Modern');
    await waitFor('the webview to turn light', 15_000, () => hist.evaluate(() => document.body.classList.contains('vscode-light')));
    await screenshot(page, 'histograms-light');
    await runCommand(page, 'Ternary: Show Dashboard');
    await waitFor('the dashboard to turn light', 15_000, async () => (await panelFrame(page, 'Ternary Dashboard')).evaluate(() => document.body.classList.contains('vscode-light')));
    await screenshot(page, 'dashboard-live-light');

    // ---- 5 runs × 10 000 points
    step('5 recorded runs × 10 000 points: zoom and pan');
    await runCommand(page, 'Panels Fixture: Stop Live Run');
    await runCommand(page, 'Panels Fixture: Show Recorded Runs');
    const big = await panelFrame(page, 'Ternary Dashboard');
    // Loss chart: a training loss per metrics line, except that an epoch's last batch line and its
    // epoch line share x = epoch (one point; the trainer's values there are equal), plus a
    // validation loss per epoch line: 10 000 − epochs + epochs = 10 000 a run.
    const expectedLossPoints = 5 * 10_000;
    const loaded = await waitFor(`${expectedLossPoints} loss points plotted`, 30_000, async () => {
      const n = await big.evaluate(() => Number((document.querySelector('.chart') as HTMLElement | null)?.dataset.points ?? 0));
      return n === expectedLossPoints ? n : undefined;
    });
    const totalPoints = Number((await bodyData(big)).points);
    step(`loss chart plots ${loaded} points`);
    await screenshot(page, 'dashboard-5-runs-light');
    const before = (await perfOf(big)).redraws.length;
    const plot = big.locator('.chart-plot').first();
    await plot.focus();
    for (const key of ['+', '+', '+', 'ArrowLeft', 'ArrowLeft', 'ArrowRight', 'ArrowRight', 'ArrowRight', '-', '+', 'ArrowLeft', '0']) {
      await plot.press(key);
    }
    const box = await plot.boundingBox();
    if (box) {
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      for (let i = 0; i < 8; i++) { await page.mouse.wheel(0, i < 4 ? -120 : 120); await page.waitForTimeout(30); }
    }
    await page.waitForTimeout(300);
    const zoomRedraws = (await perfOf(big)).redraws.slice(before);
    const redraw = quantiles(zoomRedraws);
    results.bigDashboard = { pointsInLossChart: loaded, zoomPanRedrawMs: redraw };
    step(`zoom/pan redraws: ${JSON.stringify(redraw)}`);
    assert.ok(redraw.n >= 12, `expected a redraw per key and wheel step, saw ${redraw.n}`);
    assert.ok(redraw.p95 < 100, `p95 redraw ${redraw.p95} ms: panning 5 × 10 000 points is not smooth`);
    await pickTheme(page, 'Dark Modern');
    await waitFor('the dashboard to turn dark', 15_000, () => big.evaluate(() => document.body.classList.contains('vscode-dark')));
    await screenshot(page, 'dashboard-5-runs-dark');

    // ---- reload: both panels come back (serializers) with their state
    step('reload window: panels restored');
    await runCommand(page, 'Developer: Reload Window');
    await page.locator('.monaco-workbench').waitFor({ timeout: 30_000 });
    const restored = await panelFrame(page, 'Ternary Dashboard', 30_000);
    const restoredPoints = await waitFor(`the restored dashboard to plot the same ${totalPoints} points`, 30_000, async () => {
      const n = Number((await bodyData(restored)).points ?? 0);
      return n === totalPoints ? n : undefined;
    });
    await screenshot(page, 'dashboard-restored-dark');
    await panelFrame(page, 'Ternary Weight Histograms', 30_000).catch(() => undefined);
    results.restore = { dashboardPoints: restoredPoints };
    step(`restored dashboard plots ${restoredPoints} points`);

    const cspErrors = consoleErrors.filter((e) => /Content Security Policy|Refused to/i.test(e));
    results.cspViolations = cspErrors;
    assert.deepEqual(cspErrors, [], 'the webviews violated their Content-Security-Policy');
    results.passed = true;
  } catch (err) {
    await page.screenshot({ path: join(artifacts, 'failure.png') }).catch(() => undefined);
    writeFileSync(join(artifacts, 'failure-code-server.log'), server.output());
    writeFileSync(join(artifacts, 'failure-console.log'), consoleErrors.join('\n'));
    throw err;
  } finally {
    writeFileSync(join(artifacts, 'results.json'), JSON.stringify(results, null, 2));
    await browser.close().catch(() => undefined);
    await server.stop();
  }
}

main().then(() => {
  console.log(`[panels-e2e] PASS — results and screenshots in ${artifacts}`);
}, (err: unknown) => {
  console.error(`[panels-e2e] FAIL: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  process.exitCode = 1;
});
