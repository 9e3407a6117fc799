/**
 * The trainer (docs/architecture.md: a training run, the run folder; docs/configs.md: recipes):
 * builds or loads the model, trains it with the reference's SGD/Adam and step
 * schedule, validates every epoch, and records everything in a run folder that the CLI, the
 * server and the extension all read. `--resume` continues a run from its newest intact
 * checkpoint and ends with exactly the metrics of an uninterrupted run (same seed, same backend):
 * data order and augmentation depend only on (seed, epoch), and the checkpoint holds every
 * weight and the optimizer state.
 *
 * The parts: runFolder.ts (paths, identity, resume housekeeping), runLock.ts (one writer per
 * run), checkpointStore.ts + resumePoint.ts (crash-safe checkpoints), trainingData.ts (the splits,
 * checked), epochLoop.ts (one epoch's batches), epochRecords.ts (its records), runSummary.ts
 * (summary.json). This file puts them in order.
 */
import { dirname, join, resolve } from 'node:path';
import { mkdir } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs-core';
import { saveModel } from '../core/modelIO';
import { modelSummary } from '../stats';
import { replaceDirAtomic, writeJsonAtomic } from '../files/atomicFiles';
import type { CheckpointState, VerifiedCheckpoint } from './checkpoint';
import { copyLastToBest, saveCheckpoint } from './checkpointStore';
import { trainEpoch } from './epochLoop';
import { recordEpoch } from './epochRecords';
import { createExperimentModel } from './experimentModel';
import { faultPoint } from './faultInjection';
import { ensureWritableDir, fileSystemError } from './fsErrors';
import { createOptimizer } from './optimizers';
import { checkpointToResume } from './resumePoint';
import {
  createRunFolder,
  dropRecordsAfter,
  newRunIdentity,
  removeTempFiles,
  resumedRunIdentity,
  runPaths,
  type RunIdentity,
  type RunPaths,
} from './runFolder';
import { acquireRunLock, type RunLock } from './runLock';
import { bestOf, makeSummary } from './runSummary';
import { learningRateAt } from './schedule';
import { evaluateModel, makeTrainStep } from './step';
import { openTrainingData } from './trainingData';
import type { TrainOptions, TrainResult } from './types';
import type { MetricsRecord, RunStatus } from '../../shared/runRecords';

function describeLoss(loss: number): string {
  return Number.isNaN(loss) ? 'NaN' : loss > 0 ? 'Infinity' : '-Infinity';
}

/** The run to train: a new identity, or the resumed run locked, cleaned and with its checkpoint. */
async function openRun(
  opts: TrainOptions,
  backend: { name: string; threads: number },
  startTime: number,
  log: (level: 'warn', message: string) => void,
): Promise<{
  run: RunIdentity;
  paths: RunPaths;
  lock?: RunLock;
  resumed?: VerifiedCheckpoint;
}> {
  const run = opts.resumeDir
    ? await resumedRunIdentity(opts.resumeDir, opts.epochs)
    : await newRunIdentity(opts.experiment, opts.runsDir, opts.configPath, backend, opts.epochs, startTime, (m) => log('warn', m));
  const paths = runPaths(run.runDir);
  // Before any work: a run that cannot write its files should not train for an hour first.
  await ensureWritableDir(
    opts.resumeDir ? run.runDir : resolve(opts.runsDir),
    opts.resumeDir ? 'the run (start a new one with --runs-dir)' : 'the runs folder (tern train --runs-dir)',
  );
  if (!opts.resumeDir) return { run, paths };
  if (run.configRecord.backend !== backend.name) {
    log(
      'warn',
      `resuming a run started on the '${run.configRecord.backend}' backend on '${backend.name}': metrics will not match an uninterrupted run bit for bit.`,
    );
  }
  const lock = await acquireRunLock(run.runDir);
  try {
    await removeTempFiles(paths);
    return { run, paths, lock, resumed: await checkpointToResume(paths, log) };
  } catch (err) {
    await lock.release();
    throw err;
  }
}

