/**
 * The status bar item while a training job runs: experiment, epoch x/y, overall progress, images
 * a second and time left;
 * clicking it opens the dashboard on that run. Hidden when nothing trains.
 */
import * as vscode from 'vscode';
import { paceText } from '../shared/progressText';
import { epochText } from './format';
import type { JobTracker } from './jobs';
import type { RunEventHub } from './runEventHub';
import { UpdateThrottle } from './uiRate';

export class TrainingStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('ternary.training', vscode.StatusBarAlignment.Left, 10);
  /** Progress repaints at most a few times a second (extension/uiRate.ts); starts and ends at once. */
  private readonly progressUpdates = new UpdateThrottle(() => this.render());
  private readonly subscriptions: vscode.Disposable[] = [this.progressUpdates];

  constructor(
    private readonly jobs: JobTracker,
    private readonly hub: RunEventHub,
  ) {
    this.item.name = 'Ternary Training';
    this.subscriptions.push(
      jobs.onDidChangeJobs(() => this.render()),
      jobs.onDidChange(() => this.progressUpdates.request()),
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
    // No spinning icon while a run trains: an animation repaints every frame, which on a machine
    // without a GPU (code-server) costs the training CPU time; the percentage shows it moves.
    const more = trains.length > 1 ? ` (+${trains.length - 1} queued)` : '';
    if (job.runId === undefined && job.queuePosition !== undefined) {
      // Waiting behind a job this window did not start (another window's run, a Ternarize): no spinner, nothing moves.
      this.item.text = `$(clock) ${job.label}: queued${more}`;
      this.item.command = undefined;
    } else if (job.runId === undefined) {
      this.item.text = `$(loading~spin) ${job.label}: starting…${more}`;
      this.item.command = undefined;
    } else {
      const epoch = job.epochs > 0 ? ` · ${epochText(true, job.completed, job.epochs)}` : '';
      const pace = paceText(job.pace);
      this.item.text = `$(sync) ${job.label}${epoch} · ${Math.floor(job.fraction * 100)}%${pace ? ` · ${pace}` : ''}${more}`;
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
