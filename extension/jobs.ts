/**
 * The jobs this window asked the server for (train, evaluate, ternarize, …), linked to the runs
 * the server reports through the hub, so that lenses, the status bar, Stop and the trees agree on
 * what is running. Keeps the `ternary.jobRunning` context key up to date for `when` clauses.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RunInfo, RunStartedParams } from '../shared/protocol';
import { advanceJob, joinRun, type JobStanding } from './jobProgress';
import type { RunEventHub } from './runEventHub';

export type JobKind = 'train' | 'evaluate' | 'ternarize' | 'stats' | 'export';

export interface Job extends JobStanding {
  readonly id: number;
  readonly kind: JobKind;
  /** What the user sees, e.g. the experiment name or the model file. */
  readonly label: string;
  readonly configPath?: string;
  readonly experiment?: string;
  /** Its place in the server's queue (1 = next) while a train request waits there; unset once it starts. */
  queuePosition?: number;
  /** Set when the server reported `runEnded`: the job only waits for its answer now, nothing trains. */
  ended?: boolean;
  /** Cancelling it sends `$/cancelRequest` for the job's request. */
  readonly cancellation: vscode.CancellationTokenSource;
}

function samePath(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && path.resolve(a) === path.resolve(b);
}

export class JobTracker implements vscode.Disposable {
  private nextId = 1;
  private readonly jobs = new Map<number, Job>();
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires when a job starts, progresses or ends. */
  readonly onDidChange = this.changed.event;
  private readonly setChanged = new vscode.EventEmitter<void>();
  /** Fires only when a job starts, gets its run, or ends (not on progress): for lenses and trees. */
  readonly onDidChangeJobs = this.setChanged.event;
  private readonly subscriptions: vscode.Disposable[] = [this.changed, this.setChanged];

  constructor(private readonly hub: RunEventHub) {
    this.subscriptions.push(
      hub.onRunStarted((run) => {
        const job = [...this.jobs.values()].find(
          (j) =>
            j.kind === 'train' &&
            j.runId === undefined &&
            samePath(j.configPath, run.configPath) &&
            (j.experiment === undefined || j.experiment === run.experiment),
        );
        if (job) {
          job.queuePosition = undefined;
          joinRun(job, run);
        } else {
          // A job that knew its run before the server announced it (a resume): where it stands now.
          const known = this.byRunId(run.runId);
          if (known) joinRun(known, run);
        }
        this.update();
      }),
      hub.onMetrics(({ runId, records }) => {
        const job = this.byRunId(runId);
        if (!job || records.length === 0) return;
        advanceJob(job, records);
        this.changed.fire();
      }),
      hub.onQueued((p) => {
        const job = this.waiting(p.configPath, p.experiment);
        if (!job || job.queuePosition === p.position) return;
        job.queuePosition = p.position;
        this.update();
      }),
      hub.onRunEnded(({ runId }) => {
        // Lenses, the tree and the status bar stop saying "training" now, not when the train
        // request answers (after the server has written the summary and drained its messages).
        const job = this.byRunId(runId);
        if (job) job.ended = true;
        this.update();
      }),
    );
  }

  /** `resume`: the run a resume continues; the job stands where it stopped from the start (no "starting" row beside it). */
  begin(kind: JobKind, label: string, target: { configPath?: string; experiment?: string; resume?: RunInfo } = {}): Job {
    const job: Job = {
      id: this.nextId++,
      kind,
      label,
      configPath: target.configPath,
      experiment: target.experiment,
      epoch: 0,
      completed: 0,
      epochs: 0,
      fraction: 0,
      pace: {},
      cancellation: new vscode.CancellationTokenSource(),
    };
    if (target.resume) joinRun(job, target.resume);
    this.jobs.set(job.id, job);
    this.update();
    return job;
  }

  /** A job for a run this window did not start (followed by the server: extension/attachedRuns.ts). */
  attach(run: RunStartedParams): Job {
    const job = this.begin('train', run.experiment, { configPath: run.configPath, experiment: run.experiment });
    joinRun(job, run);
    this.update();
    return job;
  }

  end(job: Job): void {
    job.cancellation.dispose();
    this.jobs.delete(job.id);
    this.update();
  }

  all(): Job[] {
    return [...this.jobs.values()];
  }

  byRunId(runId: string): Job | undefined {
    return this.all().find((j) => j.runId === runId);
  }

  /** The train job (or server-reported run) of this experiment, when one is running or queued. */
  isTraining(configPath: string, experiment: string | undefined): boolean {
    const ours = this.trainJobs().some(
      (j) => samePath(j.configPath, configPath) && (j.experiment === experiment || j.experiment === undefined),
    );
    const reported = [...this.hub.active.values()].some((r) => samePath(r.configPath, configPath) && r.experiment === experiment);
    return ours || reported;
  }

  /** Train jobs in flight (queued, starting or training; not those whose run has ended). */
  trainJobs(): Job[] {
    return this.all().filter((j) => j.kind === 'train' && !j.ended);
  }

  /** A train job of ours for this experiment that has no run yet (queued, or loading data). */
  isStarting(configPath: string, experiment: string): boolean {
    return this.waiting(configPath, experiment) !== undefined;
  }

  /** The train job of ours for this experiment that has no run yet: in the server's queue (`queuePosition`) or loading data. */
  waiting(configPath: string, experiment: string | undefined): Job | undefined {
    return this.trainJobs().find((j) => j.runId === undefined && samePath(j.configPath, configPath) && j.experiment === experiment);
  }

  /** Whether this experiment's only train job waits in the server's queue (no run of it trains). */
  onlyQueued(configPath: string, experiment: string): boolean {
    const mine = this.trainJobs().filter((j) => samePath(j.configPath, configPath) && j.experiment === experiment);
    const reported = [...this.hub.active.values()].some((r) => samePath(r.configPath, configPath) && r.experiment === experiment);
    return !reported && mine.length > 0 && mine.every((j) => j.queuePosition !== undefined);
  }

  /** The job has left the server's queue (the server began it): it loads its data now. */
  leftQueue(job: Job): void {
    if (job.queuePosition === undefined) return;
    job.queuePosition = undefined;
    this.update();
  }

  /** Whether the server reports this run as in progress. */
  isRunActive(runId: string): boolean {
    return this.hub.active.has(runId);
  }

  private update(): void {
    const running = this.trainJobs().length > 0 || this.hub.active.size > 0;
    void vscode.commands.executeCommand('setContext', 'ternary.jobRunning', running);
    this.setChanged.fire();
    this.changed.fire();
  }

  dispose(): void {
    for (const job of this.jobs.values()) job.cancellation.dispose();
    for (const s of this.subscriptions) s.dispose();
  }
}
