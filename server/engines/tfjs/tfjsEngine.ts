/**
 * The tfjs engine (server/runs/engine.ts): trains in this process through the tfjs API on the
 * backend the caller started. prepare opens the data (server/train/trainingData.ts), builds the
 * model (server/train/experimentModel.ts), the optimizer and the train step, and on resume
 * restores the newest intact checkpoint (server/train/resumePoint.ts); train runs the epochs
 * (server/train/epochLoop.ts), validates, reports each epoch's records and then saves its
 * checkpoint (server/train/checkpointStore.ts), and writes the final model.
 */
import * as tf from '@tensorflow/tfjs-core';
import { observesRanges, setRangeObserving } from '../../core/activationQuant';
import { saveModel } from '../../core/modelIO';
import { replaceDirAtomic } from '../../files/atomicFiles';
import type { EngineContext, EngineOutcome, EngineSession, TrainingEngine } from '../../runs/engine';
import { layerStats, modelSummary, weightHistograms } from '../../stats';
import type { CheckpointState } from '../../train/checkpoint';
import { saveCheckpoint } from '../../train/checkpointStore';
import { trainEpoch } from '../../train/epochLoop';
import { createExperimentModel } from '../../train/experimentModel';
import { createOptimizer } from '../../train/optimizers';
import { checkpointToResume } from '../../train/resumePoint';
import { learningRateAt } from '../../train/schedule';
import { evalBatchSize, evaluateModel, makeTrainStep } from '../../train/step';
import { openTrainingData } from '../../train/trainingData';
import { runtimeVersions } from '../../train/versions';
import type { MetricsRecord } from '../../../shared/runRecords';

/** The tfjs engine on `backend` (server/backends/ladder.ts `initBackend`; default: tfjs's current backend, 1 thread). */
export function tfjsEngine(backend?: { name: string; threads: number }): TrainingEngine {
  return { prepare: (ctx) => prepare(ctx, backend ?? { name: tf.getBackend(), threads: 1 }) };
}

async function prepare(ctx: EngineContext, backend: { name: string; threads: number }): Promise<EngineSession> {
  const { experiment, paths, signal } = ctx;
  const { train: recipe } = experiment;
  if (ctx.resumed && ctx.resumed.backend !== backend.name) {
    ctx.log(
      'warn',
      `resuming a run started on the '${ctx.resumed.backend}' backend on '${backend.name}': metrics will not match an uninterrupted run bit for bit.`,
    );
  }
  const { trainSet, testSet } = await openTrainingData(experiment, ctx.baseDir, ctx.configPath ?? paths.dir, (m) => ctx.log('warn', m));
  const classes = experiment.model.classes;
  const model = await createExperimentModel(experiment, ctx.baseDir, trainSet.inputShape, ctx.configPath);
  const params = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const optimizer = createOptimizer(recipe, params);
  const dispose = () => {
    optimizer.dispose();
    model.dispose();
  };
  let state: CheckpointState = { epoch: 0, step: 0, rng: { seed: recipe.seed, nextEpoch: 0 }, epochs: [], elapsedSeconds: 0 };
  let resumed = false;
  if (ctx.resumed) {
    try {
      const checkpoint = await checkpointToResume(paths, (level, message) => ctx.log(level, message));
      checkpoint.restore(model, optimizer);
      state = checkpoint.state;
      resumed = true;
    } catch (err) {
      dispose();
      throw err;
    }
  }
  const step = makeTrainStep(model, optimizer, params, classes);
  const stepsPerEpoch = trainSet.batchCount(recipe.batchSize);

  return {
    record: { backend: backend.name, threads: backend.threads, versions: runtimeVersions() },
    sizes: modelSummary(model),
    dispose,
    async train(events): Promise<EngineOutcome> {
      await events.started({
        stepsPerEpoch,
        resumed: resumed ? { epoch: state.epoch, step: state.step, elapsedSeconds: state.elapsedSeconds, epochs: state.epochs } : null,
      });
      const epochContext = {
        trainSet,
        recipe,
        step,
        onRecord: (r: MetricsRecord) => events.batch(r),
        signal,
        elapsed: events.elapsed,
        onBatch: events.alive,
      };
      for (let epoch = state.epoch; epoch < recipe.epochs; epoch++) {
        const lr = learningRateAt(epoch, recipe.lr, recipe.schedule, recipe.gammas);
        const epochNumber = epoch + 1;
        // 8-bit activations: the input ranges move during the first epochs, then stay (docs/method.md).
        setRangeObserving(model, observesRanges(epoch));
        const trained = await trainEpoch(epochContext, epoch, lr, state.step);
        if (trained.kind === 'cancelled') return { kind: 'cancelled', epoch: epochNumber };
        if (trained.kind === 'nonFinite')
          return { kind: 'nonFinite', loss: trained.loss, epoch: epochNumber, batch: trained.batchIndex, step: trained.globalStep, lr };
        const val = await evaluateModel(model, testSet, evalBatchSize(recipe.batchSize), classes, signal);
        if (signal?.aborted) return { kind: 'cancelled', epoch: epochNumber, during: 'validation' };
        const seen = Math.max(1, trained.seen);
        const metrics: MetricsRecord = {
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
          time: events.elapsed(),
        };
        await events.epoch({
          metrics,
          layers: { epoch: epochNumber, layers: layerStats(model), summary: modelSummary(model) },
          histograms: { epoch: epochNumber, histograms: weightHistograms(model) },
        });
        state = {
          epoch: epochNumber,
          step: trained.globalStep,
          rng: { seed: recipe.seed, nextEpoch: epochNumber },
          epochs: [...state.epochs, metrics],
          elapsedSeconds: events.elapsed(),
        };
        await saveCheckpoint(paths.checkpoints, model, optimizer, state);
        await events.checkpoint(epochNumber);
      }
      await replaceDirAtomic(paths.model, async (tmp) => {
        await saveModel(model, tmp, { runId: ctx.runId, experiment: experiment.name, epochs: state.epoch });
      });
      return { kind: 'completed' };
    },
  };
}
