/**
 * `npm run test:e2e` (after install-code-server.sh and `npm run package`): the extension in a real
 * VS Code (code-server 4.100.3 + headless Debian Chromium).
 *   1. Integration suite inside the extension host (extensionDevelopmentPath = this checkout,
 *      extensionTestsPath = out/test/suite/index.js); its exit code arrives via codeAutomationExit.
 *   2. UI test with the packaged .vsix installed: F1 → "Ternary: Train" → wait for the run →
 *      the Layers view lists the ternary layers with their sparsity; screenshot kept. Also
 *      Ternarize Model from the palette and, on an .onnx file, from the Explorer's context menu.
 *   3. Restricted Mode (the trust prompt answered "No"): the views work, Train refuses.
 * Artifacts (screenshots, reports, code-server logs) go to .test-artifacts/e2e/.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as esbuild from 'esbuild';
import type { Page } from 'playwright-core';
import {
  chromiumPath,
  codeServerBin,
  e2eHome,
  installVsix,
  launchBrowser,
  makeTinyWorkspace,
  startCodeServer,
  tinyExperiments,
  waitFor,
  type CodeServer,
} from './harness';
import { runIdDay, runRow } from '../../extension/format';
import type { LayersRecord } from '../../shared/runRecords';
import { torchUi } from './torch-ui';

const root = resolve(__dirname, '..', '..');
const artifacts = join(root, '.test-artifacts', 'e2e');
const vsix = join(root, 'ternary-studio.vsix');
/** Whether `npm run package` put the native addon in the .vsix (it does when the addon is built). */
const shippedAddon = existsSync(join(root, 'dist', 'ternary_onednn.node'));
const example = join(root, 'examples', 'fashion-mnist.tern.json');

function preflight(needServer: boolean): void {
  const missing: string[] = [];
  if (!existsSync(codeServerBin)) missing.push(`code-server (${codeServerBin}): run scripts/e2e/install-code-server.sh`);
  if (!existsSync(chromiumPath)) missing.push(`Chromium (${chromiumPath}): apt-get install -y chromium`);
  if (!existsSync(vsix)) missing.push(`${vsix}: run npm run package`);
  if (needServer && !existsSync(join(root, 'dist', 'server.js'))) missing.push('dist/server.js: run npm run build');
  if (missing.length) throw new Error(`Cannot run the tests in VS Code; missing:\n  ${missing.join('\n  ')}`);
}

