/**
 * End-to-end test of the webview panels in a real VS Code (code-server 4.100.3 + Debian Chromium,
 * harness.ts). A fixture extension (panels-fixture/) runs the real panel hosts over synthetic run
 * folders and a fake training loop at 10 metric updates a second. Checks, as a user sees them:
 *   - the dashboard opened during a run plots more points as the run goes on;
 *   - the histograms panel shows counts equal to the run's layers.jsonl, steps epochs with the
 *     keyboard, opens on a layer given by the command argument, and stays one instance;
 *   - 5 runs × 10 000 points: every zoom and pan key and wheel step redraws;
 *   - light and dark themes (screenshots in .test-artifacts/panels/), restore after a reload.
 * Timings (update latency host → drawn, redraw times of zoom and pan) are measured, not asserted:
 * the machine is shared, so they are benchmark output, printed and written to
 * .test-artifacts/panels/results.json (the webviews are built with the test hooks of
 * webview/shared/perf.ts). Every wait is for a condition, none for a fixed time.
 * Run from the repository root: `node --import tsx test/e2e/panels-run.ts` (after
 * scripts/e2e/install-code-server.sh). About a minute on 2 cores.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as esbuild from 'esbuild';
import { codeServerBin, launchBrowser, startCodeServer, waitFor } from './harness';
import { syntheticEpochLayers, syntheticMetrics, syntheticSummary } from './panels-synthetic';
import {
  bodyData,
  expectedCounts,
  panelFrame,
  panelFrames,
  perfOf,
  pickTheme,
  quantiles,
  readShown,
  runCommand,
  screenshot,
  setTheme,
  WEBVIEW_LOAD_TIMEOUT_MS,
} from './panels-ui';

const repo = process.cwd();
const work = resolve(process.env.TERNARY_PANELS_E2E_DIR ?? `/tmp/ternary-e2e-panels/run-${Date.now()}`);
const artifacts = join(repo, '.test-artifacts', 'panels');
const results: Record<string, unknown> = {};

function step(name: string): void {
  console.log(`[panels-e2e] ${new Date().toISOString().slice(11, 19)} ${name}`);
}

// ------------------------------------------------------------------------------- fixture build
/** Panel timings and the send time on live messages (webview/shared/perf.ts, extension/panels/testStamp.ts). */
const testHooks = { TERNARY_TEST_HOOKS: 'true' };

async function buildFixture(extDir: string): Promise<void> {
  await esbuild.build({
    entryPoints: { extension: join(repo, 'test/e2e/panels-fixture/extension.ts') },
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    outdir: join(extDir, 'dist'),
    external: ['vscode'],
    // The fixture reads configs (server/config/loadConfig.ts): jsonc-parser's ESM build, as esbuild.mjs aliases it.
    alias: { 'jsonc-parser': 'jsonc-parser/lib/esm/main.js' },
    logLevel: 'warning',
    define: testHooks,
  });
  // The same options as esbuild.mjs's webview context built with --test-hooks.
  await esbuild.build({
    entryPoints: { dashboard: join(repo, 'webview/dashboard/main.ts'), histograms: join(repo, 'webview/histograms/main.ts') },
    bundle: true,
    platform: 'browser',
    target: 'es2022',
    format: 'iife',
    outdir: join(extDir, 'dist', 'webview'),
    loader: { '.css': 'text' },
    logLevel: 'warning',
    define: testHooks,
  });
  cpSync(join(repo, 'media/webview'), join(extDir, 'media/webview'), { recursive: true });
  const command = (id: string, title: string, category = 'Ternary'): object => ({ command: id, title, category });
  writeFileSync(
    join(extDir, 'package.json'),
    JSON.stringify(
      {
        name: 'ternary-panels-fixture',
        publisher: 'ternary-studio-test',
        version: '0.0.0',
        engines: { vscode: '^1.100.0' },
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
            command('ternaryFixture.holdReady', 'Hold Panels Ready', 'Panels Fixture'),
            command('ternaryFixture.releaseReady', 'Release Panels Ready', 'Panels Fixture'),
          ],
        },
      },
      null,
      2,
    ),
  );
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
    writeFileSync(
      join(runDir, 'config.json'),
      JSON.stringify({
        runId,
        experiment: { name: experiment, train: { epochs } },
        backend: 'fixture',
        threads: 1,
        versions: {},
        seed: k,
        startedAt: new Date(Date.UTC(2026, 0, 1 + k)).toISOString(),
      }),
    );
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

