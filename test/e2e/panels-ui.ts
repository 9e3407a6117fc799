/** Driving VS Code's UI and reading the panels' webviews (shared by the panels' e2e tests). */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import type { Frame, Page } from 'playwright-core';
import type { LayersRecord } from '../../shared/protocol';
import { waitFor } from './harness';

/** Runs a command from the palette; retries while the extension host is still registering commands. */
export async function runCommand(page: Page, title: string, timeoutMs = 30_000): Promise<void> {
  const input = page.locator('.quick-input-widget input');
  // The row whose label is exactly the title (not e.g. "… Color Themes in Marketplace").
  const row = page
    .locator('.quick-input-widget .quick-input-list .monaco-list-row')
    .filter({ has: page.locator('.label-name').getByText(title, { exact: true }) })
    .first();
  await waitFor(
    `command "${title}" in the palette`,
    timeoutMs,
    async () => {
      if (!(await input.isVisible())) await page.keyboard.press('F1');
      await input.waitFor({ state: 'visible', timeout: 5000 });
      // A webview taking the focus can close the palette under us: then fail this try quickly and
      // open the palette again, rather than wait out the whole timeout on a hidden input.
      await input.fill(`>${title}`, { timeout: 2000 });
      if (await row.isVisible({ timeout: 1000 }).catch(() => false)) return true;
      await row.waitFor({ state: 'visible', timeout: 1500 }).catch(() => undefined);
      if (await row.isVisible()) return true;
      await page.keyboard.press('Escape');
      return false;
    },
    500,
  );
  await row.click();
  await page
    .locator('.quick-input-widget')
    .waitFor({ state: 'hidden', timeout: 10_000 })
    .catch(() => undefined);
}

/** The frames of our panel documents (VS Code nests each webview in two iframes). */
export async function panelFrames(page: Page, title: string): Promise<Frame[]> {
  const found: Frame[] = [];
  for (const frame of page.frames()) {
    const t = await frame.evaluate(() => (document.getElementById('app') ? document.title : undefined)).catch(() => undefined);
    if (t === title) found.push(frame);
  }
  return found;
}

/**
 * How long a panel's webview may take to load. code-server 4.100 (VS Code 1.100) registers a
 * service worker per webview id (microsoft/vscode#245756), so every new webview replaces the
 * worker of the one before, and Chromium queues that registration behind the browser's other
 * work: 0.1–0.2 s on an idle machine, but 2–23 s measured here while a run trains on both cores
 * (the content iframe waits for the new worker; the outer frame and our extension were done),
 * and over 30 s once in CI. Desktop VS Code gives each webview its own origin and does not wait.
 */
export const WEBVIEW_LOAD_TIMEOUT_MS = 90_000;

export async function panelFrame(page: Page, title: string, timeoutMs = WEBVIEW_LOAD_TIMEOUT_MS): Promise<Frame> {
  return waitFor(`the "${title}" webview`, timeoutMs, async () => (await panelFrames(page, title))[0]);
}

export async function bodyData(frame: Frame): Promise<Record<string, string | undefined>> {
  return frame.evaluate(() => ({ ...document.body.dataset }));
}

/** What a panel built with `--test-hooks` records about itself (webview/shared/perf.ts). */
export interface Perf {
  updateLatencies: number[];
  arrivalLatencies: number[];
  renderLatencies: number[];
  redraws: number[];
  liveMessages: number;
  visible: boolean;
}
export async function perfOf(frame: Frame): Promise<Perf> {
  return frame.evaluate(() => {
    const p = (globalThis as unknown as { __ternaryPerf?: Perf }).__ternaryPerf;
    if (!p) throw new Error('the panel has no window.__ternaryPerf: build the webviews with `node esbuild.mjs --test-hooks`');
    return {
      updateLatencies: [...p.updateLatencies],
      arrivalLatencies: [...p.arrivalLatencies],
      renderLatencies: [...p.renderLatencies],
      redraws: [...p.redraws],
      liveMessages: p.liveMessages,
      visible: p.visible,
    };
  });
}

export function quantiles(values: number[]): { n: number; p50: number; p95: number; max: number } {
  const s = [...values].sort((a, b) => a - b);
  const q = (p: number): number => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN;
  return {
    n: s.length,
    p50: Math.round(q(0.5) * 10) / 10,
    p95: Math.round(q(0.95) * 10) / 10,
    max: Math.round((s[s.length - 1] ?? NaN) * 10) / 10,
  };
}

export async function screenshot(page: Page, artifacts: string, name: string, frame?: Frame): Promise<void> {
  // Let the panel's pending animation frame land: two frames of the webview (or the page) pass.
  await (frame ?? page).evaluate(() => new Promise<void>((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve()))));
  await page.screenshot({ path: join(artifacts, `${name}.png`) });
}

/** Switches the color theme through its picker, as a user does. */
export async function pickTheme(page: Page, theme: string): Promise<void> {
  await runCommand(page, 'Preferences: Color Theme');
  const input = page.locator('.quick-input-widget input');
  await input.fill(theme);
  await page
    .locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: theme })
    .first()
    .waitFor({ state: 'visible', timeout: 10_000 });
  await input.press('Enter');
  await page
    .locator('.quick-input-widget')
    .waitFor({ state: 'hidden', timeout: 10_000 })
    .catch(() => undefined);
}

export function setTheme(userData: string, theme: string): void {
  const file = join(userData, 'User', 'settings.json');
  const settings = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  settings['workbench.colorTheme'] = theme;
  writeFileSync(file, JSON.stringify(settings, null, 2));
}

/** What the histograms panel shows: run, epoch, layer and the exact counts in its table. */
export async function readShown(hist: Frame): Promise<{ runDir: string; epoch: number; layer: string; counts: Record<string, number> }> {
  // One evaluate, so epoch, layer and counts come from the same rendered frame (live updates land in between otherwise).
  return hist.evaluate(() => {
    const d = document.body.dataset;
    const counts = Object.fromEntries(
      [...document.querySelectorAll<HTMLElement>('td[data-count]')].map((c) => [c.dataset.count!, Number(c.dataset.value)]),
    );
    return { runDir: d.runDir ?? '', epoch: Number(d.epoch), layer: d.layer ?? '', counts };
  });
}

/** The counts of −α, 0, +α of a layer at an epoch, as the run's layers.jsonl records them. */
export function expectedCounts(runDir: string, epoch: number, layer: string): Record<string, number> {
  const lines = readFileSync(join(runDir, 'layers.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as LayersRecord);
  const stats = lines.find((r) => r.epoch === epoch)?.layers.find((l) => l.layer === layer);
  assert.ok(stats, `layers.jsonl of ${runDir} has no ${layer} at epoch ${epoch}`);
  return { ...stats.counts };
}
