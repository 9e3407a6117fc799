/**
 * Train, Evaluate and Stop. A training run goes through `window.withProgress` (a cancellable
 * notification): its cancel button, the Stop command and the Stop lens all end the request with
 * `ternary/cancel` and `$/cancelRequest`, and the server stops the run within one batch.
 */
import * as vscode from 'vscode';
import { WorkDoneProgress } from 'vscode-languageclient';
import {
  CancelRequest,
  EvaluateRequest,
  SweepPlanRequest,
  TrainRequest,
  type SweepPlan,
  type EvaluateResult,
  type RunInfo,
  type TrainParams,
  type TrainResult,
} from '../../shared/protocol';
import type { ExperimentRef } from '../catalog';
import { paceText } from '../../shared/progressText';
import { pointLabel } from '../../shared/sweep';
import { epochText } from '../format';
import { formatCompression, formatNumber, formatPercent, formatQuantity } from '../../shared/format';
import type { Job } from '../jobs';
import { requireTrust } from '../trust';
import { UpdateThrottle } from '../uiRate';
import { aboutConfig, registerCommand, UserCancelled, UserFacingError } from './errors';
import type { Services } from './services';
import { isExperimentRef, requireRunFolder, resolveExperiment, resolveRun } from './targets';

export function registerTrainingCommands(s: Services): void {
  registerCommand(s.ctx, 'ternary.train', 'Training', (arg?: unknown) => train(s, arg));
  registerCommand(s.ctx, 'ternary.evaluate', 'Evaluation', (arg?: unknown) => evaluate(s, arg));
  registerCommand(s.ctx, 'ternary.stop', 'Stop', (arg?: unknown) => stop(s, arg));
  registerCommand(s.ctx, 'ternary.resume', 'Resume', (arg?: unknown) => resume(s, arg));
  registerCommand(s.ctx, 'ternary.runSweep', 'Sweep', (arg?: unknown) => runSweep(s, arg));
}

/**
 * Runs an experiment's sweep (docs/configs.md, `sweep`): each point that has no completed run, one
 * after another through the server's queue, resuming the stopped ones; the Trade-off panel shows the
 * points as they finish. Cancelling a point ends the sweep; running it again picks up from there.
 */
async function runSweep(s: Services, arg: unknown): Promise<void> {
  await requireTrust('Training');
  const ref = await resolveExperiment(s, arg, 'Run Sweep');
  await saveIfDirty(ref.configPath);
  await s.ctx.start();
  let plan: SweepPlan;
  try {
    plan = await s.ctx.request(SweepPlanRequest.type, {
      configPath: ref.configPath,
      experiment: ref.experiment,
      runsDir: s.catalog.runsDirFor(ref.configPath),
    });
  } catch (error) {
    throw aboutConfig(error, ref.configPath);
  }
  await vscode.commands.executeCommand('ternary.showTradeoff', ref);
  const todo = plan.points.filter((p) => p.action !== 'done');
  for (const [n, p] of todo.entries()) {
    const title = `Ternary: sweep ${ref.experiment}, run ${n + 1}/${todo.length} (${pointLabel(p.point)})${p.action === 'resume' ? ', resuming' : ''}`;
    // A resume continues a run the Experiments view lists: the job starts where that run stopped.
    const resume = p.action === 'resume' ? (await s.catalog.runsOf(ref)).find((r) => r.runDir === p.runDir) : undefined;
    const result = await startTraining(s, ref, resume, {
      title,
      ...(resume ? {} : { index: p.index }),
    });
    if (!result || result.summary.status === 'cancelled') return;
  }
  if (todo.length === 0)
    void vscode.window.showInformationMessage(`Ternary: every point of ${ref.experiment}'s sweep has a completed run.`);
}

/** The server reads the config from disk: unsaved edits would silently not count. */
async function saveIfDirty(configPath: string): Promise<void> {
  const doc = vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'file' && d.fileName === configPath);
  if (doc?.isDirty && !(await doc.save())) {
    throw new UserFacingError(`could not save ${doc.fileName}; save it and try again.`);
  }
}

