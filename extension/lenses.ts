/**
 * Run lenses above each experiment of a `*.tern.json` file: Train · Evaluate · Ternarize ·
 * Dashboard, with Stop in place of Train while that experiment trains.
 */
import * as vscode from 'vscode';
import type { Catalog, ExperimentRef } from './catalog';
import { locateExperiments } from './experimentLocator';
import type { JobTracker } from './jobs';

export const configSelector: vscode.DocumentSelector = [{ scheme: 'file', pattern: '**/*.tern.json' }];

export class RunLensProvider implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly subscription: vscode.Disposable;

  constructor(
    private readonly jobs: JobTracker,
    private readonly catalog: Catalog,
  ) {
    // The job tracker updates on runStarted/runEnded too: Stop turns back into Train as soon as the run ends.
    this.subscription = jobs.onDidChangeJobs(() => this.changed.fire());
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const lenses: vscode.CodeLens[] = [];
    for (const located of locateExperiments(document.getText())) {
      if (located.name === undefined) continue;
      const start = document.positionAt(located.offset);
      const range = new vscode.Range(start, start);
      const ref: ExperimentRef = { configPath: document.uri.fsPath, experiment: located.name };
      const training = this.jobs.isTraining(ref.configPath, ref.experiment);
      lenses.push(
        training
          ? new vscode.CodeLens(range, {
              title: '$(debug-stop) Stop',
              command: 'ternary.stop',
              arguments: [ref],
              tooltip: `Stop training ${ref.experiment}`,
            })
          : new vscode.CodeLens(range, {
              title: '$(play) Train',
              command: 'ternary.train',
              arguments: [ref],
              tooltip: `Train ${ref.experiment}`,
            }),
        new vscode.CodeLens(range, {
          title: 'Evaluate',
          command: 'ternary.evaluate',
          arguments: [ref],
          tooltip: `Evaluate the latest run of ${ref.experiment} on its test data`,
        }),
        new vscode.CodeLens(range, {
          title: 'Ternarize',
          command: 'ternary.ternarizeModel',
          arguments: [ref],
          tooltip: `Ternarize ${ref.experiment}'s float model`,
        }),
        new DashboardLens(range, ref),
      );
      if (located.sweep && !training) {
        // Above the sweep itself: run the grid, and see its points.
        const at = document.positionAt(located.sweep.offset);
        const sweepRange = new vscode.Range(at, at);
        lenses.push(
          new vscode.CodeLens(sweepRange, {
            title: `$(run-all) Sweep (${located.sweep.points} runs)`,
            command: 'ternary.runSweep',
            arguments: [ref],
            tooltip: `Train every point of ${ref.experiment}'s sweep that has no completed run, one after another`,
          }),
          new vscode.CodeLens(sweepRange, {
            title: 'Trade-off',
            command: 'ternary.showTradeoff',
            arguments: [ref],
            tooltip: `Top-1 against model size and sparsity for the runs of ${ref.experiment}'s sweep`,
          }),
        );
      }
    }
    return lenses;
  }

  /** The Dashboard lens names the experiment's runs, which needs the server: resolved lazily. */
  async resolveCodeLens(lens: vscode.CodeLens): Promise<vscode.CodeLens> {
    if (!(lens instanceof DashboardLens)) return lens;
    let runDirs: string[] = [];
    try {
      runDirs = (await this.catalog.runsOf(lens.ref)).slice(0, 5).map((r) => r.runDir);
    } catch {
      // No server: the panel opens on whatever runs it can list itself.
    }
    lens.command = {
      title: 'Dashboard',
      command: 'ternary.showDashboard',
      arguments: [{ runDirs }],
      tooltip: `Curves of ${lens.ref.experiment}'s latest runs`,
    };
    return lens;
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}

class DashboardLens extends vscode.CodeLens {
  constructor(
    range: vscode.Range,
    readonly ref: ExperimentRef,
  ) {
    super(range);
  }
}