// ------------------------------------------------------------------------------------------ main
async function main(): Promise<void> {
  try {
    readFileSync(codeServerBin);
  } catch {
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
  const page = browser.pages()[0] ?? (await browser.newPage());
  try {
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    const payload = JSON.stringify([['extensionDevelopmentPath', `vscode-remote://remote${extDir}`]]);
    await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(payload)}`);
    await page.locator('.monaco-workbench').waitFor({ timeout: 30_000 });

    // ---- live run, dashboard opened while it trains
    step('live run at 10 updates/s; open the dashboard');
    await runCommand(page, 'Panels Fixture: Start Live Run');
    await runCommand(page, 'Ternary: Show Dashboard');
    const dash = await panelFrame(page, 'Ternary Dashboard');
    const p0 = Number(
      await waitFor('first plotted points', 15_000, async () => {
        const n = Number((await bodyData(dash)).points ?? 0);
        return n > 0 ? n : undefined;
      }),
    );
    // 60 live updates (6 s at 10 a second), timed host → drawn: reported, not asserted.
    const live0 = await perfOf(dash);
    const pStart = Number((await bodyData(dash)).points);
    const after = await waitFor(
      '60 live updates drawn',
      60_000,
      async () => {
        const p = await perfOf(dash);
        return p.updateLatencies.length >= live0.updateLatencies.length + 60 ? p : undefined;
      },
      250,
    );
    const p1 = Number((await bodyData(dash)).points);
    const latency = quantiles(after.updateLatencies.slice(live0.updateLatencies.length));
    const arrival = quantiles(after.arrivalLatencies.slice(live0.arrivalLatencies.length));
    const render = quantiles(after.renderLatencies.slice(live0.renderLatencies.length));
    results.liveDashboard = {
      firstPoints: p0,
      points: [pStart, p1],
      updateLatencyMs: latency,
      arrivalLatencyMs: arrival,
      renderLatencyMs: render,
    };
    step(
      `points ${pStart} → ${p1}; host → drawn ${JSON.stringify(latency)}; host → received ${JSON.stringify(arrival)}; received → drawn ${JSON.stringify(render)}`,
    );
    assert.ok(p1 > pStart + 10, `the dashboard did not grow while the run trained: ${pStart} → ${p1} points`);
    await screenshot(page, artifacts, 'dashboard-live-dark');

    // ---- histograms of the live run, opened mid-run; first its loading state
    step('histograms panel of the live run: loading notification while its webview is not ready');
    await runCommand(page, 'Panels Fixture: Hold Panels Ready');
    await runCommand(page, 'Ternary: Show Weight Histograms');
    const loadingToast = page.locator('.notifications-toasts .notification-toast', {
      hasText: 'Ternary: loading the Ternary Weight Histograms panel…',
    });
    await loadingToast.waitFor({ state: 'visible', timeout: 30_000 });
    const hist = await panelFrame(page, 'Ternary Weight Histograms');
    // The webview ran its script and said `ready`, which is held: the host sent no run list yet.
    await waitFor('the webview to draw its first frame', 15_000, () => hist.evaluate(() => document.getElementById('empty')?.textContent));
    assert.equal(await hist.evaluate(() => document.getElementById('empty')?.textContent), 'Loading runs…');
    assert.ok(await loadingToast.isVisible(), 'the loading notification went away before the panel was ready');
    await screenshot(page, artifacts, 'histograms-loading-dark');
    await runCommand(page, 'Panels Fixture: Release Panels Ready');
    await loadingToast.waitFor({ state: 'hidden', timeout: 15_000 });
    step('the loading notification went away when the panel said ready');
    const first = await waitFor('histogram counts of epoch ≥ 2', 20_000, async () => {
      const s = await readShown(hist).catch(() => undefined);
      return s && s.epoch >= 2 && Object.keys(s.counts).length === 3 ? s : undefined;
    });
    assert.deepEqual(first.counts, expectedCounts(first.runDir, first.epoch, first.layer));
    step(`counts of ${first.layer} at epoch ${first.epoch} equal layers.jsonl: ${JSON.stringify(first.counts)}`);
    const followed = await waitFor('the next epoch to arrive live', 15_000, async () => {
      const s = await readShown(hist);
      return s.epoch > first.epoch ? s : undefined;
    });
    assert.deepEqual(followed.counts, expectedCounts(followed.runDir, followed.epoch, followed.layer));
    // Keyboard: the epoch slider steps back with the arrow key.
    await hist.locator('#epoch').focus();
    await hist.locator('#epoch').press('ArrowLeft');
    const back = await waitFor('the slider to step back', 5000, async () => {
      const s = await readShown(hist);
      return s.epoch < followed.epoch ? s : undefined;
    });
    assert.deepEqual(back.counts, expectedCounts(back.runDir, back.epoch, back.layer));
    await screenshot(page, artifacts, 'histograms-dark');
    // The command argument picks the layer, in the same (single) panel.
    await runCommand(page, 'Panels Fixture: Show conv2 Histograms');
    const conv2 = await waitFor('layer conv2 shown', 10_000, async () => {
      const s = await readShown(hist);
      return s.layer === 'conv2' ? s : undefined;
    });
    assert.deepEqual(conv2.counts, expectedCounts(conv2.runDir, conv2.epoch, conv2.layer));
    assert.equal((await panelFrames(page, 'Ternary Weight Histograms')).length, 1, 'a second histograms panel was opened');
    results.histograms = { checked: [first, followed, back, conv2].map((s) => ({ epoch: s.epoch, layer: s.layer, counts: s.counts })) };

    // ---- light theme
    step('light theme');
    await pickTheme(page, 'Light Modern');
    await waitFor('the webview to turn light', 15_000, () => hist.evaluate(() => document.body.classList.contains('vscode-light')));
    await screenshot(page, artifacts, 'histograms-light');
    await runCommand(page, 'Ternary: Show Dashboard');
    const dashLight = await panelFrame(page, 'Ternary Dashboard');
    await waitFor(
      'the dashboard to turn light and plot again',
      15_000,
      async () =>
        (await dashLight.evaluate(() => document.body.classList.contains('vscode-light'))) &&
        Number((await bodyData(dashLight)).points ?? 0) > 0,
    );
    await screenshot(page, artifacts, 'dashboard-live-light');

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
    await screenshot(page, artifacts, 'dashboard-5-runs-light');
    // Every key and wheel step redraws (each waits for its redraw); how long they take is reported.
    const before = (await perfOf(big)).redraws.length;
    const redrawsSoFar = async (): Promise<number> => (await perfOf(big)).redraws.length;
    const plot = big.locator('.chart-plot').first();
    await plot.focus();
    for (const key of ['+', '+', '+', 'ArrowLeft', 'ArrowLeft', 'ArrowRight', 'ArrowRight', 'ArrowRight', '-', '+', 'ArrowLeft', '0']) {
      const n = await redrawsSoFar();
      await plot.press(key);
      await waitFor(`a redraw after the key ${key}`, 10_000, async () => (await redrawsSoFar()) > n, 50);
    }
    const box = await plot.boundingBox();
    assert.ok(box, 'the loss chart has no box to wheel over');
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    for (let i = 0; i < 8; i++) {
      const n = await redrawsSoFar();
      await page.mouse.wheel(0, i < 4 ? -120 : 120);
      await waitFor(`a redraw after wheel step ${i + 1}`, 10_000, async () => (await redrawsSoFar()) > n, 50);
    }
    const redraw = quantiles((await perfOf(big)).redraws.slice(before));
    results.bigDashboard = { pointsInLossChart: loaded, zoomPanRedrawMs: redraw };
    step(`zoom/pan redraws (reported, not asserted): ${JSON.stringify(redraw)}`);
    step('log scale from the keyboard; CSV and PNG export through the save dialog');
    await big.locator('#log').focus();
    await big.locator('#log').press('Space');
    await waitFor('log scale on', 5000, () =>
      big.evaluate(() => (document.getElementById('log') as HTMLInputElement | null)?.checked === true),
    );
    await screenshot(page, artifacts, 'dashboard-5-runs-log-light');
    const saveThroughDialog = async (button: string, file: string): Promise<Buffer> => {
      await big.locator(button).press('Enter');
      const input = page.locator('.quick-input-widget input');
      await input.waitFor({ state: 'visible', timeout: 15_000 });
      // VS Code's own save dialog (the simple file dialog in a browser), prefilled with the workspace path.
      await waitFor('the suggested file name', 10_000, async () => (await input.inputValue()).endsWith(file));
      await input.press('Enter');
      const path = join(workspace, file);
      await waitFor(`${path} to be written`, 15_000, () => existsSync(path));
      await waitFor('the "Saved" notice', 10_000, () =>
        big.evaluate((f) => document.querySelector('.notice-info')?.textContent?.includes(f) === true, file),
      );
      return readFileSync(path);
    };
    const csv = (await saveThroughDialog('#export-csv', 'ternary-dashboard-5-runs.csv')).toString('utf8');
    const csvLines = csv.split('\r\n');
    assert.equal(csvLines[0], 'run,runDir,kind,epoch,step,progress,lr,loss,top1,top5,valLoss,valTop1,valTop5,imgPerSec,time');
    assert.equal(csvLines.length, 1 + 5 * 10_000 + 1, 'one CSV row per metrics line of the 5 runs');
    const png = await saveThroughDialog('#export-png', 'ternary-dashboard-5-runs.png');
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const pngSize = { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
    assert.ok(pngSize.width >= 400 && pngSize.height >= 1000, `PNG export is ${pngSize.width}×${pngSize.height}`);
    cpSync(join(workspace, 'ternary-dashboard-5-runs.png'), join(artifacts, 'export-dashboard.png'));
    results.exports = { csvRows: csvLines.length - 2, png: pngSize };
    await big.locator('#log').press('Space');

    await pickTheme(page, 'Dark Modern');
    await waitFor('the dashboard to turn dark', 15_000, () => big.evaluate(() => document.body.classList.contains('vscode-dark')));
    await screenshot(page, artifacts, 'dashboard-5-runs-dark');

    // ---- reload: both panels come back (serializers) with their state
    step('reload window: panels restored');
    await runCommand(page, 'Developer: Reload Window');
    await page.locator('.monaco-workbench').waitFor({ timeout: 30_000 });
    // The frame is looked up on every try: the one found first may still be the window's before the
    // reload took it away ("Frame was detached" from then on, seen in CI).
    const restoredPoints = await waitFor(
      `the restored dashboard to plot the same ${totalPoints} points`,
      WEBVIEW_LOAD_TIMEOUT_MS,
      async () => {
        const frame = (await panelFrames(page, 'Ternary Dashboard'))[0];
        const n = frame ? Number((await bodyData(frame).catch(() => ({ points: undefined }))).points ?? 0) : 0;
        return n === totalPoints ? n : undefined;
      },
    );
    await screenshot(page, artifacts, 'dashboard-restored-dark');
    // The histograms panel comes back with its run, layer and pinned epoch (webview state).
    await runCommand(page, 'Ternary: Show Weight Histograms');
    const histAgain = await panelFrame(page, 'Ternary Weight Histograms');
    const again = await waitFor('the restored histograms', 30_000, async () => {
      const s = await readShown(histAgain).catch(() => undefined);
      return s && Object.keys(s.counts).length === 3 ? s : undefined;
    });
    assert.equal(again.layer, 'conv2', 'the histograms panel lost its layer on reload');
    assert.deepEqual(again.counts, expectedCounts(again.runDir, again.epoch, again.layer));
    // Play steps through the epochs (Enter on the focused button).
    await histAgain.locator('#play').press('Enter');
    const played = await waitFor('Play to advance the epoch', 10_000, async () => {
      const s = await readShown(histAgain);
      return s.epoch > again.epoch ? s : undefined;
    });
    assert.deepEqual(played.counts, expectedCounts(played.runDir, played.epoch, played.layer));
    await histAgain.locator('#play').press('Enter');
    results.restore = { dashboardPoints: restoredPoints, histograms: { layer: again.layer, epoch: again.epoch, playedTo: played.epoch } };
    await pickTheme(page, 'Dark High Contrast');
    await waitFor('high contrast in the webview', 15_000, () =>
      histAgain.evaluate(() => document.body.classList.contains('vscode-high-contrast')),
    );
    await screenshot(page, artifacts, 'histograms-high-contrast');
    step(`restored dashboard plots ${restoredPoints} points`);

    // ---- a live run next to the 5 big ones: every update re-aligns ~50 000 points per chart
    step('live run added to the 5 recorded runs');
    await runCommand(page, 'Ternary: Show Dashboard');
    const mixed = await panelFrame(page, 'Ternary Dashboard');
    await waitFor('the restored 5 runs', 30_000, async () => Number((await bodyData(mixed)).points ?? 0) >= totalPoints);
    const before6 = (await perfOf(mixed)).renderLatencies.length;
    await runCommand(page, 'Panels Fixture: Start Live Run');
    await waitFor('the live run to join the dashboard', 20_000, async () => Number((await bodyData(mixed)).points ?? 0) > totalPoints + 20);
    // Each update re-aligns ~50 000 points in 4 charts: 20 of them drawn, their times reported.
    const mixedPerf = await waitFor(
      '20 live updates drawn next to the 5 big runs',
      60_000,
      async () => {
        const p = await perfOf(mixed);
        return p.renderLatencies.length >= before6 + 20 ? p : undefined;
      },
      250,
    );
    const mixedRender = quantiles(mixedPerf.renderLatencies.slice(before6));
    const mixedTotal = quantiles(mixedPerf.updateLatencies.slice(before6));
    results.liveWithBigRuns = { renderLatencyMs: mixedRender, updateLatencyMs: mixedTotal };
    step(`live next to 5 × 10 000: received → drawn ${JSON.stringify(mixedRender)}; host → drawn ${JSON.stringify(mixedTotal)}`);
    await screenshot(page, artifacts, 'dashboard-6-runs-high-contrast');
    await runCommand(page, 'Panels Fixture: Stop Live Run');

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

main().then(
  () => {
    console.log(`[panels-e2e] PASS — results and screenshots in ${artifacts}`);
  },
  (err: unknown) => {
    console.error(`[panels-e2e] FAIL: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exitCode = 1;
  },
);