async function train(s: Services, arg: unknown): Promise<TrainResult | undefined> {
  await requireTrust('Training');
  const ref = await resolveExperiment(s, arg, 'Train');
  await saveIfDirty(ref.configPath);
  try {
    return await startTraining(s, ref, undefined);
  } catch (error) {
    throw aboutConfig(error, ref.configPath);
  }
}

/** Continues a stopped or failed run from its last checkpoint (the CLI's `--resume`). */
async function resume(s: Services, arg: unknown): Promise<TrainResult | undefined> {
  await requireTrust('Training');
  const node = arg as { kind?: string; run?: RunInfo; configPath?: string } | undefined;
  if (node?.kind !== 'run' || !node.run || !node.configPath) {
    throw new UserFacingError('choose a stopped run in the Experiments view to resume (right-click it → Resume).');
  }
  // The Resume of a notification may name a run deleted since (extension/goneRuns.ts).
  await requireRunFolder(node.run.runDir, 'resume');
  if (node.run.status === 'completed')
    throw new UserFacingError(`${node.run.experiment}/${node.run.runId} has completed; there is nothing to resume.`);
  if (node.run.epoch === 0)
    throw new UserFacingError(
      `${node.run.experiment}/${node.run.runId} stopped before its first epoch ended, so it has no checkpoint; train a new run instead.`,
    );
  return startTraining(s, { configPath: node.configPath, experiment: node.run.experiment }, node.run);
}

/** A sweep's point: its index for `sweepIndex` (a new run) and what the progress notification calls it. */
interface SweepStep {
  index?: number;
  title: string;
}

async function startTraining(
  s: Services,
  ref: ExperimentRef,
  resume: RunInfo | undefined,
  sweep?: SweepStep,
): Promise<TrainResult | undefined> {
  await s.ctx.start();
  const job = s.jobs.begin('train', ref.experiment, { ...ref, resume });
  const resumeDir = resume?.runDir;
  let result: TrainResult;
  try {
    result = await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: sweep?.title ?? `Ternary: ${resumeDir ? 'resuming' : 'training'} ${s.catalog.experimentLabel(ref)}`,
        cancellable: true,
      },
      (progress, token) => runTraining(s, ref, job, progress, token, resumeDir, sweep?.index),
    );
  } finally {
    // Views and lenses stop showing "training" before the user reads the outcome.
    s.jobs.end(job);
  }
  announceTrained(s, result);
  return result;
}

async function runTraining(
  s: Services,
  ref: ExperimentRef,
  job: Job,
  progress: vscode.Progress<{ message?: string; increment?: number }>,
  token: vscode.CancellationToken,
  resumeDir?: string,
  sweepIndex?: number,
): Promise<TrainResult> {
  const cancelSubscription = token.onCancellationRequested(() => void stopJob(s, job));
  const { advance, dispose: disposeReports } = reportJobProgress(s, job, progress);
  const workDoneToken = `ternary-train-${job.id}-${Date.now()}`;
  const progressSubscription = s.ctx.languageClient?.onProgress(WorkDoneProgress.type, workDoneToken, (value) => {
    if (value.kind === 'end') return;
    // The server reports a percentage once it runs the job (0 at its start); in the queue it only says the place.
    if (value.percentage !== undefined) s.jobs.leftQueue(job);
    // The server's "epoch 2/5 · batch 30/47 · loss 0.41", with the run's pace after it.
    const pace = paceText(job.pace);
    const message = value.message && pace ? `${value.message} · ${pace}` : value.message;
    if (value.percentage !== undefined) advance(value.percentage / 100, message);
    else if (message) advance(undefined, message);
  });
  const generation = s.ctx.serverGeneration;
  try {
    return await s.ctx.request(
      TrainRequest.type,
      {
        configPath: ref.configPath,
        experiment: ref.experiment,
        runsDir: s.catalog.runsDirFor(ref.configPath),
        ...(resumeDir ? { resumeDir } : {}),
        ...(sweepIndex !== undefined ? { sweepIndex } : {}),
        ...engineParams(s),
        workDoneToken,
      },
      job.cancellation.token,
    );
  } catch (error) {
    // The server went away (Restart Server, a crash) while the run trains in its own process
    // (server/rpc/detachedTrain.ts): the run goes on, and the next server follows it
    // (extension/attachedRuns.ts). The job waits for the end that server tells.
    const serverGone = !s.ctx.serverRunning || s.ctx.serverGeneration !== generation;
    if (serverGone && job.runId !== undefined && !job.ended && !token.isCancellationRequested) {
      s.ctx.log.info(`The training server stopped while ${job.label} (run ${job.runId}) trains; the run goes on and is followed again.`);
      return await runEnd(s, job.runId);
    }
    throw error;
  } finally {
    cancelSubscription.dispose();
    disposeReports();
    progressSubscription?.dispose();
  }
}

