/**
 * A test-only extension for the panels' end-to-end test: the real `registerPanels` with the real
 * run-folder readers (server/runs) over synthetic run folders, and a RunEventHub fed by a fake
 * training loop at exactly 10 metric updates a second (which the real trainer cannot promise on
 * a loaded 2-core machine). Commands are contributed by the package.json the runner writes.
 * Environment: TERNARY_PANELS_RUNS (root of the synthetic runs).
 */
import { planSweep } from '../../../server/runs/sweep';
import { loadConfigFile, resolveExperiment } from '../../../server/config/loadConfig';
import { appendFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { registerPanels } from '../../../extension/panels';
import { holdPanelsReadyForTests, releasePanelsReadyForTests } from '../../../extension/panels/testReadyGate';
import { RunEventHub } from '../../../extension/runEventHub';
import { listRuns, readRunHistory } from '../../../server/runs';
import type { RunConfigRecord } from '../../../shared/runRecords';
import { lcg, syntheticEpochLayers, syntheticEpochMetrics, syntheticSummary } from '../panels-synthetic';

const liveEpochs = 60;
const linesPerEpoch = 10;

export function activate(context: vscode.ExtensionContext): void {
  const runsRoot = process.env.TERNARY_PANELS_RUNS;
  if (!runsRoot) throw new Error('TERNARY_PANELS_RUNS is not set on the code-server process');
  const hub = new RunEventHub();
  context.subscriptions.push(hub);
  registerPanels(context, hub, {
    listRuns: () => listRuns([runsRoot]),
    readHistory: (runDir, opts) => readRunHistory(runDir, opts),
    sweepPlan: async (configPath, experiment) => planSweep(resolveExperiment(await loadConfigFile(configPath), experiment), runsRoot),
  });

  let timer: NodeJS.Timeout | undefined;
  context.subscriptions.push({ dispose: () => clearInterval(timer) });

  context.subscriptions.push(
    vscode.commands.registerCommand('ternaryFixture.startLive', (interval = 100) => {
      clearInterval(timer);
      const runId = `live-${Date.now()}`;
      const experiment = 'live-ternary';
      const runDir = join(runsRoot, experiment, runId);
      liveRunDir = runDir;
      mkdirSync(join(runDir, 'histograms'), { recursive: true });
      const config = {
        runId,
        experiment: { name: experiment, train: { epochs: liveEpochs } },
        backend: 'fixture',
        threads: 1,
        versions: {},
        seed: 3,
        startedAt: new Date().toISOString(),
      } as unknown as RunConfigRecord;
      writeFileSync(join(runDir, 'config.json'), JSON.stringify(config));
      // Held by this process as a trainer holds its run's lock (server/runs/runLock.ts): without
      // it the run list would call the live run crashed.
      writeFileSync(join(runDir, '.lock'), JSON.stringify({ pid: process.pid, host: hostname(), startedAt: config.startedAt }));
      hub.fireRunStarted({ runId, runDir, experiment, epochs: liveEpochs, epoch: 0, stepsPerEpoch: 40, backend: 'fixture' });
      const rand = lcg(3);
      let epoch = 1;
      let pending = syntheticEpochMetrics(rand, 3, epoch, liveEpochs, linesPerEpoch - 1, 4, 0);
      // One metrics notification per tick, like the server's throttled outbox at metricsRate 10.
      timer = setInterval(() => {
        const record = pending.shift()!;
        appendFileSync(join(runDir, 'metrics.jsonl'), `${JSON.stringify(record)}\n`);
        hub.fireMetrics({ runId, runDir, records: [record] });
        if (record.kind === 'epoch') {
          const { layers, histograms } = syntheticEpochLayers(3, epoch, liveEpochs);
          appendFileSync(join(runDir, 'layers.jsonl'), `${JSON.stringify(layers)}\n`);
          writeFileSync(join(runDir, 'histograms', `epoch-${String(epoch).padStart(3, '0')}.json`), JSON.stringify(histograms));
          hub.fireLayerStats({ runId, runDir, record: layers });
          hub.fireHistograms({ runId, runDir, record: histograms });
          epoch++;
          if (epoch > liveEpochs) {
            clearInterval(timer);
            const summary = syntheticSummary(runId, experiment, liveEpochs);
            writeFileSync(join(runDir, 'summary.json'), JSON.stringify(summary));
            rmSync(join(runDir, '.lock'), { force: true });
            hub.fireRunEnded({ runId, runDir, experiment, status: 'completed' });
            return;
          }
          pending = syntheticEpochMetrics(rand, 3, epoch, liveEpochs, linesPerEpoch - 1, 4, (epoch - 1) * linesPerEpoch * 4);
        }
      }, Number(interval));
      return runDir;
    }),
  );

  let liveRunDir: string | undefined;
  // A webview's `ready` held back: the panel stays in its loading state (extension/panels/testReadyGate.ts).
  context.subscriptions.push(
    vscode.commands.registerCommand('ternaryFixture.holdReady', () => holdPanelsReadyForTests()),
    vscode.commands.registerCommand('ternaryFixture.releaseReady', () => releasePanelsReadyForTests()),
  );
  context.subscriptions.push(vscode.commands.registerCommand('ternaryFixture.stopLive', () => clearInterval(timer)));
  context.subscriptions.push(
    vscode.commands.registerCommand('ternaryFixture.showConv2', async () => {
      await vscode.commands.executeCommand('ternary.showHistograms', { runDir: liveRunDir, layer: 'conv2' });
    }),
  );

  context.subscriptions.push(
    vscode.commands.registerCommand('ternaryFixture.showRecordedRuns', async () => {
      const runs = (await listRuns([runsRoot])).filter((r) => r.experiment.startsWith('recorded'));
      await vscode.commands.executeCommand('ternary.showDashboard', { runDirs: runs.map((r) => r.runDir) });
    }),
  );
}

export function deactivate(): void {}
