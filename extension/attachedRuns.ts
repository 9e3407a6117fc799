/**
 * Runs this window did not start, shown as if it had (docs/extension.md, "Runs outlive the
 * window"). Every training run is a process of its own, so a run goes on through a window reload
 * or after VS Code quits, and `tern train` in a terminal or another window trains the same way.
 * When the server starts (and when a config appears) the extension asks it to follow the live
 * runs of the workspace's runs folders (`ternary/followRuns`); each run it reports that no job of
 * this window started gets a job: the progress notification (its cancel stops the run), the
 * status bar, the lenses, the trees, Stop. A run that ended while no window watched it is
 * announced once, with Resume when it can be resumed: the runs seen live are remembered
 * (extension/seenLiveRuns.ts), and forgotten once their end was told.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { FollowRunsRequest, RunHistoryRequest, type RunEndedParams, type RunInfo, type RunStartedParams } from '../shared/protocol';
import { configGlob } from './catalog';
import { announceTrained, reportJobProgress, stopJob } from './commands/training';
import type { Services } from './commands/services';
import { formatPercent, formatQuantity } from '../shared/format';
import { folderExists } from './goneRuns';
import type { SeenLiveRuns } from './seenLiveRuns';

export class AttachedRuns implements vscode.Disposable {
  private readonly subscriptions: vscode.Disposable[] = [];
  private updating: Promise<void> = Promise.resolve();

  constructor(
    private readonly s: Services,
    private readonly seen: SeenLiveRuns,
  ) {
    const { ctx } = s;
    const watcher = vscode.workspace.createFileSystemWatcher(configGlob, false, true, true);
    this.subscriptions.push(
      watcher,
      watcher.onDidCreate(() => void this.follow()),
      ctx.onDidChangeServerRunning((running) => {
        if (running) void this.followAgain();
      }),
      // After the job tracker has linked the run to a job of ours, if it is one.
      ctx.hub.onRunStarted((run) => {
        void this.remember(run.runDir, true);
        if (!s.jobs.byRunId(run.runId)) this.attach(run);
      }),
      // Its end was told (a run of this window, or one followed). Without a summary the server
      // went away (extension/ctx.ts): the run may go on, so it stays remembered.
      ctx.hub.onRunEnded((p) => {
        if (p.summary) void this.remember(p.runDir, false);
      }),
    );
  }

  /** Asks the server to follow the workspace's runs folders, then tells the ends nobody watched; resolves with the run folders it follows. */
  async follow(): Promise<string[]> {
    try {
      const runsDirs = await this.s.catalog.runsDirs();
      if (runsDirs.length === 0) return [];
      const { following } = await this.s.ctx.request(FollowRunsRequest.type, { runsDirs });
      await this.announceUnwatchedEnds();
      return following;
    } catch (error) {
      this.s.ctx.log.warn(`Following the live runs: ${error instanceof Error ? error.message : String(error)}`);
      return [];
    }
  }

  /**
   * A new server (after Restart Server or a crash): the runs the previous one followed went on
   * without it (extension/ctx.ts keeps them running in the hub). Those still training are followed
   * again (the same jobs, notifications and status bar take them up); those that ended meanwhile
   * end now, with their summary as the run folder holds it.
   */
  private async followAgain(): Promise<void> {
    const carried = [...this.s.ctx.hub.active.values()];
    const following = new Set((await this.follow()).map((d) => path.resolve(d)));
    for (const run of carried) {
      if (following.has(path.resolve(run.runDir)) || this.s.ctx.hub.active.get(run.runId) !== run) continue;
      try {
        const history = await this.s.ctx.request(RunHistoryRequest.type, { runDir: run.runDir, histograms: false });
        if (history.status === 'running') continue; // its process lives on: a later scan finds it
        this.s.ctx.hub.fireRunEnded({
          runId: run.runId,
          runDir: run.runDir,
          experiment: run.experiment,
          status: history.status,
          ...(history.summary && history.summary.status !== 'running' ? { summary: history.summary } : {}),
        });
      } catch (error) {
        this.s.ctx.log.warn(`Reading how ${run.runDir} ended: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }

  /** A run the server follows for us: a job with a progress notification, until it ends. */
  private attach(run: RunStartedParams): void {
    const { s } = this;
    const job = s.jobs.attach(run);
    s.ctx.log.info(`Following ${run.experiment} (run ${run.runId}), which this window did not start.`);
    void vscode.window
      .withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Ternary: training ${this.experimentLabel(run)}`, cancellable: true },
        (progress, token) =>
          new Promise<RunEndedParams>((resolve) => {
            const reports = reportJobProgress(s, job, progress);
            const cancel = token.onCancellationRequested(() => void stopJob(s, job));
            const ended = s.ctx.hub.onRunEnded((p) => {
              if (p.runId !== run.runId) return;
              reports.dispose();
              cancel.dispose();
              ended.dispose();
              resolve(p);
            });
          }),
      )
      .then((ended) => {
        s.jobs.end(job);
        if (ended.summary) announceTrained(s, { runDir: ended.runDir, summary: ended.summary });
      });
  }

  /** Adds or drops a run of the remembered ones; one update at a time. */
  private remember(runDir: string, live: boolean): Promise<void> {
    this.updating = this.updating
      .then(async () => {
        if (live) await this.seen.add(runDir);
        else await this.seen.claim(runDir);
      })
      .catch((error: unknown) => this.s.ctx.log.warn(`Remembering ${runDir}: ${error instanceof Error ? error.message : String(error)}`));
    return this.updating;
  }

  /** Runs seen training that ended while no window watched them: told once each, by the window whose workspace holds them. */
  private async announceUnwatchedEnds(): Promise<void> {
    await this.updating;
    const seen = await this.seen.list();
    if (seen.length === 0) return;
    const runs = await this.s.catalog.allRuns();
    const live = new Set([...this.s.ctx.hub.active.values()].map((r) => path.resolve(r.runDir)));
    for (const runDir of seen) {
      if (live.has(path.resolve(runDir))) continue;
      const run = runs.find((r) => path.resolve(r.runDir) === path.resolve(runDir));
      if (!run) {
        // Another workspace's run stays for its window; a deleted run folder is forgotten.
        if (!(await folderExists(runDir))) await this.seen.claim(runDir);
        continue;
      }
      if (run.status === 'running') continue; // found by the server soon, or trained on another machine
      if (await this.seen.claim(runDir)) this.announceEnd(run);
    }
  }

  private announceEnd(run: RunInfo): void {
    const name = `${this.experimentLabel(run)}/${run.runId}`;
    if (run.status === 'completed') {
      const best = run.bestTop1 !== undefined ? `: best top-1 ${formatPercent(run.bestTop1)}` : '';
      void vscode.window
        .showInformationMessage(`Ternary: ${name} finished while no window watched it${best}.`, 'Show Dashboard')
        .then((choice) => {
          if (choice) void vscode.commands.executeCommand('ternary.showDashboard', { runDirs: [run.runDir] });
        });
      return;
    }
    const how = run.status === 'crashed' ? 'stopped (its process ended without finishing)' : run.status;
    const canResume = run.resumable === true && run.configPath !== undefined;
    void vscode.window
      .showWarningMessage(
        `Ternary: ${name} ${how} after ${run.epoch} of ${formatQuantity(run.epochs, 'epoch')} while no window watched it.`,
        ...(canResume ? ['Resume'] : []),
      )
      .then((choice) => {
        if (choice === 'Resume') void vscode.commands.executeCommand('ternary.resume', { kind: 'run', run, configPath: run.configPath });
      });
  }

  /** The run's experiment as every view names it (with its config when another config shares the name). */
  private experimentLabel(run: { experiment: string; runDir: string; configPath?: string }): string {
    const { catalog } = this.s;
    return run.configPath === undefined
      ? catalog.runExperimentLabel(run.runDir, run.experiment)
      : catalog.experimentLabel({ configPath: run.configPath, experiment: run.experiment });
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
  }
}
