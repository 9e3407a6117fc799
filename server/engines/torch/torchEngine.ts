/**
 * The torch engine (server/runs/engine.ts): the epochs run in PyTorch DDP under torchrun
 * (engines/torch/ternary_torch/). prepare checks the setup and the experiment with the same
 * readers and model code as the tfjs engine (one schema, one set of defaults, one model.from
 * check) and finds Python; train saves the initial model and the job file (shared/engineProtocol.ts
 * `TorchJob`), starts torchrun (torchrun.ts) and turns rank 0's messages, checked on receipt,
 * into the lifecycle's events, answering each epoch's records with `recorded` once they are on
 * disk. Cancel (the signal) writes the job's cancel file and sends SIGTERM to the group: every
 * rank stops after the same batch, the last checkpoint stays.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { ConfigError } from '../../config/loadConfig';
import type { LayerStats, ModelSummary } from '../../../shared/layerStats';
import {
  ENGINE_LINE_PREFIX,
  ENGINE_PROTOCOL_VERSION,
  engineReplyLine,
  EngineMessageError,
  parseEngineMessage,
  type EngineEnd,
  type EngineMessage,
  type TorchJob,
} from '../../../shared/engineProtocol';
import { saveModel } from '../../core/modelIO';
import { CHECKPOINT_FILE, hasCheckpoint, RESUME_SLOTS } from '../../runs/checkpointSlots';
import type { EngineContext, EngineEvents, EngineOutcome, EngineSession, TrainingEngine } from '../../runs/engine';
import { BATCH_RECORDS_PER_EPOCH } from '../../runs/records';
import { TEMP_MARKER } from '../../files/atomicFiles';
import { HISTOGRAM_BINS, histogramOf } from '../../stats/histograms';
import { layerStats, modelSummary } from '../../stats';
import { createExperimentModel } from '../../train/experimentModel';
import { learningRateAt } from '../../train/schedule';
import { evalBatchSize, outputsProbabilities } from '../../train/step';
import { openTrainingData } from '../../train/trainingData';
import { runtimeVersions } from '../../train/versions';
import { checkTorchOptions, type TorchOptions } from '../types';
import { torchDataJob } from './dataJob';
import { layersRecordOf, torchLayerQuant } from './layersRecord';
import { ACTIVATION_OBSERVE_EPOCHS, ACTIVATION_RANGE_MOMENTUM } from '../../core/activationQuant';
import { findPython } from './python';
import { explainStderr, freePort, startTorchrun, torchrunArgs } from './torchrun';

/** The torch engine with these launch options. A node other than 0 (`nodeRank` > 0) keeps its job out of the run folder. */
export function torchEngine(options: TorchOptions): TrainingEngine {
  return { prepare: (ctx) => prepare(ctx, checkTorchOptions({ ...options })) };
}

async function prepare(ctx: EngineContext, torch: TorchOptions): Promise<EngineSession> {
  const { experiment, configPath, paths } = ctx;
  if (ctx.resumed && !hasCheckpoint(paths.dir, 'torch')) {
    throw new ConfigError(
      join(paths.checkpoints, 'last'),
      undefined,
      'holds no checkpoint (the run stopped before its first epoch ended); start a new run instead of resuming.',
    );
  }
  const python = await findPython(torch.python, torch.device);
  // Opened by our readers: the same checks and errors as a tfjs run.
  const { trainSet } = await openTrainingData(experiment, ctx.baseDir, configPath ?? paths.dir, (m) => ctx.log('warn', m));
  const worldSize = torch.nnodes * torch.nprocPerNode;
  if (experiment.train.batchSize % worldSize !== 0) {
    throw new ConfigError(
      configPath ?? paths.dir,
      `train.batchSize (experiment "${experiment.name}")`,
      `is ${experiment.train.batchSize}, not a multiple of the ${worldSize} processes (nnodes × nproc-per-node); each process takes batchSize / ${worldSize} examples of every batch.`,
    );
  }
  const model = await createExperimentModel(experiment, ctx.baseDir, trainSet.inputShape, configPath);
  const layers = layerStats(model);
  const sizes = modelSummary(model, layers);
  return {
    record: {
      backend: `torch-${torch.device}`,
      threads: 1,
      versions: { ...runtimeVersions(), torch: python.torch ?? '', python: python.python },
      engine: 'torch',
      device: torch.device,
      worldSize,
      nnodes: torch.nnodes,
      nprocPerNode: torch.nprocPerNode,
    },
    sizes,
    dispose: () => model.dispose(),
    train: (events) => launch(ctx, torch, python.path, model, { layers, sizes }, events),
  };
}

