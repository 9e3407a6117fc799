/**
 * The status bar item while a training job runs: experiment, epoch x/y and overall progress;
 * clicking it opens the dashboard on that run. Hidden when nothing trains.
 */
import * as vscode from 'vscode';
import { epochText } from './format';
import type { JobTracker } from './jobs';
import type { RunEventHub } from './runEventHub';

export class TrainingStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('ternary.training', vscode.StatusBarAlignment.Left, 10);
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(
    private readonly jobs: JobTracker,
    private readonly hub: RunEventHub,
  ) {
    this.item.name = 'Ternary Training';
    this.subscriptions.push(
      jobs.onDidChange(() => this.render()),
      hub.onRunEnded(() => this.render()),
    );
    this.render();
  }

  /** The text shown now (for the test API). */
  get text(): string | undefined {
    return this.item.text || undefined;
  }

  private render(): void {
    const trains = this.jobs.trainJobs();
    const job = trains.find((j) => j.runId !== undefined) ?? trains[0];
    if (!job) {
      this.item.text = '';
      this.item.hide();
      return;
    }
    const more = trains.length > 1 ? ` (+${trains.length - 1} queued)` : '';
    if (job.runId === undefined) {
      this.item.text = `$(loading~spin) ${job.label}: starting…${more}`;
      this.item.command = undefined;
    } else {
      const epoch = job.epochs > 0 ? ` · ${epochText(true, job.completed, job.epochs)}` : '';
      this.item.text = `$(loading~spin) ${job.label}${epoch} · ${Math.floor(job.fraction * 100)}%${more}`;
      this.item.command = { title: 'Show Dashboard', command: 'ternary.showDashboard', arguments: [{ runDirs: [job.runDir] }] };
    }
    this.item.tooltip = `Ternary: training ${job.label}. Click to open the dashboard; "Ternary: Stop" stops it.`;
    this.item.show();
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.item.dispose();
  }
}
