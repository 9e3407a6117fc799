/**
 * `npm run test:e2e:editor`: the editor in a real VS Code (code-server 4.100.3 + headless Debian
 * Chromium) in a workspace OUTSIDE the repository, as a user's would be: a copy of examples/ (the
 * config as shipped and its data) and a tiny config for quick runs.
 *   1. test/e2e/suite/editor.ts in the extension host (schema, diagnostics, copied configs,
 *      views when a run starts and stops, resume).
 *   2. What the user sees (screenshots in .test-artifacts/e2e-editor/): the diagnostics and the
 *      hover in the example, the Experiments tree at the default sidebar width.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as esbuild from 'esbuild';
import type { Page } from 'playwright-core';
import { e2eHome, launchBrowser, makeTinyWorkspace, startCodeServer, waitFor, type CodeServer } from './harness';

const root = resolve(__dirname, '..', '..');
const artifacts = join(root, '.test-artifacts', 'e2e-editor');

async function buildSuite(): Promise<string> {
  const outfile = join(root, 'out', 'test', 'suite', 'editor.js');
  await esbuild.build({
    entryPoints: [join(root, 'test', 'e2e', 'suite', 'editor.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['vscode'],
    outfile,
    logLevel: 'warning',
    alias: { 'jsonc-parser': 'jsonc-parser/lib/esm/main.js' },
  });
  return outfile.replace(/\.js$/, '');
}

/**
 * A user's workspace: a copy of examples/ and a tiny config in its own folder.
 * TERNARY_E2E_EXAMPLES names another examples folder to copy (e.g. an older commit's, to see a
 * test fail before its fix).
 */
function makeWorkspace(dir: string): void {
  const examples = process.env.TERNARY_E2E_EXAMPLES ?? join(root, 'examples');
  cpSync(examples, join(dir, 'examples'), { recursive: true, filter: (src) => !src.includes(`${examples}/runs`) });
  makeTinyWorkspace(join(dir, 'tiny'));
}

/** Removes a run's folder; the code-server tree may still be flushing files for a moment. */
function removeRunDir(runDir: string): void {
  try {
    rmSync(runDir, { recursive: true, force: true, maxRetries: 5 });
  } catch (error) {
    console.log(`note: could not remove ${runDir}: ${String(error)}`);
  }
}

async function shoot(page: Page, name: string): Promise<string> {
  const file = join(artifacts, `${name}.png`);
  await page.screenshot({ path: file }).catch(() => undefined);
  return file;
}

function devPayload(suitePath?: string): string {
  const entries: [string, string][] = [['extensionDevelopmentPath', `vscode-remote://remote${root}`]];
  if (suitePath) entries.push(['extensionTestsPath', `vscode-remote://remote${suitePath}`]);
  return encodeURIComponent(JSON.stringify(entries));
}