/** How a run ends, as the hub tells it (a server following it, extension/attachedRuns.ts). */
function runEnd(s: Services, runId: string): Promise<TrainResult> {
  return new Promise((resolve, reject) => {
    const ended = s.ctx.hub.onRunEnded((p) => {
      if (p.runId !== runId) return;
      ended.dispose();
      if (p.summary) resolve({ runDir: p.runDir, summary: p.summary });
      else reject(new Error(`run ${runId} ${p.status}${p.reason ? `: ${p.reason}` : ''}`));
    });
  });
}

/**
 * Moves a run's progress notification with the job's epochs (and, through `advance`, the
 * server's $/progress): withProgress wants increments, both move one total, and the notification
 * shows the latest of them a few times a second (extension/uiRate.ts).
 */
export function reportJobProgress(
  s: Services,
  job: Job,
  progress: vscode.Progress<{ message?: string; increment?: number }>,
): { advance(fraction: number | undefined, message: string | undefined): void; dispose(): void } {
  let reported = 0;
  let latest: { fraction?: number; message?: string } = {};
  const reports = new UpdateThrottle(() => {
    const increment = latest.fraction === undefined ? 0 : Math.max(0, Math.min(100, latest.fraction * 100) - reported);
    reported += increment;
    progress.report({ increment, message: latest.message });
  });
  const advance = (fraction: number | undefined, message: string | undefined): void => {
    latest = { fraction: fraction ?? latest.fraction, message: message ?? latest.message };
    reports.request();
  };
  const jobSubscription = s.jobs.onDidChange(() => {
    if (job.runId === undefined || job.epochs <= 0 || job.ended) return;
    const pace = paceText(job.pace);
    advance(job.fraction, `${epochText(true, job.completed, job.epochs)}${pace ? ` · ${pace}` : ''}`);
  });
  return {
    advance,
    dispose: () => {
      jobSubscription.dispose();
      reports.dispose();
    },
  };
}

/** The ternary.engine / ternary.torch.* settings as train-request fields (none: the experiment decides). */
function engineParams(s: Services): Pick<TrainParams, 'engine' | 'device' | 'nprocPerNode' | 'python'> {
  const engine = s.ctx.config.engine;
  return { ...(engine ? { engine } : {}), ...s.ctx.config.torchTrainParams() };
}

export function announceTrained(s: Services, result: TrainResult): void {
  // Messages start with what happened: a toast is cut at the sidebar's width, the run id comes last.
  const { summary } = result;
  const name = s.catalog.runExperimentLabel(result.runDir, summary.experiment);
  if (summary.status === 'completed') {
    // A float baseline (quant.method none) is not smaller: say so instead of "1.0× smaller".
    const size = summary.compression >= 1.05 ? `${formatCompression(summary.compression)} than float32` : 'full precision (not ternarized)';
    const message =
      `Ternary: Finished ${name}: top-1 ${formatPercent(summary.final.top1)} after ${formatQuantity(summary.epochs, 'epoch')} ` +
      `(best ${formatPercent(summary.best.top1)} at epoch ${summary.best.epoch}), ${size}. Run ${summary.runId}.`;
    void vscode.window.showInformationMessage(message, 'Show Dashboard', 'Export Run').then((choice) => {
      if (choice === 'Show Dashboard') void vscode.commands.executeCommand('ternary.showDashboard', { runDirs: [result.runDir] });
      if (choice === 'Export Run') void vscode.commands.executeCommand('ternary.exportRun', { runDir: result.runDir });
    });
  } else if (summary.status === 'cancelled') {
    const when =
      summary.epochs === 0
        ? 'during its first epoch: no checkpoint was written'
        : `after ${formatQuantity(summary.epochs, 'epoch')}; resume it from its row in the Experiments view`;
    void vscode.window.showInformationMessage(
      `Ternary: Stopped ${name} ${when}. Run ${vscode.workspace.asRelativePath(result.runDir, false)}.`,
    );
  } else {
    void vscode.window
      .showErrorMessage(`Ternary: Training ${name} failed: ${summary.reason ?? 'no reason given'} Run ${summary.runId}.`, 'Show Server Log')
      .then((choice) => {
        if (choice) s.ctx.log.show();
      });
  }
}

