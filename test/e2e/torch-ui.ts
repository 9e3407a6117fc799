/**
 * The torch engine in a real VS Code (tier of `npm run test:e2e`, or `node --import tsx
 * test/e2e/run.ts torch`): the packaged .vsix installed, a workspace outside the repo with an
 * experiment marked `"engine": "torch"`, the `ternary.torch.processes` setting at 2. F1 → Ternary:
 * Train first with `ternary.torch.python` naming a Python that does not exist: the error says
 * so, and its "Open Setting" button opens that setting, where the test types the real interpreter
 * as a user would. Then Train again → the status bar follows the run's epochs (live
 * `ternary/metrics`), it finishes, the Layers view lists the ternary layers with layers.jsonl's
 * last sparsities, the Experiments view says "torch cpu ×2", and the Dashboard draws the run's
 * points. Skipped, with the reason, when no Python with PyTorch ≥ 1.13 is found.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  experimentPick,
  installVsix,
  lastSparsities,
  makeTinyWorkspace,
  newRunDir,
  openTernaryView,
  pane,
  runFromPalette,
  shoot,
  toast,
  uiSession,
  waitFor,
  waitForLayerSparsities,
} from './harness';
import { torchPython } from '../shared/torchPython';

const NAME = 'tiny-torch';

export async function torchUi(vsix: string, artifacts: string): Promise<boolean> {
  const found = await torchPython();
  if (!found.python) {
    console.log(`skip torch UI: ${found.skip}`);
    return true;
  }
  const runDir = newRunDir('torch');
  const workspace = join(runDir, 'ws');
  makeTinyWorkspace(workspace);
  writeFileSync(
    join(workspace, 'torch.tern.json'),
    JSON.stringify(
      {
        experiments: [
          {
            name: NAME,
            engine: 'torch',
            model: { arch: 'fmnist-cnn', classes: 10 },
            quant: { method: 'he2019', thresholdFactor: 0.05, tex: 1 },
            data: { format: 'idx', path: 'data-long', augment: [] },
            train: { epochs: 3, batchSize: 16, optimizer: 'adam', lr: 0.001, seed: 7 },
          },
        ],
      },
      null,
      2,
    ),
  );
  installVsix(runDir, vsix);
  const missingPython = join(runDir, 'no-such-python3');
  const settings = { 'ternary.torch.processes': 2, 'ternary.torch.python': missingPython };
  return uiSession({ label: 'torch UI', tag: 'torch', runDir, workspace, artifacts, settings }, async (page) => {
    await openTernaryView(page);
    const experimentsPane = pane(page, 'Experiments');
    await experimentsPane.locator('.monaco-list-row', { hasText: NAME }).first().waitFor({ state: 'visible', timeout: 30_000 });

    // No such Python: the server answers EngineUnavailable, naming the setting that fixes it.
    await runFromPalette(page, 'Ternary: Train');
    await experimentPick(page, NAME).click({ timeout: 30_000 });
    const refused = toast(page, /Training failed: The torch engine needs Python 3, and none was found/);
    await refused.waitFor({ state: 'visible', timeout: 60_000 });
    if (existsSync(join(workspace, 'runs', NAME))) throw new Error('a run folder was made although the engine could not run');
    await refused.hover();
    await refused.getByRole('button', { name: 'Open Setting ternary.torch.python' }).click();
    // The Settings editor, searched to that setting: type the real interpreter into it.
    const input = page.locator('.settings-editor .setting-item-contents', { hasText: 'Python' }).locator('input').first();
    await input.waitFor({ state: 'visible', timeout: 30_000 });
    const refusedShot = await shoot(page, artifacts, 'torch-engine-unavailable-setting');
    await input.fill(found.python.path);
    await input.press('Enter');
    const userSettings = join(runDir, 'ud', 'User', 'settings.json');
    await waitFor(
      'the setting to be saved',
      30_000,
      () => readFileSync(userSettings, 'utf8').includes(JSON.stringify(found.python.path)),
      250,
    );
    console.log(
      `ok   torch UI: a missing Python is refused (EngineUnavailable); "Open Setting ternary.torch.python" opened the setting, fixed there (${refusedShot})`,
    );

    await runFromPalette(page, 'Ternary: Train');
    const pick = experimentPick(page, NAME);
    await pick.waitFor({ state: 'visible', timeout: 30_000 });
    await pick.click();
    // Live metrics from the torch process drive the status bar while it trains.
    const statusItem = page.locator('.statusbar-item', { hasText: new RegExp(`${NAME} · epoch \\d+/3`) });
    await statusItem.waitFor({ state: 'visible', timeout: 180_000 });
    const statusText = (await statusItem.innerText()).trim();
    const finished = toast(page, `Finished ${NAME}:`);
    await finished.waitFor({ state: 'visible', timeout: 300_000 });

    const runsRoot = join(workspace, 'runs', NAME);
    const runId = readdirSync(runsRoot)[0]!;
    const shown = await waitForLayerSparsities(
      page,
      lastSparsities(join(runsRoot, runId)),
      "the Layers view to list the torch run's ternary layers of the last epoch",
    );
    await experimentsPane.locator('.monaco-list-row', { hasText: 'torch cpu ×2' }).waitFor({ state: 'visible', timeout: 10_000 });
    const summary = JSON.parse(readFileSync(join(runsRoot, runId, 'summary.json'), 'utf8')) as {
      backend: string;
      status: string;
      worldSize: number;
    };
    if (summary.backend !== 'torch-cpu' || summary.worldSize !== 2)
      throw new Error(`summary.json says ${summary.backend} × ${summary.worldSize}`);
    const shot = await shoot(page, artifacts, 'torch-train-layers');

    // The dashboard of the run (the finished notification's button) draws its points.
    await finished.hover();
    await finished.getByRole('button', { name: 'Show Dashboard' }).click();
    await page.locator('.tabs-container .tab', { hasText: 'Ternary Dashboard' }).waitFor({ state: 'visible', timeout: 30_000 });
    const points = await waitFor(
      "the dashboard to draw the torch run's points",
      60_000,
      async () => {
        for (const frame of page.frames()) {
          if (
            !(await frame
              .locator('.uplot')
              .count()
              .catch(() => 0))
          )
            continue;
          const text = await frame
            .locator('body')
            .innerText()
            .catch(() => '');
          const m = /(\d+) points/.exec(text);
          if (m && Number(m[1]) > 0 && !/loading/.test(text)) return Number(m[1]);
        }
        return undefined;
      },
      250,
    );
    const dashboardShot = await shoot(page, artifacts, 'torch-dashboard');
    console.log(
      `ok   torch UI: status bar "${statusText}", ${runId} finished on torch-cpu × 2; Layers view shows ${shown.length} ternary layers (${shot}); dashboard drew ${points} points (${dashboardShot})`,
    );
  });
}
