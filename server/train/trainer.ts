/**
 * The trainer (docs/architecture.md: a training run, the run folder; docs/configs.md: recipes): builds or loads the model, trains it with the
 * reference's SGD/Adam and step schedule, validates every epoch, and records everything in a run
 * folder that the CLI, the server and the extension all read. `--resume` continues a run from its
 * last checkpoint and ends with exactly the metrics of an uninterrupted run (same seed, same
 * backend): data order and augmentation depend only on (seed, epoch), and the checkpoint holds
 * every weight and the optimizer state.
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { ConfigError } from '../config/loadConfig';
import type { ExperimentConfig } from '../../shared/experimentConfig';
import type { Dataset } from '../data/dataset';
import { openDataset } from '../data/open';
import { buildModel, convertToTernary } from '../models';
import { loadModel, saveModel } from '../core/modelIO';
import { layerStats, modelSummary, weightHistograms } from '../stats';
import { replaceDirAtomic, writeJsonAtomic } from '../files/atomicFiles';
import { appendJsonLine, readJsonLines, writeJsonLinesAtomic } from '../files/jsonLines';
import { experimentFolder, sharedNameWarning } from '../runs/experimentFolder';
import { readCheckpoint, saveCheckpoint, type CheckpointState } from './checkpoint';
import { createOptimizer } from './optimizers';
import { newRunId } from './runId';
import { learningRateAt } from './schedule';
import { evaluateModel, makeTrainStep } from './step';
import { runtimeVersions } from './versions';
import type { TrainOptions, TrainResult } from './types';
import type { HistogramsRecord, LayersRecord, MetricsRecord, RunConfigRecord, RunStatus, RunSummary } from '../../shared/runRecords';

/** About this many batch lines per epoch in metrics.jsonl (plus the last batch). */
const BATCH_LINES_PER_EPOCH = 50;

/** The model of an experiment: a zoo model from scratch, or the ternary twin of a float model. */
async function createModel(experiment: ExperimentConfig, baseDir: string, inputShape: [number, number, number], configPath: string | undefined): Promise<LayersModel> {
  const { model, quant, train } = experiment;
  if (model.from !== undefined) {
    const path = resolve(baseDir, model.from);
    if (!existsSync(path)) {
      throw new ConfigError(configPath ?? path, `model.from (experiment "${experiment.name}")`, `${path} does not exist; point "from" at a float tfjs model.json or an .onnx CNN.`);
    }
    const float = await loadModel(path);
    // A model exported elsewhere (an .onnx from PyTorch) often expects another image size than the
    // data has: say so here, not as a tensor-size error inside the first training step.
    const takes = float.inputs[0].shape.slice(1);
    if (takes.length !== 3 || takes.some((d, i) => d !== null && d !== inputShape[i])) {
      float.dispose();
      throw new ConfigError(configPath ?? path, `model.from (experiment "${experiment.name}")`,
        `${path} takes inputs of ${takes.map((d) => d ?? '?').join('×')} (H×W×C) but the data's images are ${inputShape.join('×')}; ` +
        'resize the data (data.imageSize for image folders) or use a model made for this size.');
    }
    if (quant.method === 'none') return float;
    const twin = await convertToTernary(float, quant);
    if (twin !== float) float.dispose();
    return twin;
  }
  return buildModel({ arch: model.arch!, classes: model.classes, inputShape, quant, seed: train.seed });
}

function bestOf(epochs: MetricsRecord[]): RunSummary['best'] {
  let best: RunSummary['best'] = { top1: 0, top5: 0, loss: NaN, epoch: 0 };
  for (const r of epochs) {
    const top1 = r.valTop1 ?? r.top1;
    if (best.epoch === 0 || top1 > best.top1) best = { top1, top5: r.valTop5 ?? r.top5 ?? 0, loss: r.valLoss ?? r.loss, epoch: r.epoch };
  }
  return best;
}

function finalOf(epochs: MetricsRecord[]): RunSummary['final'] {
  const last = epochs[epochs.length - 1];
  if (!last) return { top1: 0, top5: 0, loss: NaN };
  return { top1: last.valTop1 ?? last.top1, top5: last.valTop5 ?? last.top5 ?? 0, loss: last.valLoss ?? last.loss };
}