async function buildSuite(): Promise<string> {
  const outfile = join(root, 'out', 'test', 'suite', 'index.js');
  await esbuild.build({
    entryPoints: [join(root, 'test', 'e2e', 'suite', 'index.ts')],
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

/** Removes a run's folder; the code-server tree may still be flushing files for a moment. */
function removeRunDir(runDir: string): void {
  try {
    rmSync(runDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  } catch (error) {
    console.log(`note: could not remove ${runDir}: ${String(error)}`);
  }
}

function newRunDir(name: string): string {
  mkdirSync(e2eHome, { recursive: true });
  return mkdtempSync(join(e2eHome, `${name}-`));
}

async function shoot(page: Page, name: string): Promise<string> {
  const file = join(artifacts, `${name}.png`);
  await page.screenshot({ path: file }).catch(() => undefined);
  return file;
}

/** Tier 3a: the suite in the extension host of this checkout. */
async function integration(suitePath: string): Promise<boolean> {
  const runDir = newRunDir('integration');
  const workspace = join(runDir, 'ws');
  const { configPath } = makeTinyWorkspace(workspace);
  const reportFile = join(artifacts, 'integration-report.txt');
  writeFileSync(reportFile, '');
  let server: CodeServer | undefined;
  const browser = await launchBrowser(join(runDir, 'chromium'));
  try {
    server = await startCodeServer(
      runDir,
      workspace,
      {
        TERNARY_E2E_REPORT: reportFile,
        TERNARY_E2E_CONFIG: configPath,
        TERNARY_E2E_EXAMPLE: example,
      },
      true,
      { 'ternary.backend': 'wasm' },
    ); // the suite checks that the setting reaches the server
    const page = browser.pages()[0] ?? (await browser.newPage());
    const exitCode = new Promise<number>((resolveExit) => {
      void page.exposeFunction('codeAutomationExit', (code: number) => resolveExit(code));
    });
    await page.exposeFunction('codeAutomationLog', () => undefined);
    const payload = JSON.stringify([
      ['extensionDevelopmentPath', `vscode-remote://remote${root}`],
      ['extensionTestsPath', `vscode-remote://remote${suitePath}`],
    ]);
    await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(payload)}`);
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      exitCode,
      new Promise<number>((_, reject) => {
        timer = setTimeout(() => reject(new Error('the integration suite did not finish within 8 minutes')), 8 * 60_000);
      }),
    ]).finally(() => clearTimeout(timer));
    await shoot(page, 'integration-end');
    return code === 0;
  } finally {
    process.stdout.write(readFileSync(reportFile, 'utf8'));
    if (server) writeFileSync(join(artifacts, 'integration-code-server.log'), server.output());
    await browser.close();
    await server?.stop();
    removeRunDir(runDir);
  }
}

/** Runs a palette command the way a user does: F1, type, Enter. */
async function runFromPalette(page: Page, title: string): Promise<void> {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await input.fill(`>${title}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor({ state: 'visible', timeout: 30_000 });
  await page.keyboard.press('Enter');
}

/** Tier 3b: what a user does, with the packaged extension installed. */
async function ui(): Promise<boolean> {
  const runDir = newRunDir('ui');
  const workspace = join(runDir, 'ws');
  makeTinyWorkspace(workspace);
  copyFileSync(join(root, 'test', 'fixtures', 'onnx', 'lenet5.onnx'), join(workspace, 'lenet5.onnx'));
  installVsix(runDir, vsix);
  let server: CodeServer | undefined;
  const browser = await launchBrowser(join(runDir, 'chromium'));
  const page = browser.pages()[0] ?? (await browser.newPage());
  try {
    server = await startCodeServer(runDir, workspace);
    await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}`);
    await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
    // The Ternary activity-bar entry appears once the extension is known; open it like a user would.
    const ternaryView = page.locator('.activitybar [aria-label^="Ternary"]').first();
    await ternaryView.waitFor({ state: 'visible', timeout: 60_000 });
    await ternaryView.click();
    // The user sees the experiments listed before reaching for the palette.
    await page
      .locator('.pane', { has: page.locator('.pane-header', { hasText: 'Experiments' }) })
      .locator('.monaco-list-row', { hasText: tinyExperiments.long })
      .waitFor({ state: 'visible', timeout: 30_000 });

    await runFromPalette(page, 'Ternary: Train');
    // Two experiments in the config: the extension asks which one.
    const pick = page.locator('.quick-input-list .monaco-list-row').filter({ has: page.locator('.label-name', { hasText: /^tiny$/ }) });
    await pick.waitFor({ state: 'visible', timeout: 30_000 });
    await pick.click();

    const finished = page.locator('.notifications-toasts .notification-toast', { hasText: `Finished ${tinyExperiments.short}:` });
    await finished.waitFor({ state: 'visible', timeout: 240_000 });

    const runsRoot = join(workspace, 'runs', tinyExperiments.short);
    const runId = readdirSync(runsRoot)[0]!;
    const lines = readFileSync(join(runsRoot, runId, 'layers.jsonl'), 'utf8')
      .trim()
      .split('\n');
    const record = JSON.parse(lines[lines.length - 1]!) as LayersRecord;
    const expected = record.layers.filter((l) => l.ternary).map((l) => `sparsity ${(l.sparsity * 100).toFixed(1)}%`);

    const layersPane = page.locator('.pane', { has: page.locator('.pane-header', { hasText: 'Layers' }) });
    // The view follows the run live: it may still show the previous epoch's stats for a moment
    // after the "finished" notification, so wait for the last epoch's, and name the row if it never comes.
    let shown: string[] = [];
    await waitFor('the Layers view to list the ternary layers of the last epoch', 30_000, async () => {
      const texts = await layersPane.locator('.monaco-list-row .label-description').allInnerTexts();
      shown = texts.filter((t) => t.startsWith('sparsity '));
      return shown.length === expected.length && shown.every((d, i) => d.startsWith(expected[i]!));
    }).catch((err: unknown) => {
      const i = shown.findIndex((d, k) => !d.startsWith(expected[k] ?? ''));
      throw new Error(i >= 0 ? `Layers view row ${i + 1}: "${shown[i]}", layers.jsonl says ${expected[i]}` : String(err));
    });
    const experimentsPane = page.locator('.pane', { has: page.locator('.pane-header', { hasText: 'Experiments' }) });
    await experimentsPane
      .locator('.monaco-list-row', { hasText: runRow({ runId, status: 'completed', epoch: 2, epochs: 2 }, runIdDay(new Date())).label })
      .filter({ hasText: 'epoch 2/2' })
      .waitFor({ state: 'visible', timeout: 10_000 });
    const shot = await shoot(page, 'ui-train-layers');
    const summary = JSON.parse(readFileSync(join(runsRoot, runId, 'summary.json'), 'utf8')) as { backend: string; wallSeconds: number };
    // The .vsix carries the native oneDNN addon when it was built (dist/ternary_onednn.node):
    // then the installed extension's server must have started it (the setting is "auto").
    if (shippedAddon && summary.backend !== 'onednn') {
      throw new Error(`the .vsix carries the oneDNN addon but the run trained on ${summary.backend}; see the server log in ${artifacts}`);
    }
    console.log(
      `ok   UI: F1 → Ternary: Train → ${runId} finished (${summary.backend}, ${summary.wallSeconds.toFixed(1)} s); Layers view shows ${shown.length} ternary layers (${shot})`,
    );

    // The config in the editor: lenses above each experiment; the Dashboard lens opens the panel.
    await page.keyboard.press('Control+P');
    await page.locator('.quick-input-widget input').fill('tiny.tern.json');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'tiny.tern.json' }).first().waitFor({ state: 'visible' });
    await page.keyboard.press('Enter');
    const lenses = page.locator('.contentWidgets .codelens-decoration, .codelens-decoration');
    await lenses.filter({ hasText: 'Dashboard' }).first().waitFor({ state: 'visible', timeout: 30_000 });
    const lensText = await lenses.first().innerText();
    if (!/Train\s*\|\s*Evaluate\s*\|\s*Ternarize\s*\|\s*Dashboard/.test(lensText.replace(/\u00a0/g, ' '))) {
      throw new Error(`lenses above the first experiment read "${lensText}"`);
    }
    await lenses.first().locator('a', { hasText: 'Dashboard' }).click();
    await page.locator('.tabs-container .tab', { hasText: 'Ternary Dashboard' }).waitFor({ state: 'visible', timeout: 30_000 });
    await page.locator('iframe.webview').first().waitFor({ state: 'attached', timeout: 30_000 });
    // The panel's content lives two iframes deep; wait until its charts are drawn (uPlot's root).
    await waitFor(
      'the dashboard to draw its charts',
      30_000,
      async () => {
        for (const frame of page.frames()) {
          if (
            await frame
              .locator('.uplot')
              .count()
              .catch(() => 0)
          )
            return true;
        }
        return false;
      },
      250,
    );
    const dashboardShot = await shoot(page, 'ui-dashboard');
    console.log(`ok   UI: lenses "${lensText.replace(/\s+/g, ' ')}"; the Dashboard lens opens the dashboard (${dashboardShot})`);

    // A long run: the status bar follows it, and the progress notification's Cancel stops it.
    await runFromPalette(page, 'Ternary: Train');
    const longPick = page
      .locator('.quick-input-list .monaco-list-row')
      .filter({ has: page.locator('.label-name', { hasText: /^tiny-long$/ }) });
    // The dashboard opened just before can take the focus when its webview finishes loading, which
    // closes the quick pick (seen on a loaded machine): then the palette command is run again.
    // Only a quick input that stays closed for a few seconds counts: between the palette and the
    // pick there is a moment with neither while the command asks the server for the experiments.
    let closedChecks = 0;
    await waitFor(
      'the experiment pick of Ternary: Train',
      60_000,
      async () => {
        if (await longPick.isVisible()) return true;
        if (await page.locator('.quick-input-widget input').isVisible()) closedChecks = 0;
        else if (++closedChecks >= 5) {
          closedChecks = 0;
          await runFromPalette(page, 'Ternary: Train');
        }
        return undefined;
      },
      1_000,
    );
    await longPick.click();
    const statusItem = page.locator('.statusbar-item', { hasText: /tiny-long · epoch \d+\/200/ });
    await statusItem.waitFor({ state: 'visible', timeout: 120_000 });
    const statusText = await statusItem.innerText();
    const progressToast = page.locator('.notifications-toasts .notification-toast', { hasText: 'training tiny-long' });
    await progressToast.hover();
    await progressToast.getByRole('button', { name: 'Cancel' }).click();
    await page
      .locator('.notifications-toasts .notification-toast', { hasText: /Stopped tiny-long (after|during)/ })
      .waitFor({ state: 'visible', timeout: 60_000 });
    await statusItem.waitFor({ state: 'hidden', timeout: 10_000 });
    await experimentsPane
      .locator('.monaco-list-row', { has: page.locator('.codicon-circle-slash') })
      .waitFor({ state: 'visible', timeout: 10_000 });
    await waitFor(
      'the experiment to stop showing "training…"',
      10_000,
      async () => (await experimentsPane.locator('.monaco-list-row', { hasText: 'training…' }).count()) === 0,
    );
    const cancelShot = await shoot(page, 'ui-cancelled');
    console.log(`ok   UI: status bar "${statusText.trim()}"; Cancel on the progress notification stopped the run (${cancelShot})`);

    // A float model, then "Ternary: Ternarize Model" on it with the default answers.
    await runFromPalette(page, 'Ternary: Train');
    const floatPick = page
      .locator('.quick-input-list .monaco-list-row')
      .filter({ has: page.locator('.label-name', { hasText: /^tiny-float$/ }) });
    await floatPick.waitFor({ state: 'visible', timeout: 30_000 });
    await floatPick.click();
    await page
      .locator('.notifications-toasts .notification-toast', { hasText: /Finished tiny-float:/ })
      .waitFor({ state: 'visible', timeout: 240_000 });
    await runFromPalette(page, 'Ternary: Ternarize Model');
    const modelPick = page.locator('.quick-input-list .monaco-list-row', { hasText: /runs\/tiny-float\/.*model\.json/ });
    await modelPick.waitFor({ state: 'visible', timeout: 30_000 });
    await modelPick.click();
    for (const step of ['(1/3)', '(2/3)', '(3/3)']) {
      await page.locator('.quick-input-widget .quick-input-title', { hasText: step }).waitFor({ state: 'visible', timeout: 30_000 });
      await page.keyboard.press('Enter'); // f = 0.05, t_ex = 1, next to the model
    }
    await page
      .locator('.notifications-toasts .notification-toast', { hasText: /wrote .*model-ternary\/model\.json/ })
      .waitFor({ state: 'visible', timeout: 120_000 });
    const ternarizedRows = await waitFor('the Layers view to show the ternarized model', 30_000, async () => {
      const header = await layersPane.locator('.pane-header').innerText();
      if (!header.includes('model-ternary')) return undefined;
      const texts = await layersPane.locator('.monaco-list-row .label-description').allInnerTexts();
      return texts.filter((t) => /^sparsity \d+\.\d% · α /.test(t)).length === expected.length ? texts : undefined;
    });
    const ternarizeShot = await shoot(page, 'ui-ternarized');
    console.log(
      `ok   UI: Ternarize Model wrote the ternary twin; Layers view shows its ${ternarizedRows.length} layers (${ternarizeShot})`,
    );

    // An .onnx file in the Explorer: right-click → Ternarize Model, default answers; its 5 conv/dense
    // layers (LeNet-5 from PyTorch, test/fixtures/onnx) show as ternary layers in the Layers view.
    await page.locator('.activitybar [aria-label^="Explorer"]').first().click();
    const onnxRow = page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'lenet5.onnx' });
    await onnxRow.waitFor({ state: 'visible', timeout: 30_000 });
    await onnxRow.click({ button: 'right' });
    const menuItem = page.locator('.monaco-menu .action-item', { hasText: 'Ternarize Model' });
    await menuItem.waitFor({ state: 'visible', timeout: 10_000 });
    await menuItem.click();
    // A click that lands while the context menu is still settling leaves it open with the item
    // highlighted (seen on a loaded CI machine): then the item is chosen with the keyboard.
    const firstStep = page.locator('.quick-input-widget .quick-input-title', { hasText: '(1/3)' });
    await waitFor(
      'the Ternarize Model questions after the Explorer menu',
      30_000,
      async () => {
        if (await firstStep.isVisible()) return true;
        if (await menuItem.isVisible()) {
          await menuItem.hover();
          await page.keyboard.press('Enter');
        }
        return undefined;
      },
      1_000,
    );
    for (const step of ['(1/3)', '(2/3)', '(3/3)']) {
      await page.locator('.quick-input-widget .quick-input-title', { hasText: step }).waitFor({ state: 'visible', timeout: 30_000 });
      await page.keyboard.press('Enter');
    }
    await page
      .locator('.notifications-toasts .notification-toast', { hasText: /wrote .*lenet5-ternary\/model\.json/ })
      .waitFor({ state: 'visible', timeout: 120_000 });
    if (!existsSync(join(workspace, 'lenet5-ternary', 'weights.bin')))
      throw new Error('Ternarize on lenet5.onnx wrote no lenet5-ternary/weights.bin');
    await ternaryView.click();
    const onnxRows = await waitFor('the Layers view to show the ternarized ONNX model', 30_000, async () => {
      const header = await layersPane.locator('.pane-header').innerText();
      if (!header.includes('lenet5-ternary')) return undefined;
      const texts = await layersPane.locator('.monaco-list-row .label-description').allInnerTexts();
      return texts.filter((t) => /^sparsity \d+\.\d% · α /.test(t)).length === 5 ? texts : undefined;
    });
    const onnxShot = await shoot(page, 'ui-ternarized-onnx');
    console.log(
      `ok   UI: Explorer → Ternarize Model on lenet5.onnx wrote lenet5-ternary/; Layers view shows its ${onnxRows.length} ternary layers (${onnxShot})`,
    );
    return true;
  } catch (error) {
    const shot = await shoot(page, 'ui-failure');
    console.log(`FAIL UI: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n  screenshot: ${shot}`);
    return false;
  } finally {
    if (server) writeFileSync(join(artifacts, 'ui-code-server.log'), server.output());
    await browser.close();
    await server?.stop();
    removeRunDir(runDir);
  }
}

/** Restricted Mode: the views work, Train refuses with a message saying why. */
async function restricted(): Promise<boolean> {
  const runDir = newRunDir('restricted');
  const workspace = join(runDir, 'ws');
  makeTinyWorkspace(workspace);
  installVsix(runDir, vsix);
  let server: CodeServer | undefined;
  const browser = await launchBrowser(join(runDir, 'chromium'));
  const page = browser.pages()[0] ?? (await browser.newPage());
  try {
    server = await startCodeServer(runDir, workspace, {}, false);
    await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}`);
    // VS Code asks whether to trust the folder: answer as a cautious user would.
    const distrust = page.getByRole('button', { name: /No, I don.t trust the authors/ });
    await distrust.waitFor({ state: 'visible', timeout: 60_000 });
    await distrust.click();
    const ternaryView = page.locator('.activitybar [aria-label^="Ternary"]').first();
    await ternaryView.waitFor({ state: 'visible', timeout: 60_000 });
    await ternaryView.click();
    // Viewing works: the config and its experiments are listed.
    await page
      .locator('.pane', { has: page.locator('.pane-header', { hasText: 'Experiments' }) })
      .locator('.monaco-list-row', { hasText: tinyExperiments.long })
      .waitFor({ state: 'visible', timeout: 30_000 });
    await runFromPalette(page, 'Ternary: Train');
    const refusal = page.locator('.notifications-toasts .notification-toast', { hasText: 'Training is disabled in Restricted Mode' });
    await refusal.waitFor({ state: 'visible', timeout: 30_000 });
    const shot = await shoot(page, 'restricted-mode');
    if (existsSync(join(workspace, 'runs'))) throw new Error('a run folder was written in Restricted Mode');
    console.log(`ok   Restricted Mode: views list the experiments, Train refuses and says why (${shot})`);
    return true;
  } catch (error) {
    const shot = await shoot(page, 'restricted-failure');
    console.log(`FAIL Restricted Mode: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n  screenshot: ${shot}`);
    return false;
  } finally {
    if (server) writeFileSync(join(artifacts, 'restricted-code-server.log'), server.output());
    await browser.close();
    await server?.stop();
    removeRunDir(runDir);
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  const only = process.argv[2];
  preflight(only !== 'restricted');
  rmSync(artifacts, { recursive: true, force: true });
  mkdirSync(artifacts, { recursive: true });
  const suitePath = await buildSuite();
  const results: Record<string, boolean> = {};
  if (!only || only === 'integration') results.integration = await integration(suitePath);
  if (!only || only === 'ui') results.ui = await ui();
  if (!only || only === 'restricted') results.restricted = await restricted();
  if (!only || only === 'torch') results.torch = await torchUi({ vsix, artifacts, newRunDir, removeRunDir, shoot, runFromPalette });
  const failed = Object.entries(results)
    .filter(([, ok]) => !ok)
    .map(([name]) => name);
  console.log(
    `e2e: ${failed.length === 0 ? 'passed' : `FAILED (${failed.join(', ')})`} in ${((Date.now() - started) / 1000).toFixed(0)} s; artifacts in ${artifacts}`,
  );
  process.exitCode = failed.length === 0 ? 0 : 1;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
