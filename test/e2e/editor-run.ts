/**
 * `npm run test:e2e:editor`: the editor in a real VS Code (code-server 4.100.3 + headless Debian
 * Chromium) in a workspace OUTSIDE the repository, as a user's would be: a copy of examples/ (the
 * config as shipped and its data) and a tiny config for quick runs.
 *   1. test/e2e/suite/editor.ts in the extension host (schema, diagnostics, copied configs,
 *      views when a run starts and stops, resume).
 *   2. What the user sees (screenshots in .test-artifacts/e2e-editor/): the diagnostics and the
 *      hover in the example, the Experiments tree at the default sidebar width.
 */
import { cpSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import {
  buildSuite,
  experimentPick,
  makeTinyWorkspace,
  newRunDir,
  openTernaryView,
  pane,
  quickOpen,
  repoRoot as root,
  runFromPalette,
  runSuite,
  runTiers,
  shoot as shootInto,
  toast,
  uiSession,
  waitFor,
} from './harness';
import { panelFrame, runCommand } from './panels-ui';

const artifacts = join(root, '.test-artifacts', 'e2e-editor');
const shoot = (page: Page, name: string) => shootInto(page, artifacts, name);

/** Right-clicks a row of the Experiments view and chooses `item` from its context menu. */
async function runMenu(page: Page, row: Locator, item: string): Promise<void> {
  await row.click({ button: 'right' });
  const menuItem = page.locator('.monaco-menu .action-item', { hasText: item });
  await menuItem.waitFor({ state: 'visible', timeout: 10_000 });
  await menuItem.click();
  // A click that lands while the menu is still settling leaves it open: choose with the keyboard then.
  await waitFor(
    `the menu to close after ${item}`,
    10_000,
    async () => {
      if (!(await menuItem.isVisible())) return true;
      await menuItem.hover();
      await page.keyboard.press('Enter');
      return undefined;
    },
    1_000,
  );
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

async function integration(): Promise<boolean> {
  const suitePath = await buildSuite('editor');
  const runDir = newRunDir('editor');
  const workspace = join(runDir, 'ws');
  makeWorkspace(workspace);
  return runSuite({
    suite: 'the editor suite',
    suitePath,
    runDir,
    workspace,
    artifacts,
    reportName: 'editor-report.txt',
    env: { TERNARY_E2E_WORKSPACE: workspace, TERNARY_E2E_GREP: process.env.TERNARY_E2E_GREP ?? '' },
    timeoutMinutes: 25,
  });
}

/** Screenshots of what a user sees: the example with mistakes (diagnostics, hover) and the tree. */
async function ui(): Promise<boolean> {
  const runDir = newRunDir('editor-ui');
  const workspace = join(runDir, 'ws');
  makeWorkspace(workspace);
  // Mistakes a user makes: a negative learning rate and a misspelled property.
  const config = join(workspace, 'examples', 'fashion-mnist.tern.json');
  writeFileSync(config, readFileSync(config, 'utf8').replace('"lr": 0.002', '"lr": -1').replace('"weightDecay": 0,', '"weightDecey": 0,'));
  // And a config whose data is not where it says.
  writeFileSync(
    join(workspace, 'tiny', 'missing.tern.json'),
    JSON.stringify({
      experiments: [
        {
          name: 'missing-data',
          model: { arch: 'fmnist-cnn', classes: 10 },
          data: { format: 'idx', path: 'nowhere' },
          train: { epochs: 1 },
        },
      ],
    }),
  );
  return uiSession({ label: 'UI', tag: 'ui', runDir, workspace, artifacts, dev: true }, async (page) => {
    await openTernaryView(page);
    const experimentsPane = pane(page, 'Experiments');
    await experimentsPane
      .locator('.monaco-list-row', { hasText: 'fmnist-cnn-tern' })
      .first()
      .waitFor({ state: 'visible', timeout: 30_000 });
    await quickOpen(page, 'fashion-mnist.tern.json');
    // The server's errors (one per mistake: scripts/editorSchema.mjs): squiggles in the editor, counts in the status bar.
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

    // A run, as a user starts it, and its row and toast at the default sidebar width. With the
    // example in the active editor, Train offers every config's experiments, the example's first.
    await page.keyboard.press('Escape');
    await runFromPalette(page, 'Ternary: Train');
    const pick = experimentPick(page, 'tiny');
    await pick.waitFor({ state: 'visible', timeout: 30_000 });
    const offered = (await page.locator('.quick-input-list .monaco-list-row .label-name').allInnerTexts()).map((t) => t.trim());
    console.log(`     Train offers: ${offered.join(', ')}`);
    if (offered[0] !== 'fmnist-cnn-tern' || !offered.includes('tiny'))
      throw new Error(`Train should offer the active config's experiments first, then the others': ${offered.join(', ')}`);
    await pick.click();
    const finished = toast(page, 'Finished tiny:');
    await finished.waitFor({ state: 'visible', timeout: 240_000 });
    // The examples' configs list many experiments above tiny's: fold them, as a user would, so
    // the run's row is in view.
    for (const config of ['imagenet-resnet18.tern.json', 'fashion-mnist.tern.json']) {
      const configRow = experimentsPane.locator('.monaco-list-row[aria-expanded="true"]', { hasText: config }).first();
      if ((await configRow.count()) > 0) await configRow.locator('.monaco-tl-twistie').click();
    }
    const row = experimentsPane.locator('.monaco-list-row', { hasText: 'epoch 2/2' }).first();
    await row.waitFor({ state: 'visible', timeout: 30_000 });
    // Nothing of the row is cut: its label and description fit the default sidebar width.
    const cut = await row.locator('.monaco-icon-label-container').evaluate((e) => e.scrollWidth > e.clientWidth + 1);
    console.log(
      `     run row: "${(await row.innerText()).replace(/\s+/g, ' ')}"${cut ? ' (CUT at the sidebar width)' : ''}; toast: "${(await finished.innerText()).replace(/\s+/g, ' ').slice(0, 160)}"`,
    );
    console.log(`ok   UI: a finished run in the tree and its toast (${await shoot(page, 'ui-run')})`);
    if (cut) throw new Error('the run row is cut at the default sidebar width');

    // The Layers view of that run: every row (name, sparsity and α) fits the default sidebar
    // width; Δ, the error and the counts are in the tooltip.
    const layerRows = pane(page, 'Layers').locator('.monaco-list-row');
    await waitFor('the Layers view to list the run’s layers', 30_000, async () => (await layerRows.count()) > 0);
    const layerTexts = (await layerRows.allInnerTexts()).map((t) => t.replace(/\s+/g, ' '));
    const cutLayers = await layerRows.evaluateAll((rows) =>
      rows
        .filter((r) => {
          const label = r.querySelector('.monaco-icon-label-container');
          return label !== null && label.scrollWidth > label.clientWidth + 1;
        })
        .map((r) => (r.textContent ?? '').trim()),
    );
    console.log(`     Layers rows: ${layerTexts.join(' | ')}${cutLayers.length ? ` (CUT: ${cutLayers.join(' | ')})` : ''}`);
    console.log(`ok   UI: the Layers view of the run (${await shoot(page, 'ui-layers')})`);
    if (cutLayers.length) throw new Error(`Layers rows cut at the default sidebar width: ${cutLayers.join(' | ')}`);

    // Run management from the run's context menu: a note, Reveal Run Folder, Delete Run.
    const tinyRuns = join(workspace, 'tiny', 'runs', 'tiny');
    const [runId] = readdirSync(tinyRuns);
    if (!runId) throw new Error(`no run folder in ${tinyRuns}`);
    const runFolder = join(tinyRuns, runId);
    const runRow = experimentsPane.locator('.monaco-list-row', { hasText: 'epoch 2/2' }).first();
    await runMenu(page, runRow, 'Edit Note…');
    await page.locator('.quick-input-widget input').fill('baseline, lr 0.05');
    await page.keyboard.press('Enter');
    await waitFor('the note marked on the run row', 30_000, async () => (await runRow.innerText()).includes('✎'));
    // Marked, the row still fits the default sidebar width (the note itself is in the tooltip).
    // Measured at rest, as a row the user looks at: not selected, not hovered (VS Code draws a
    // selected or hovered row's inline actions over the end of its description, any extension's).
    await runRow.click();
    await page.keyboard.press('Escape');
    await page.mouse.move(700, 700);
    await waitFor('the run row to be unselected', 10_000, async () => (await runRow.getAttribute('aria-selected')) !== 'true');
    if (await runRow.locator('.monaco-icon-label-container').evaluate((e) => e.scrollWidth > e.clientWidth + 1))
      throw new Error(`the run row with its note mark is cut: ${(await runRow.innerText()).replace(/\s+/g, ' ')}`);
    console.log(
      `ok   UI: the run row with its note mark: "${(await runRow.innerText()).replace(/\s+/g, ' ')}" (${await shoot(page, 'ui-run-marked')})`,
    );
    const noteFile = readFileSync(join(runFolder, 'note.txt'), 'utf8');
    if (noteFile !== 'baseline, lr 0.05\n') throw new Error(`note.txt holds ${JSON.stringify(noteFile)}`);
    await runRow.hover();
    const hover = page.locator('.monaco-hover', { hasText: 'baseline, lr 0.05' }).first();
    await hover.waitFor({ state: 'visible', timeout: 30_000 });
    console.log(`ok   UI: Edit Note wrote note.txt; the row is marked and its tooltip says the note (${await shoot(page, 'ui-run-note')})`);

    await runMenu(page, runRow, 'Reveal Run Folder');
    const revealed = page.locator('.explorer-folders-view .monaco-list-row.selected', { hasText: runId });
    await revealed.waitFor({ state: 'visible', timeout: 30_000 });
    console.log(`ok   UI: Reveal Run Folder selects ${runId} in the Explorer (${await shoot(page, 'ui-run-reveal')})`);
    await openTernaryView(page);

    await runMenu(page, runRow, 'Delete Run…');
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor({ state: 'visible', timeout: 30_000 });
    const question = (await dialog.innerText()).replace(/\s+/g, ' ');
    if (!question.includes(`Delete the run tiny/${runId}?`)) throw new Error(`the confirmation says: ${question}`);
    console.log(`     confirmation: "${question}" (${await shoot(page, 'ui-run-delete-confirm')})`);
    await dialog.locator('.monaco-button', { hasText: 'Move to Trash' }).click();
    // A window without a trash (code-server's remote file system has none) asks again before deleting for good.
    const how = await waitFor('the run folder to go, or the question to delete permanently', 30_000, async () => {
      if (!existsSync(runFolder)) return 'trash';
      const again = page.locator('.monaco-dialog-box', { hasText: 'permanently' });
      if (await again.isVisible()) {
        await again.locator('.monaco-button', { hasText: 'Delete Permanently' }).click();
        return 'permanently';
      }
      return undefined;
    });
    await waitFor('the run folder to be gone', 30_000, () => !existsSync(runFolder));
    await waitFor(
      'the run row to leave the tree',
      30_000,
      async () => (await experimentsPane.locator('.monaco-list-row', { hasText: 'epoch 2/2' }).count()) === 0,
    );
    // The Layers view showed that run: it lets go of it.
    await waitFor(
      'the Layers view to let go of the deleted run',
      30_000,
      async () => (await pane(page, 'Layers').locator('.monaco-list-row').count()) === 0,
    );
    console.log(
      `ok   UI: Delete Run removed ${runId} (${how === 'trash' ? 'to the trash' : 'permanently, no trash here'}) (${await shoot(page, 'ui-run-deleted')})`,
    );

    // Missing data: the message offers Open Config (the fix is data.path), which opens the config.
    await runFromPalette(page, 'Ternary: Train');
    const missingPick = experimentPick(page, 'missing-data');
    await missingPick.waitFor({ state: 'visible', timeout: 30_000 });
    await missingPick.click();
    const failed = toast(page, /failed: .*nowhere/);
    await failed.waitFor({ state: 'visible', timeout: 120_000 });
    const buttons = (await failed.locator('.monaco-button').allInnerTexts()).map((t) => t.trim()).filter(Boolean);
    console.log(`     missing data: "${(await failed.innerText()).replace(/\s+/g, ' ').slice(0, 200)}"`);
    if (!buttons.includes('Open Config')) throw new Error(`the missing-data message offers ${buttons.join(', ')}, not Open Config`);
    await failed.locator('.monaco-button', { hasText: 'Open Config' }).first().click();
    await page
      .locator('.editor-group-container .tab.active', { hasText: 'missing.tern.json' })
      .waitFor({ state: 'visible', timeout: 30_000 });
    console.log(`ok   UI: missing data offers Open Config, which opens the config (${await shoot(page, 'ui-missing-data')})`);

    // A new config from a template: model, data format, file name; it opens with its lenses and
    // its experiments appear in the tree.
    await page.keyboard.press('Escape');
    await runFromPalette(page, 'Ternary: New Experiment Config');
    for (const [step, choice] of [
      ['(1/3)', 'resnet20'],
      ['(2/3)', 'cifar10-bin'],
    ] as const) {
      await page.locator('.quick-input-widget .quick-input-title', { hasText: step }).waitFor({ state: 'visible', timeout: 30_000 });
      await experimentPick(page, choice).click();
    }
    await page.locator('.quick-input-widget .quick-input-title', { hasText: '(3/3)' }).waitFor({ state: 'visible', timeout: 30_000 });
    await page.keyboard.press('Enter');
    await page
      .locator('.editor-group-container .tab.active', { hasText: 'resnet20-cifar10.tern.json' })
      .waitFor({ state: 'visible', timeout: 30_000 });
    await experimentsPane
      .locator('.monaco-list-row', { hasText: 'resnet20-cifar10-tern' })
      .first()
      .waitFor({ state: 'visible', timeout: 30_000 });
    await page.locator('.codelens-decoration', { hasText: 'Train' }).first().waitFor({ state: 'visible', timeout: 30_000 });
    const written = readFileSync(join(workspace, 'resnet20-cifar10.tern.json'), 'utf8');
    if (!written.includes('"arch": "resnet20"') || !written.includes('"resnet20-cifar10-float"'))
      throw new Error(`the new config is not the template: ${written}`);
    console.log(
      `ok   UI: New Experiment Config wrote resnet20-cifar10.tern.json; its experiments are in the tree (${await shoot(page, 'ui-new-config')})`,
    );
  });
}

/**
 * The accuracy–size trade-off as a user gets it: a float baseline trained from its lens, then a
 * 2×2 sweep (t_ex 1, 2 × fixed, optimal thresholds) on the embedded Fashion-MNIST subset run from
 * the Sweep lens; the Trade-off panel shows the 4 points, the float baseline and the Pareto front,
 * and clicking a point opens its run in the dashboard. Kept short: 512 training images, 1 epoch.
 */
async function sweep(): Promise<boolean> {
  const runDir = newRunDir('editor-sweep');
  const workspace = join(runDir, 'ws');
  makeWorkspace(workspace);
  const experiment = (name: string, extra: object): object => ({
    name,
    model: { arch: 'fmnist-cnn', classes: 10 },
    data: { format: 'idx', path: 'data/fashion-mnist-subset', normalize: 'fmnist', limitTrain: 512, limitTest: 256 },
    train: { epochs: 1, batchSize: 64, optimizer: 'adam', lr: 0.002, weightDecay: 0, schedule: [], gammas: [], seed: 1 },
    ...extra,
  });
  writeFileSync(
    join(workspace, 'examples', 'sweep.tern.json'),
    JSON.stringify(
      {
        experiments: [
          experiment('fmnist-sweep', { sweep: { 'quant.tex': [1, 2], 'quant.threshold': ['fixed', 'optimal'] } }),
          experiment('fmnist-sweep-float', { quant: { method: 'none' } }),
        ],
      },
      null,
      2,
    ),
  );
  const runsOf = (name: string): string[] => {
    const dir = join(workspace, 'examples', 'runs', name);
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .map((id) => join(dir, id))
      .filter(
        (d) => existsSync(join(d, 'summary.json')) && JSON.parse(readFileSync(join(d, 'summary.json'), 'utf8')).status === 'completed',
      );
  };
  return uiSession({ label: 'sweep', tag: 'sweep', runDir, workspace, artifacts, dev: true }, async (page) => {
    await openTernaryView(page);
    await quickOpen(page, 'sweep.tern.json');
    // The float baseline first. Train is offered once the extension has found the configs: retry until then.
    await runCommand(page, 'Ternary: Train', 60_000);
    const pick = experimentPick(page, 'fmnist-sweep-float');
    await pick.waitFor({ state: 'visible', timeout: 30_000 });
    await pick.click();
    await waitFor('the float baseline run', 180_000, async () => runsOf('fmnist-sweep-float').length === 1, 500);
    // The sweep, from the lens above its "sweep" property.
    const sweepLens = page.locator('.codelens-decoration a', { hasText: /Sweep \(4 runs\)/ });
    await sweepLens.waitFor({ state: 'visible', timeout: 30_000 });
    await sweepLens.click();
    await waitFor('the 4 runs of the sweep', 600_000, async () => runsOf('fmnist-sweep').length === 4, 1000);
    const frame = await panelFrame(page, 'Ternary Trade-off');
    const counts = () =>
      frame.evaluate(() => ({
        points: document.querySelectorAll('circle.point').length,
        baselines: document.querySelectorAll('line.baseline').length,
        front: document.querySelectorAll('polyline.front').length,
        onFront: document.querySelectorAll('circle.point.on-front').length,
        legend: [...document.querySelectorAll('.tradeoff-legend .legend-item')].map((e) => e.textContent ?? ''),
      }));
    await waitFor('4 points, the float baseline and the front in the Trade-off panel', 120_000, async () => {
      const c = await counts();
      // The front is drawn as a line through its points when it has two or more (webview/tradeoff/main.ts);
      // a point that beats all the others is the front alone, marked with a ring.
      return c.points === 4 && c.baselines === 1 && c.onFront >= 1 && c.front === (c.onFront > 1 ? 1 : 0);
    });
    const shown = await counts();
    console.log(
      `     Trade-off: ${shown.points} points (${shown.onFront} on the front), ${shown.baselines} baseline; legend: ${shown.legend.join(' | ')}`,
    );
    // Hover: the tooltip names the settings and the numbers.
    const point = frame.locator('circle.point').first();
    await point.hover();
    const tip = await frame.locator('.tradeoff-tooltip').innerText();
    if (!/quant\.tex = \d/.test(tip) || !/top-1 \d+\.\d\d%/.test(tip) || !/bits per weight/.test(tip))
      throw new Error(`the tooltip says: ${tip}`);
    console.log(`ok   sweep: the Trade-off panel after a 2×2 sweep from the lens (${await shoot(page, 'sweep-tradeoff')})`);
    // Click: the dashboard opens on that run.
    const clicked = await point.getAttribute('data-run-dir');
    if (!clicked || !runsOf('fmnist-sweep').includes(clicked)) throw new Error(`the point names ${clicked}, not a run of the sweep`);
    await point.click();
    const dashboard = await panelFrame(page, 'Ternary Dashboard');
    await waitFor('the dashboard on the clicked run', 60_000, async () => {
      const selected = await dashboard.evaluate(
        () => (document.getElementById('runs') as unknown as { value: string[] } | null)?.value ?? [],
      );
      return selected.length === 1 && selected[0] === clicked;
    });
    console.log(`ok   sweep: clicking a point opens its run in the dashboard (${await shoot(page, 'sweep-dashboard')})`);
  });
}

runTiers('e2e editor', artifacts, { integration, ui, sweep });