function describeLoss(loss: number): string {
  return Number.isNaN(loss) ? 'NaN' : loss > 0 ? 'Infinity' : '-Infinity';
}

/** Trains one experiment; resolves when the run ends (its summary's status says how). */
export async function train(opts: TrainOptions): Promise<TrainResult> {
  const listener = opts.listener ?? {};
  const log = (level: 'info' | 'warn' | 'error', message: string) => listener.onLog?.(level, message);
  const startTime = Date.now();

  // ---- The run folder: a new one, or the one to resume.
  let experiment = opts.experiment;
  let runId: string;
  let runDir: string;
  let configRecord: RunConfigRecord;
  let resumed: Awaited<ReturnType<typeof readCheckpoint>>;
  const backend = opts.backend ?? { name: tf.getBackend(), threads: 1 };
  if (opts.resumeDir) {
    runDir = resolve(opts.resumeDir);
    const recordPath = join(runDir, 'config.json');
    if (!existsSync(recordPath)) throw new ConfigError(recordPath, undefined, `is missing: ${runDir} is not a run folder (expected runs/<experiment>/<run-id>/ with config.json).`);
    configRecord = JSON.parse(await readFile(recordPath, 'utf8')) as RunConfigRecord;
    resumed = await readCheckpoint(join(runDir, 'checkpoints', 'last'));
    if (!resumed) throw new ConfigError(join(runDir, 'checkpoints', 'last'), undefined, 'holds no checkpoint (the run stopped before its first epoch ended); start a new run instead of resuming.');
    // The run continues with the experiment it was started with; only the epoch count may grow.
    experiment = structuredClone(configRecord.experiment);
    if (opts.epochs !== undefined) experiment.train.epochs = opts.epochs;
    if (configRecord.backend !== backend.name) {
      log('warn', `resuming a run started on the '${configRecord.backend}' backend on '${backend.name}': metrics will not match an uninterrupted run bit for bit.`);
    }
    runId = configRecord.runId;
  } else {
    experiment = structuredClone(experiment);
    if (opts.epochs !== undefined) experiment.train.epochs = opts.epochs;
    runId = newRunId();
    // Another config of this folder with an experiment of the same name: separate folders.
    const folder = opts.configPath ? await experimentFolder(opts.configPath, experiment.name) : { folder: experiment.name, sharedWith: [] };
    if (folder.sharedWith.length) log('warn', sharedNameWarning(opts.configPath!, experiment.name, folder));
    runDir = resolve(opts.runsDir, folder.folder, runId);
    configRecord = {
      runId,
      experiment,
      configPath: opts.configPath ? resolve(opts.configPath) : undefined,
      backend: backend.name,
      threads: backend.threads,
      versions: runtimeVersions(),
      seed: experiment.train.seed,
      startedAt: new Date(startTime).toISOString(),
    };
  }
  const { train: recipe } = experiment;
  const configPath = configRecord.configPath ?? opts.configPath;
  const baseDir = configPath ? dirname(resolve(configPath)) : process.cwd();

  // ---- Data and model (before creating the folder: a bad config leaves no empty run behind).
  const trainSet: Dataset = await openDataset(experiment.data, 'train', baseDir);
  const testSet: Dataset = await openDataset(experiment.data, 'test', baseDir);
  const classes = experiment.model.classes;
  if (trainSet.numClasses > classes) {
    throw new ConfigError(configPath ?? runDir, `model.classes (experiment "${experiment.name}")`, `is ${classes} but the training data has labels up to ${trainSet.numClasses - 1}; set "classes" to at least ${trainSet.numClasses}.`);
  }
  const model = await createModel(experiment, baseDir, trainSet.inputShape, configPath);
  const params = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const optimizer = createOptimizer(recipe, params);
  const step = makeTrainStep(model, optimizer, params, classes);
  const stepsPerEpoch = trainSet.batchCount(recipe.batchSize);
  const logEvery = Math.max(1, Math.round(stepsPerEpoch / BATCH_LINES_PER_EPOCH));

  const paths = {
    config: join(runDir, 'config.json'),
    metrics: join(runDir, 'metrics.jsonl'),
    layers: join(runDir, 'layers.jsonl'),
    histograms: join(runDir, 'histograms'),
    checkpoint: join(runDir, 'checkpoints', 'last'),
    model: join(runDir, 'model'),
    summary: join(runDir, 'summary.json'),
  };

  let state: CheckpointState = { epoch: 0, step: 0, rng: { seed: recipe.seed, nextEpoch: 0 }, epochs: [], elapsedSeconds: 0 };
  if (resumed) {
    resumed.restore(model, optimizer);
    state = resumed.state;
    // Drop what the killed session wrote after its last checkpoint, so the files read as one run.
    const keep = (r: { epoch: number }) => r.epoch <= state.epoch;
    await writeJsonLinesAtomic(paths.metrics, (await readJsonLines<MetricsRecord>(paths.metrics)).filter(keep));
    await writeJsonLinesAtomic(paths.layers, (await readJsonLines<LayersRecord>(paths.layers)).filter(keep));
    for (const file of existsSync(paths.histograms) ? await readdir(paths.histograms) : []) {
      const m = /^epoch-(\d+)\.json$/.exec(file);
      if (m && Number(m[1]) > state.epoch) await rm(join(paths.histograms, file), { force: true });
    }
    log('info', `resuming ${runDir} after epoch ${state.epoch} of ${recipe.epochs}`);
  } else {
    await mkdir(paths.histograms, { recursive: true });
    await mkdir(dirname(paths.checkpoint), { recursive: true });
    await writeJsonAtomic(paths.config, configRecord);
  }

  const sizes = modelSummary(model);
  const summaryOf = (status: RunStatus, reason?: string): RunSummary => ({
    runId,
    experiment: experiment.name,
    status,
    epochs: state.epoch,
    ...(reason ? { reason } : {}),
    final: finalOf(state.epochs),
    best: bestOf(state.epochs),
    backend: backend.name,
    fp32Bytes: sizes.fp32Bytes,
    ternaryBytes: sizes.ternaryBytes,
    compression: sizes.compression,
    wallSeconds: state.elapsedSeconds + (Date.now() - startTime) / 1000,
  });
  const finish = async (status: Exclude<RunStatus, 'running'>, reason?: string): Promise<TrainResult> => {
    const summary = summaryOf(status, reason);
    await writeJsonAtomic(paths.summary, summary);
    optimizer.dispose();
    model.dispose();
    if (reason) log(status === 'failed' ? 'error' : 'info', reason);
    return { runDir, summary };
  };

  await writeJsonAtomic(paths.summary, summaryOf('running'));
  listener.onStart?.({ runId, runDir, experiment: experiment.name, epochs: recipe.epochs, stepsPerEpoch, backend: backend.name });
  const elapsed = () => state.elapsedSeconds + (Date.now() - startTime) / 1000;
  // What a stopped run leaves: a checkpoint to resume only once an epoch has completed.
  const checkpointNote = () => (state.epoch > 0
    ? `the checkpoint of epoch ${state.epoch} is in ${paths.checkpoint} (continue with --resume ${runDir}).`
    : 'no epoch had completed, so there is no checkpoint to resume from; start a new run.');

  try {
    for (let epoch = state.epoch; epoch < recipe.epochs; epoch++) {
      const lr = learningRateAt(epoch, recipe.lr, recipe.schedule, recipe.gammas);
      const epochNumber = epoch + 1;
      let lossSum = 0;
      let top1Sum = 0;
      let top5Sum = 0;
      let seen = 0;
      let batchIndex = 0;
      let globalStep = state.step;
      const epochStart = Date.now();
      for await (const batch of trainSet.batches({ batchSize: recipe.batchSize, shuffle: true, seed: recipe.seed, epoch, augment: true })) {
        if (opts.signal?.aborted) {
          return await finish('cancelled', `Cancelled during epoch ${epochNumber}; ${checkpointNote()}`);
        }
        const result = await step(batch, lr);
        batchIndex++;
        globalStep++;
        if (!Number.isFinite(result.loss)) {
          return await finish(
            'failed',
            `Training loss became ${describeLoss(result.loss)} at epoch ${epochNumber}, batch ${batchIndex} (step ${globalStep}); the run stopped. ` +
              `Try a lower learning rate (train.lr is ${recipe.lr}${lr !== recipe.lr ? `, ${lr} in this epoch` : ''}), check the input normalization (data.normalize) and the labels, ` +
              `or use a smaller thresholdFactor. ${state.epoch > 0 ? `The last good checkpoint (epoch ${state.epoch}) stays in ${paths.checkpoint}.` : 'No epoch had completed, so there is no checkpoint.'}`,
          );
        }
        lossSum += result.loss * result.n;
        top1Sum += result.top1;
        top5Sum += result.top5;
        seen += result.n;
        if (batchIndex % logEvery === 0 || batchIndex === stepsPerEpoch) {
          const record: MetricsRecord = {
            kind: 'batch',
            epoch: epochNumber,
            step: globalStep,
            progress: batchIndex / stepsPerEpoch,
            lr,
            loss: lossSum / seen,
            top1: top1Sum / seen,
            top5: top5Sum / seen,
            imgPerSec: seen / Math.max(1e-9, (Date.now() - epochStart) / 1000),
            time: elapsed(),
          };
          await appendJsonLine(paths.metrics, record);
          listener.onMetrics?.(record);
        }
        // Let the event loop breathe (a server must see a cancel request within one batch).
        await new Promise<void>((r) => setImmediate(r));
      }
      const trainSeconds = (Date.now() - epochStart) / 1000;
      const val = await evaluateModel(model, testSet, Math.max(recipe.batchSize, 256), classes, opts.signal);
      if (opts.signal?.aborted) {
        return await finish('cancelled', `Cancelled during the validation of epoch ${epochNumber}; ${checkpointNote()}`);
      }
      const epochRecord: MetricsRecord = {
        kind: 'epoch',
        epoch: epochNumber,
        step: globalStep,
        lr,
        loss: lossSum / Math.max(1, seen),
        top1: top1Sum / Math.max(1, seen),
        top5: top5Sum / Math.max(1, seen),
        valLoss: val.loss,
        valTop1: val.top1,
        valTop5: val.top5,
        imgPerSec: seen / Math.max(1e-9, trainSeconds),
        time: elapsed(),
      };
      await appendJsonLine(paths.metrics, epochRecord);
      listener.onMetrics?.(epochRecord);

      const layersRecord: LayersRecord = { epoch: epochNumber, layers: layerStats(model), summary: modelSummary(model) };
      await appendJsonLine(paths.layers, layersRecord);
      listener.onLayers?.(layersRecord);
      const histogramsRecord: HistogramsRecord = { epoch: epochNumber, histograms: weightHistograms(model) };
      await writeJsonAtomic(join(paths.histograms, `epoch-${String(epochNumber).padStart(3, '0')}.json`), histogramsRecord);
      listener.onHistograms?.(histogramsRecord);

      state = {
        epoch: epochNumber,
        step: globalStep,
        rng: { seed: recipe.seed, nextEpoch: epochNumber },
        epochs: [...state.epochs, epochRecord],
        elapsedSeconds: state.elapsedSeconds,
      };
      // The checkpoint's elapsed time counts this session up to now.
      await saveCheckpoint(paths.checkpoint, model, optimizer, { ...state, elapsedSeconds: elapsed() });
      if (bestOf(state.epochs).epoch === epochNumber) {
        // checkpoints/best: a copy of the checkpoint of the best validation top-1 so far.
        await replaceDirAtomic(join(runDir, 'checkpoints', 'best'), async (tmp) => {
          for (const f of await readdir(paths.checkpoint)) await copyFile(join(paths.checkpoint, f), join(tmp, f));
        });
      }
      await writeJsonAtomic(paths.summary, summaryOf('running'));
    }
    await replaceDirAtomic(paths.model, async (tmp) => {
      await saveModel(model, tmp, { runId, experiment: experiment.name, epochs: state.epoch });
    });
    return await finish('completed');
  } catch (err) {
    // Record the failure in the run folder, then let the caller report it.
    const message = err instanceof Error ? err.message : String(err);
    await writeJsonAtomic(paths.summary, summaryOf('failed', message)).catch(() => undefined);
    optimizer.dispose();
    model.dispose();
    throw err;
  }
}