async function integration(suitePath: string): Promise<boolean> {
  mkdirSync(e2eHome, { recursive: true });
  const runDir = mkdtempSync(join(e2eHome, 'editor-'));
  const workspace = join(runDir, 'ws');
  makeWorkspace(workspace);
  const reportFile = join(artifacts, 'editor-report.txt');
  writeFileSync(reportFile, '');
  let server: CodeServer | undefined;
  const browser = await launchBrowser(join(runDir, 'chromium'));
  try {
    server = await startCodeServer(runDir, workspace, {
      TERNARY_E2E_REPORT: reportFile,
      TERNARY_E2E_WORKSPACE: workspace,
      TERNARY_E2E_GREP: process.env.TERNARY_E2E_GREP ?? '',
    });
    const page = browser.pages()[0] ?? (await browser.newPage());
    const exitCode = new Promise<number>((resolveExit) => {
      void page.exposeFunction('codeAutomationExit', (code: number) => resolveExit(code));
    });
    await page.exposeFunction('codeAutomationLog', () => undefined);
    await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}&payload=${devPayload(suitePath)}`);
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      exitCode,
      new Promise<number>((_, reject) => {
        timer = setTimeout(() => reject(new Error('the editor suite did not finish within 25 minutes')), 25 * 60_000);
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

/** Screenshots of what a user sees: the example with mistakes (diagnostics, hover) and the tree. */
async function ui(): Promise<boolean> {
  mkdirSync(e2eHome, { recursive: true });
  const runDir = mkdtempSync(join(e2eHome, 'editor-ui-'));
  const workspace = join(runDir, 'ws');
  makeWorkspace(workspace);
  // Mistakes a user makes: a negative learning rate and a misspelled property.
  const config = join(workspace, 'examples', 'fashion-mnist.tern.json');
  writeFileSync(config, readFileSync(config, 'utf8').replace('"lr": 0.002', '"lr": -1').replace('"weightDecay": 0,', '"weightDecey": 0,'));
  let server: CodeServer | undefined;
  const browser = await launchBrowser(join(runDir, 'chromium'));
  const page = browser.pages()[0] ?? (await browser.newPage());
  try {
    server = await startCodeServer(runDir, workspace);
    await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}&payload=${devPayload()}`);
    await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
    const ternaryView = page.locator('.activitybar [aria-label^="Ternary"]').first();
    await ternaryView.waitFor({ state: 'visible', timeout: 60_000 });
    await ternaryView.click();
    const experimentsPane = page.locator('.pane', { has: page.locator('.pane-header', { hasText: 'Experiments' }) });
    await experimentsPane
      .locator('.monaco-list-row', { hasText: 'fmnist-cnn-tern' })
      .first()
      .waitFor({ state: 'visible', timeout: 30_000 });
    await page.keyboard.press('Control+P');
    await page.locator('.quick-input-widget input').fill('fashion-mnist.tern.json');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'fashion-mnist.tern.json' }).first().waitFor({ state: 'visible' });
    await page.keyboard.press('Enter');
    // Both the schema's and the server's errors: squiggles in the editor, counts in the status bar.
    await waitFor('error squiggles in the editor', 60_000, async () => (await page.locator('.squiggly-error').count()) >= 2);
    await page.keyboard.press('Control+Shift+M');
    await page
      .locator('.markers-panel .monaco-list-row', { hasText: 'did you mean' })
      .first()
      .waitFor({ state: 'visible', timeout: 30_000 });
    const problems = await page.locator('.markers-panel .monaco-list-row').allInnerTexts();
    console.log(`     Problems: ${problems.map((p) => p.replace(/\s+/g, ' ')).join(' | ')}`);
    console.log(`ok   UI: diagnostics in the example copy (${await shoot(page, 'ui-diagnostics')})`);
    // Hover over "lr".
    const lrToken = page.locator('.view-lines .view-line span', { hasText: /^"lr"$/ }).first();
    await lrToken.hover();
    await page.locator('.monaco-hover', { hasText: 'Initial learning rate' }).first().waitFor({ state: 'visible', timeout: 30_000 });
    console.log(`ok   UI: hover over "lr" (${await shoot(page, 'ui-hover')})`);

    // A run, as a user starts it, and its row and toast at the default sidebar width. With a
    // config in the active editor Train offers that file's experiments: close the editors first.
    await page.keyboard.press('Escape');
    await page.keyboard.press('F1');
    await page.locator('.quick-input-widget input').fill('>View: Close All Editors');
    await page
      .locator('.quick-input-list .monaco-list-row', { hasText: 'Close All Editors' })
      .first()
      .waitFor({ state: 'visible', timeout: 30_000 });
    await page.keyboard.press('Enter');
    await page.locator('.editor-group-container .tab').first().waitFor({ state: 'detached', timeout: 30_000 });
    await page.keyboard.press('F1');
    await page.locator('.quick-input-widget input').fill('>Ternary: Train');
    await page
      .locator('.quick-input-list .monaco-list-row', { hasText: 'Ternary: Train' })
      .first()
      .waitFor({ state: 'visible', timeout: 30_000 });
    await page.keyboard.press('Enter');
    const pick = page.locator('.quick-input-list .monaco-list-row').filter({ has: page.locator('.label-name', { hasText: /^tiny$/ }) });
    await pick.waitFor({ state: 'visible', timeout: 30_000 });
    await pick.click();
    const toast = page.locator('.notifications-toasts .notification-toast', { hasText: 'Finished tiny:' });
    await toast.waitFor({ state: 'visible', timeout: 240_000 });
    const row = experimentsPane.locator('.monaco-list-row', { hasText: 'epoch 2/2' }).first();
    await row.waitFor({ state: 'visible', timeout: 30_000 });
    // Nothing of the row is cut: its label and description fit the default sidebar width.
    const cut = await row.locator('.monaco-icon-label-container').evaluate((e) => e.scrollWidth > e.clientWidth + 1);
    console.log(
      `     run row: "${(await row.innerText()).replace(/\s+/g, ' ')}"${cut ? ' (CUT at the sidebar width)' : ''}; toast: "${(await toast.innerText()).replace(/\s+/g, ' ').slice(0, 160)}"`,
    );
    console.log(`ok   UI: a finished run in the tree and its toast (${await shoot(page, 'ui-run')})`);
    if (cut) throw new Error('the run row is cut at the default sidebar width');
    return true;
  } catch (error) {
    console.log(
      `FAIL UI: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n  screenshot: ${await shoot(page, 'ui-failure')}`,
    );
    return false;
  } finally {
    if (server) writeFileSync(join(artifacts, 'ui-code-server.log'), server.output());
    await browser.close();
    await server?.stop();
    removeRunDir(runDir);
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  const only = process.argv[2];
  rmSync(artifacts, { recursive: true, force: true });
  mkdirSync(artifacts, { recursive: true });
  const results: Record<string, boolean> = {};
  if (!only || only === 'integration') results.integration = await integration(await buildSuite());
  if (!only || only === 'ui') results.ui = await ui();
  const failed = Object.entries(results)
    .filter(([, ok]) => !ok)
    .map(([name]) => name);
  console.log(
    `e2e editor: ${failed.length === 0 ? 'passed' : `FAILED (${failed.join(', ')})`} in ${((Date.now() - started) / 1000).toFixed(0)} s; artifacts in ${artifacts}`,
  );
  process.exitCode = failed.length === 0 ? 0 : 1;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
