/**
 * `ternary/train`: queues a training run, reports its place in the queue and its progress, and
 * turns the trainer's callbacks into notifications (run started, metrics throttled by the outbox,
 * layer stats, histograms, run ended), in the order they happened. A run that started always
 * ends for the client, even when the trainer throws.
 */
import type { CancellationToken } from 'vscode-languageserver/node';
import {
  HistogramsNotification,
  LayerStatsNotification,
  QueuedNotification,
  RunEndedNotification,
  RunStartedNotification,
  TrainRequest,
  type TrainResult,
} from '../../shared/protocol';
import type { TrainListener } from '../runs/trainTypes';
import { formatPercent } from '../../shared/format';
import type { TrainJobParams } from './jobs';
import { validateTrainParams } from './params';
import type { CurrentRun, ServerCore } from './serverCore';

export function registerTrain(core: ServerCore): void {
  const { connection, outbox, queue } = core;
  connection.onRequest(TrainRequest.method, async (raw: unknown, token: CancellationToken): Promise<TrainResult> => {
    core.requireInitialized(TrainRequest.method);
    const params = validateTrainParams(raw);
    const { workDoneToken, ...trainParams } = params;
    let jobId = '';
    const experimentLabel = params.experiment ?? params.configPath;
    const { progress, close } = await core.progress.open(`Training ${experimentLabel}`, workDoneToken, () => queue.cancel(jobId));
    try {
      return await core.runQueued(
        'train',
        token,
        async (signal) => {
          const run: CurrentRun = { jobId, progress };
          core.currentRun = run;
          progress.report('starting', 0);
          try {
            return await trainRun(core, trainParams, signal, run);
          } finally {
            if (core.currentRun === run) core.currentRun = undefined;
          }
        },
        {
          onQueued: (id) => {
            jobId = id;
          },
          onPosition: (id, position) => {
            outbox.push(
              () =>
                void connection.sendNotification(QueuedNotification.type, {
                  configPath: params.configPath,
                  experiment: params.experiment,
                  position,
                  jobId: id,
                }),
            );
            progress.report(`waiting in the queue: position ${position}`);
          },
        },
      );
    } finally {
      close();
    }
  });
}

/** One training run: trainer callbacks → notifications, in order, metrics throttled. */
async function trainRun(core: ServerCore, params: TrainJobParams, signal: AbortSignal, run: CurrentRun): Promise<TrainResult> {
  const notifier = runNotifier(core, params.configPath, run);
  try {
    const result = await core.jobs.train(params, notifier.listener, signal);
    await notifier.ended(result);
    return result;
  } catch (err) {
    await notifier.failed(err);
    throw err;
  }
}

/**
 * What a run reports, as notifications in the order it happened: for a run a train request
 * started, and for a live run the server follows (liveRuns.ts). `run` collects its id and start.
 */
export function runNotifier(
  core: ServerCore,
  configPath: string | undefined,
  run: CurrentRun,
): { listener: TrainListener; ended(result: TrainResult): Promise<void>; failed(err: unknown): Promise<void> } {
  const { connection, outbox } = core;
  const listener: TrainListener = {
    onStart: (start) => {
      run.runId = start.runId;
      const started = { ...start, ...(configPath !== undefined ? { configPath } : {}) };
      run.started = started;
      outbox.push(() => void connection.sendNotification(RunStartedNotification.type, started));
    },
    onMetrics: (record) => {
      if (run.started) outbox.pushMetrics(run.started, record);
    },
    onLayers: (record) => {
      const { runId, runDir } = run.started!;
      outbox.push(() => void connection.sendNotification(LayerStatsNotification.type, { runId, runDir, record }));
    },
    onHistograms: (record) => {
      const { runId, runDir } = run.started!;
      outbox.push(() => void connection.sendNotification(HistogramsNotification.type, { runId, runDir, record }));
    },
    onLog: (level, message) => outbox.push(() => core.log(level, message)),
  };
  return {
    listener,
    async ended(result) {
      const { summary } = result;
      const status = summary.status === 'running' ? 'failed' : summary.status;
      outbox.push(
        () =>
          void connection.sendNotification(RunEndedNotification.type, {
            runId: summary.runId,
            runDir: result.runDir,
            experiment: summary.experiment,
            status,
            reason: summary.reason,
            summary,
          }),
      );
      await outbox.drained();
      run.progress?.done(`${status}: top-1 ${formatPercent(summary.final.top1, 2)}`);
    },
    async failed(err) {
      // A run that had started must still end for the client, even when the trainer threw.
      const started = run.started;
      if (!started) return;
      const reason = (err as Error)?.message ?? String(err);
      outbox.push(
        () =>
          void connection.sendNotification(RunEndedNotification.type, {
            runId: started.runId,
            runDir: started.runDir,
            experiment: started.experiment,
            status: 'failed',
            reason,
          }),
      );
      await outbox.drained();
    },
  };
}