/** Stops a job: `ternary/cancel` for its run, and `$/cancelRequest` for its request (also drops it from the queue). */
export async function stopJob(s: Services, job: Job): Promise<void> {
  s.ctx.log.info(`Stopping ${job.label}${job.runId ? ` (run ${job.runId})` : ''}.`);
  if (job.runId !== undefined) {
    try {
      await s.ctx.request(CancelRequest.type, { runId: job.runId });
    } catch (error) {
      s.ctx.log.warn(`ternary/cancel for ${job.runId}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  job.cancellation.cancel();
}

async function stop(s: Services, arg: unknown): Promise<void> {
  let jobs = s.jobs.trainJobs();
  const item = arg as { kind?: string; run?: RunInfo; ref?: ExperimentRef } | undefined;
  if (isExperimentRef(arg)) jobs = jobs.filter((j) => j.configPath === arg.configPath && j.experiment === arg.experiment);
  else if (item?.kind === 'experiment' && item.ref)
    jobs = jobs.filter((j) => j.configPath === item.ref!.configPath && j.experiment === item.ref!.experiment);
  else if (item?.kind === 'run' && item.run) {
    const runId = item.run.runId;
    jobs = jobs.filter((j) => j.runId === runId);
    if (jobs.length === 0 && s.ctx.hub.active.has(runId)) {
      // A run this window did not start (e.g. after a window reload): stop it by id.
      await s.ctx.request(CancelRequest.type, { runId });
      return;
    }
  }
  if (jobs.length === 0) throw new UserFacingError('nothing is training right now.');
  let job = jobs[0]!;
  if (jobs.length > 1) {
    const picked = await vscode.window.showQuickPick(
      jobs.map((j) => ({
        label: j.label,
        description: j.runId ? `run ${j.runId} · ${epochText(true, j.completed, j.epochs)}` : 'queued',
        job: j,
      })),
      { title: 'Ternary: Stop', placeHolder: 'Which training to stop?' },
    );
    if (!picked) throw new UserCancelled();
    job = picked.job;
  }
  await stopJob(s, job);
}

async function evaluate(s: Services, arg: unknown): Promise<EvaluateResult | undefined> {
  await requireTrust('Evaluation');
  const node = arg as { kind?: string; run?: RunInfo; configPath?: string } | undefined;
  let run: RunInfo;
  let ref: ExperimentRef;
  if (node?.kind === 'run' && node.run && node.configPath) {
    run = node.run;
    ref = { configPath: node.configPath, experiment: run.experiment };
  } else {
    ref = await resolveExperiment(s, arg, 'Evaluate');
    run = await resolveRun(s, ref, 'Evaluate', (r) => r.status === 'completed');
  }
  const result = await vscode.window.withProgress(
    {
      location: vscode.ProgressLocation.Notification,
      title: `Ternary: evaluating ${s.catalog.experimentLabel(ref)}/${run.runId}`,
      cancellable: true,
    },
    (_progress, token) =>
      s.ctx.request(EvaluateRequest.type, { target: run.runDir, configPath: ref.configPath, experiment: ref.experiment }, token),
  );
  void vscode.window.showInformationMessage(
    `Ternary: ${s.catalog.experimentLabel(ref)}/${run.runId} on ${formatQuantity(result.examples, 'test image')}: ` +
      `top-1 ${formatPercent(result.top1)} · top-5 ${formatPercent(result.top5)} · loss ${formatNumber(result.loss)}.`,
  );
  return result;
}