/** Trains one experiment; resolves when the run ends (its summary's status says how). */
export async function train(opts: TrainOptions): Promise<TrainResult> {
  const listener = opts.listener ?? {};
  const log = (level: 'info' | 'warn' | 'error', message: string) => listener.onLog?.(level, message);
  const startTime = Date.now();
  const backend = opts.backend ?? { name: tf.getBackend(), threads: 1 };

  // ---- The run folder: a new one, or the one to resume (locked, cleaned, its checkpoint found).
  const opened = await openRun(opts, backend, startTime, log);
  const { run, paths, resumed } = opened;
  let lock = opened.lock;
  try {
    return await trainRun();
  } finally {
    await lock?.release().catch(() => undefined);
  }

  async function trainRun(): Promise<TrainResult> {
    const { experiment, runId, configRecord } = run;
    const { train: recipe } = experiment;
    const configPath = configRecord.configPath ?? opts.configPath;
    const baseDir = configPath ? dirname(resolve(configPath)) : process.cwd();

    // ---- Data and model (before creating the folder: a bad config leaves no empty run behind).
    const { trainSet, testSet } = await openTrainingData(experiment, baseDir, configPath ?? run.runDir, (m) => log('warn', m));
    const classes = experiment.model.classes;
    const model = await createExperimentModel(experiment, baseDir, trainSet.inputShape, configPath);
    const params = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const optimizer = createOptimizer(recipe, params);
    const step = makeTrainStep(model, optimizer, params, classes);
    const stepsPerEpoch = trainSet.batchCount(recipe.batchSize);

    let state: CheckpointState = { epoch: 0, step: 0, rng: { seed: recipe.seed, nextEpoch: 0 }, epochs: [], elapsedSeconds: 0 };
    const sizes = modelSummary(model);
    const summaryContext = { runId, experiment: experiment.name, backend: backend.name, sizes };
    const elapsed = () => state.elapsedSeconds + (Date.now() - startTime) / 1000;
    const summaryOf = (status: RunStatus, reason?: string) => makeSummary(summaryContext, status, state, elapsed(), reason);
    const dispose = () => {
      optimizer.dispose();
      model.dispose();
    };

    try {
      if (resumed) {
        resumed.restore(model, optimizer);
        state = resumed.state;
        await dropRecordsAfter(paths, state.epoch);
        log('info', `resuming ${run.runDir} after epoch ${state.epoch} of ${recipe.epochs}`);
      } else {
        await mkdir(paths.dir, { recursive: true });
        lock = await acquireRunLock(paths.dir);
        await createRunFolder(paths, configRecord);
      }
    } catch (err) {
      dispose();
      throw fileSystemError(err, paths.dir, 'the runs folder (tern train --runs-dir)') ?? err;
    }

    const finish = async (status: Exclude<RunStatus, 'running'>, reason?: string): Promise<TrainResult> => {
      const summary = summaryOf(status, reason);
      await writeJsonAtomic(paths.summary, summary);
      dispose();
      if (reason) log(status === 'failed' ? 'error' : 'info', reason);
      return { runDir: run.runDir, summary };
    };
    const checkpointNote = () =>
      state.epoch > 0
        ? `the checkpoint of epoch ${state.epoch} is in ${join(paths.checkpoints, 'last')} (continue with --resume ${run.runDir})`
        : 'no epoch had completed, so there is no checkpoint to resume from; start a new run';

    try {
      await writeJsonAtomic(paths.summary, summaryOf('running'));
      listener.onStart?.({
        runId,
        runDir: run.runDir,
        experiment: experiment.name,
        epochs: recipe.epochs,
        stepsPerEpoch,
        backend: backend.name,
      });
      const epochContext = {
        trainSet,
        recipe,
        step,
        metricsPath: paths.metrics,
        listener,
        signal: opts.signal,
        elapsed,
        onBatch: () => lock?.beat(),
      };
      for (let epoch = state.epoch; epoch < recipe.epochs; epoch++) {
        const lr = learningRateAt(epoch, recipe.lr, recipe.schedule, recipe.gammas);
        const epochNumber = epoch + 1;
        const trained = await trainEpoch(epochContext, epoch, lr, state.step);
        if (trained.kind === 'cancelled') return await finish('cancelled', `Cancelled during epoch ${epochNumber}; ${checkpointNote()}.`);
        if (trained.kind === 'nonFinite') {
          return await finish(
            'failed',
            `Training loss became ${describeLoss(trained.loss)} at epoch ${epochNumber}, batch ${trained.batchIndex} (step ${trained.globalStep}); the run stopped. ` +
              `Try a lower learning rate (train.lr is ${recipe.lr}${lr !== recipe.lr ? `, ${lr} in this epoch` : ''}), check the input normalization (data.normalize) and the labels, ` +
              `or use a smaller thresholdFactor. ${state.epoch > 0 ? `The last good checkpoint (epoch ${state.epoch}) stays in ${join(paths.checkpoints, 'last')}.` : 'No epoch had completed, so there is no checkpoint.'}`,
          );
        }
        const val = await evaluateModel(model, testSet, Math.max(recipe.batchSize, 256), classes, opts.signal);
        if (opts.signal?.aborted)
          return await finish('cancelled', `Cancelled during the validation of epoch ${epochNumber}; ${checkpointNote()}.`);
        const seen = Math.max(1, trained.seen);
        const epochRecord: MetricsRecord = {
          kind: 'epoch',
          epoch: epochNumber,
          step: trained.globalStep,
          lr,
          loss: trained.lossSum / seen,
          top1: trained.top1Sum / seen,
          top5: trained.top5Sum / seen,
          valLoss: val.loss,
          valTop1: val.top1,
          valTop5: val.top5,
          imgPerSec: trained.seen / Math.max(1e-9, trained.trainSeconds),
          time: elapsed(),
        };
        await recordEpoch(model, paths, epochRecord, listener);

        state = {
          epoch: epochNumber,
          step: trained.globalStep,
          rng: { seed: recipe.seed, nextEpoch: epochNumber },
          epochs: [...state.epochs, epochRecord],
          elapsedSeconds: state.elapsedSeconds,
        };
        // The checkpoint's elapsed time counts this session up to now.
        await saveCheckpoint(paths.checkpoints, model, optimizer, { ...state, elapsedSeconds: elapsed() });
        if (bestOf(state.epochs).epoch === epochNumber) await copyLastToBest(paths.checkpoints);
        await writeJsonAtomic(paths.summary, summaryOf('running'));
        faultPoint('summary-written');
      }
      await replaceDirAtomic(paths.model, async (tmp) => {
        await saveModel(model, tmp, { runId, experiment: experiment.name, epochs: state.epoch });
      });
      faultPoint('model-committed');
      return await finish('completed');
    } catch (err) {
      // Record the failure in the run folder, then let the caller report it.
      const reported = fileSystemError(err, paths.dir, 'the runs folder (tern train --runs-dir)') ?? err;
      const message = reported instanceof Error ? reported.message : String(reported);
      await writeJsonAtomic(paths.summary, summaryOf('failed', message)).catch(() => undefined);
      dispose();
      throw reported;
    }
  }
}
