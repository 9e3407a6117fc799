/**
 * The run lifecycle (docs/architecture.md: a training run, the run folder): one function, `train`,
 * that owns a run folder from start to end for every engine. It finds the run (a new identity,
 * or the resumed one with its config.json checked), takes the lock and keeps its heartbeat,
 * writes config.json, every record (records.ts), checkpoints/best and summary.json, cuts the
 * records back to the checkpoint an engine (re)starts from, and words the end of the run. The
 * engine (engine.ts: server/engines/tfjs/, server/engines/torch/) computes and reports.
 *
 * `--resume` continues a run from its newest intact checkpoint and, on the same engine and
 * backend, ends with the metrics of an uninterrupted run: the engines draw data order and
 * augmentation from (seed, epoch) only, and their checkpoints hold every weight and the
 * optimizer state.
 */
import { dirname, join, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { mkdir, rmdir } from 'node:fs/promises';
import { writeJsonAtomic } from '../files/atomicFiles';
import type { MetricsRecord, RunConfigRecord, RunStatus } from '../../shared/runRecords';
import { copyLastToBest } from './checkpointSlots';
import type { EngineEvents, EngineOutcome, EngineSession, TrainingEngine } from './engine';
import { faultPoint } from './faultInjection';
import { ensureWritableDir, fileSystemError } from './fsErrors';
import { writeBatchRecord, writeEpochRecords } from './records';
import { createRunFolder, dropRecordsAfter, newRunIdentity, removeTempFiles, resumedRunIdentity, runPaths } from './runFolder';
import { acquireRunLock, type RunLock } from './runLock';
import { bestOf, makeSummary, type SummaryContext } from './runSummary';
import type { TrainOptions, TrainResult } from './trainTypes';

/** Where a run stands: the epochs recorded and the training time of the sessions before this one. */
interface RunState {
  epoch: number;
  step: number;
  epochs: MetricsRecord[];
  elapsedSeconds: number;
}

function describeLoss(loss: number): string {
  return Number.isNaN(loss) ? 'NaN' : loss > 0 ? 'Infinity' : '-Infinity';
}

const RUNS_FOLDER = 'the runs folder (tern train --runs-dir)';

/** Trains one experiment on `engine`; resolves when the run ends (its summary's status says how). */
export async function train(opts: TrainOptions, engine: TrainingEngine): Promise<TrainResult> {
  const listener = opts.listener ?? {};
  const log = (level: 'info' | 'warn' | 'error', message: string) => listener.onLog?.(level, message);
  const run = opts.resumeDir
    ? await resumedRunIdentity(opts.resumeDir, opts.epochs)
    : await newRunIdentity(opts.experiment, opts.runsDir, opts.configPath, opts.epochs, (m) => log('warn', m));
  const paths = runPaths(run.runDir);
  // A runs folder this run creates (for the check below) goes again if the run fails before its
  // run folder exists (missing data, a bad model): a mistake leaves no empty runs/ behind.
  const newRunsDir = opts.resumeDir || existsSync(resolve(opts.runsDir)) ? undefined : resolve(opts.runsDir);
  // Before any work: a run that cannot write its files should not train for an hour first.
  await ensureWritableDir(
    opts.resumeDir ? run.runDir : resolve(opts.runsDir),
    opts.resumeDir ? 'the run (start a new one with --runs-dir)' : 'the runs folder (tern train --runs-dir)',
  );
  let lock: RunLock | undefined;
  if (opts.resumeDir) {
    lock = await acquireRunLock(run.runDir);
    try {
      await removeTempFiles(paths);
    } catch (err) {
      await lock.release();
      throw err;
    }
  }
  try {
    return await trainRun();
  } catch (err) {
    // rmdir removes only an empty folder: another run's folder in it keeps it.
    if (newRunsDir) await rmdir(newRunsDir).catch(() => undefined);
    throw err;
  } finally {
    await lock?.release().catch(() => undefined);
  }

  async function trainRun(): Promise<TrainResult> {
    const { experiment, runId } = run;
    const configPath = run.configPath ?? (opts.configPath ? resolve(opts.configPath) : undefined);
    const baseDir = configPath ? dirname(configPath) : process.cwd();
    // Data and model first: a bad config leaves no empty run folder behind.
    const session: EngineSession = await engine.prepare({
      experiment,
      configPath,
      baseDir,
      paths,
      runId,
      resumed: run.configRecord,
      signal: opts.signal,
      log,
    });
    const configRecord: RunConfigRecord = run.configRecord ?? {
      runId,
      experiment,
      configPath,
      ...session.record,
      seed: experiment.train.seed,
      startedAt: new Date().toISOString(),
      ...(opts.sweep ? { sweep: opts.sweep } : {}),
    };
    const { record } = session;
    let state: RunState = { epoch: 0, step: 0, epochs: [], elapsedSeconds: 0 };
    let sessionStart = Date.now();
    const elapsed = () => state.elapsedSeconds + (Date.now() - sessionStart) / 1000;
    const summaryContext: SummaryContext = {
      runId,
      experiment: experiment.name,
      backend: record.backend,
      sizes: session.sizes,
      ...(record.engine === 'torch' ? { engine: { engine: record.engine, device: record.device, worldSize: record.worldSize } } : {}),
      ...(configRecord.sweep ? { sweep: configRecord.sweep } : {}),
    };
    const summaryOf = (status: RunStatus, reason?: string) => makeSummary(summaryContext, status, state, elapsed(), reason);

    try {
      if (!opts.resumeDir) {
        await mkdir(paths.dir, { recursive: true });
        lock = await acquireRunLock(paths.dir);
        await createRunFolder(paths, configRecord);
      }
    } catch (err) {
      session.dispose();
      throw fileSystemError(err, paths.dir, RUNS_FOLDER) ?? err;
    }

    const finish = async (status: Exclude<RunStatus, 'running'>, reason?: string): Promise<TrainResult> => {
      const summary = summaryOf(status, reason);
      await writeJsonAtomic(paths.summary, summary);
      session.dispose();
      if (reason) log(status === 'failed' ? 'error' : 'info', reason);
      return { runDir: run.runDir, summary };
    };
    const checkpointNote = () =>
      state.epoch > 0
        ? `the checkpoint of epoch ${state.epoch} is in ${join(paths.checkpoints, 'last')} (continue with --resume ${run.runDir})`
        : 'no epoch had completed, so there is no checkpoint to resume from; start a new run';

    let started = false;
    const events: EngineEvents = {
      async started({ stepsPerEpoch, resumed, restart = 0 }) {
        if (resumed || restart > 0) {
          state = resumed ? { ...resumed, epochs: [...resumed.epochs] } : { epoch: 0, step: 0, epochs: [], elapsedSeconds: 0 };
          sessionStart = Date.now();
          // What a killed session (or worker group) wrote after its checkpoint: the files read as one run.
          await dropRecordsAfter(paths, state.epoch);
          if (restart > 0)
            log(
              'warn',
              `the worker group restarted (restart ${restart}); resuming after epoch ${state.epoch} of ${experiment.train.epochs}`,
            );
          else log('info', `resuming ${run.runDir} after epoch ${state.epoch} of ${experiment.train.epochs}`);
        }
        // summary.json says the run trains, and how many batches an epoch has, once the records
        // are as this session continues them: a follower of the folder announces the run then.
        summaryContext.stepsPerEpoch = stepsPerEpoch;
        await writeJsonAtomic(paths.summary, summaryOf('running'));
        if (started) return;
        started = true;
        listener.onStart?.({
          runId,
          runDir: run.runDir,
          experiment: experiment.name,
          epochs: experiment.train.epochs,
          epoch: state.epoch,
          stepsPerEpoch,
          backend: record.backend,
        });
      },
      async batch(metrics) {
        await writeBatchRecord(paths, metrics);
        listener.onMetrics?.(metrics);
      },
      async epoch(records) {
        await writeEpochRecords(paths, records);
        listener.onMetrics?.(records.metrics);
        listener.onLayers?.(records.layers);
        listener.onHistograms?.(records.histograms);
        state = { ...state, epoch: records.metrics.epoch, step: records.metrics.step, epochs: [...state.epochs, records.metrics] };
      },
      async checkpoint(epoch) {
        if (bestOf(state.epochs).epoch === epoch) await copyLastToBest(paths.checkpoints);
        await writeJsonAtomic(paths.summary, summaryOf('running'));
        faultPoint('summary-written');
      },
      log,
      alive: () => lock?.beat(),
      elapsed,
    };

    let outcome: EngineOutcome;
    try {
      await writeJsonAtomic(paths.summary, summaryOf('running'));
      outcome = await session.train(events);
    } catch (err) {
      // Record the failure in the run folder, then let the caller report it.
      const reported = fileSystemError(err, paths.dir, RUNS_FOLDER) ?? err;
      const message = reported instanceof Error ? reported.message : String(reported);
      await writeJsonAtomic(paths.summary, summaryOf('failed', message)).catch(() => undefined);
      session.dispose();
      throw reported;
    }
    switch (outcome.kind) {
      case 'completed':
        faultPoint('model-committed');
        return finish('completed');
      case 'cancelled':
        return finish(
          'cancelled',
          `Cancelled during ${outcome.during === 'validation' ? 'the validation of ' : ''}epoch ${outcome.epoch}; ${checkpointNote()}.`,
        );
      case 'nonFinite': {
        const { lr } = experiment.train;
        return finish(
          'failed',
          `Training loss became ${describeLoss(outcome.loss)} at epoch ${outcome.epoch}, batch ${outcome.batch} (step ${outcome.step}); the run stopped. ` +
            `Try a lower learning rate (train.lr is ${lr}${outcome.lr !== lr ? `, ${outcome.lr} in this epoch` : ''}), check the input normalization (data.normalize) and the labels, ` +
            `or use a smaller thresholdFactor. ${state.epoch > 0 ? `The last good checkpoint (epoch ${state.epoch}) stays in ${join(paths.checkpoints, 'last')}.` : 'No epoch had completed, so there is no checkpoint.'}`,
        );
      }
      case 'failed':
        return finish('failed', outcome.reason);
    }
  }
}