/** Writes the initial model and the job, runs torchrun to its end, and says how the training ended. */
async function launch(
  ctx: EngineContext,
  torch: TorchOptions,
  python: string,
  model: LayersModel,
  initial: { layers: LayerStats[]; sizes: ModelSummary },
  events: EngineEvents,
): Promise<EngineOutcome> {
  const { experiment, paths } = ctx;
  const workerNode = torch.nodeRank > 0;
  // Node 0 owns the run folder; the other nodes keep their job in a temporary folder.
  const jobDir = workerNode ? mkdtempSync(join(tmpdir(), 'tern-torch-')) : join(paths.dir, 'engine');
  const initDir = join(jobDir, 'init-model');
  await mkdir(jobDir, { recursive: true });
  if (!existsSync(join(initDir, 'model.json')))
    await saveModel(model, initDir, { runId: ctx.runId, experiment: experiment.name, initial: true });
  const cancelFile = join(jobDir, 'cancel');
  await rm(cancelFile, { force: true });
  const { train: recipe } = experiment;
  const job: TorchJob = {
    v: ENGINE_PROTOCOL_VERSION,
    runId: ctx.runId,
    runDir: paths.dir,
    initModel: join(initDir, 'model.json'),
    device: torch.device,
    cancelFile,
    outputsProbabilities: outputsProbabilities(model),
    experiment,
    layerQuant: torchLayerQuant(model),
    activationRanges: { observeEpochs: ACTIVATION_OBSERVE_EPOCHS, momentum: ACTIVATION_RANGE_MOMENTUM },
    evalBatchSize: evalBatchSize(recipe.batchSize),
    checkpoints: { dir: paths.checkpoints, file: CHECKPOINT_FILE.torch, slots: RESUME_SLOTS },
    modelDir: paths.model,
    tempMarker: TEMP_MARKER,
    learningRates: Array.from({ length: recipe.epochs }, (_, epoch) => learningRateAt(epoch, recipe.lr, recipe.schedule, recipe.gammas)),
    histogramBins: HISTOGRAM_BINS,
    batchRecordsPerEpoch: BATCH_RECORDS_PER_EPOCH,
    data: await torchDataJob(experiment.data, ctx.baseDir, jobDir),
  };
  const jobPath = join(jobDir, 'job.json');
  await writeFile(jobPath, JSON.stringify(job, null, 1) + '\n');

  // Every node must name the same rendezvous: the experiment, not this node's run id.
  const localPort = torch.nnodes === 1 && !torch.rdzvEndpoint ? await freePort() : undefined;
  const args = torchrunArgs(torch, jobPath, `tern-${experiment.name}`, localPort);
  events.log('info', `torch engine: ${python} ${args.join(' ')}`);

  let end: EngineEnd | undefined;
  let fatal: string | undefined;
  let broken: Error | undefined;
  let restart = 0;
  let epochInProgress = 1;
  // Messages are handled one after the other: a record is on disk before the next one is written.
  let handled: Promise<void> = Promise.resolve();
  const handle = async (message: EngineMessage): Promise<void> => {
    switch (message.type) {
      case 'started':
        restart = message.restart;
        epochInProgress = (message.resumed?.epoch ?? 0) + 1;
        return events.started({ stepsPerEpoch: message.stepsPerEpoch, resumed: message.resumed, restart });
      case 'batch':
        epochInProgress = message.record.epoch;
        events.alive();
        return events.batch(message.record);
      case 'epoch':
        await events.epoch({
          metrics: message.metrics,
          layers: layersRecordOf(message.layers.epoch, message.layers.layers, initial.layers, initial.sizes),
          histograms: {
            epoch: message.histograms.epoch,
            histograms: message.histograms.histograms.map((h) => histogramOf(h.layer, h, h.first)),
          },
        });
        torchrun.reply(engineReplyLine({ type: 'recorded', epoch: message.metrics.epoch, restart }));
        return;
      case 'checkpoint':
        return events.checkpoint(message.epoch);
      case 'log':
        return events.log(message.level, message.message);
      case 'ended':
        end = message.end;
        return;
      case 'fatal':
        fatal ??= message.message;
        return;
    }
  };
  const stop = (err: Error) => {
    broken ??= err;
    torchrun.signal('SIGKILL');
  };
  const torchrun = startTorchrun(
    python,
    args,
    (line) => {
      if (!line.startsWith(ENGINE_LINE_PREFIX)) {
        if (line.trim()) events.log('info', line);
        return;
      }
      let message: EngineMessage;
      try {
        message = parseEngineMessage(line.slice(ENGINE_LINE_PREFIX.length));
      } catch (err) {
        return stop(err as EngineMessageError);
      }
      handled = handled.then(() => handle(message)).catch(stop);
    },
    // torchrun's own notices (restarts, OMP threads) are useful in the log; tracebacks come at the end.
    (line) => {
      if (/torch\.distributed\.elastic|OMP_NUM_THREADS|WARNING|ERROR/.test(line)) events.log('warn', line);
    },
  );
  const onAbort = () => {
    void writeFile(cancelFile, 'cancel\n').finally(() => torchrun.signal('SIGTERM'));
  };
  if (ctx.signal?.aborted) onAbort();
  ctx.signal?.addEventListener('abort', onAbort);
  let exit: Awaited<typeof torchrun.exited>;
  try {
    exit = await torchrun.exited;
    await handled;
  } finally {
    ctx.signal?.removeEventListener('abort', onAbort);
    if (workerNode) await rm(jobDir, { recursive: true, force: true });
  }
  if (broken && !(broken instanceof EngineMessageError)) throw broken;
  if (broken) return { kind: 'failed', reason: `The torch engine broke the engine protocol (shared/engineProtocol.ts): ${broken.message}` };
  if (end?.status === 'completed') return { kind: 'completed' };
  if (end?.status === 'cancelled') return { kind: 'cancelled', epoch: end.epoch };
  if (end?.status === 'nonFinite')
    return {
      kind: 'nonFinite',
      loss: Number(end.loss),
      epoch: end.epoch,
      batch: end.batch,
      step: end.step,
      lr: job.learningRates[end.epoch - 1]!,
    };
  // Ranks of other nodes report nothing: their torchrun's exit status is their result.
  if (workerNode && exit.code === 0) return { kind: 'completed' };
  if (ctx.signal?.aborted) return { kind: 'cancelled', epoch: epochInProgress };
  const how = exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`;
  return {
    kind: 'failed',
    reason: fatal ?? `The torch engine stopped (${how}) before the run ended: ${explainStderr(torchrun.stderrTail())}`,
  };
}
