/**
 * The real `Jobs`: the same functions the `tern` CLI calls (trainer, stats, ternarize, export,
 * run folders), on the backend chosen at `initialize`. What they throw for a user's mistake is a
 * UserError (shared/userError.ts), mapped to a protocol error by its code in `errors.ts`.
 */
import { planSweep } from '../runs/sweep';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { initBackend, type BackendChoice } from '../backends/ladder';
import { loadConfigFile, resolveExperiment } from '../config/loadConfig';
import { loadModel, resolveModelJsonPath, saveModel, savedModelFiles } from '../core/modelIO';
import { exportModelTarget, exportRun, ParityError } from '../export';
import { convertToTernary } from '../models';
import { defaultRunsDir, listRuns, readRunHistory } from '../runs';
import { layerStats, modelSummary, weightHistograms } from '../stats';
import { evaluateTarget } from '../train/evaluate';
import { runtimeVersions } from '../train/versions';
import { TernaryErrorCodes, type StatsResult } from '../../shared/protocol';
import { parseTernaryQuant } from '../../shared/quant';
import { prepareOutputFolder, refuseSourceFolder } from '../core/outputFolder';
import { trainDetached } from './detachedTrain';
import { JobError, notFound } from './errors';
import type { Jobs } from './jobs';
import { configDiagnostics } from '../config/configDiagnostics';
import { isUserError } from '../../shared/userError';

/** A run folder's final model, or a model.json (or a folder holding one): core/modelIO.ts finds it. */
async function loadTarget(target: string): Promise<LayersModel> {
  if (!existsSync(target)) throw notFound('Model or run folder', target);
  return loadModel(target);
}

function statsOf(model: LayersModel): StatsResult {
  return { layers: layerStats(model), summary: modelSummary(model), histograms: weightHistograms(model) };
}

/**
 * tfjs-layers caches the topological order of every graph it has executed (an LRU of 100 entries
 * keyed by tensor names) and so keeps the JS objects of finished models alive: ≈ 17 variables and
 * their layers per run of the tiny test model, found with a heap-snapshot diff. Harmless in a
 * one-shot CLI; a server that runs job after job empties it after each one.
 */
function releaseGraphCaches(): void {
  const flag = 'TOPOLOGICAL_SORT_CACHE_MAX_ENTRIES';
  try {
    const size = tf.env().getNumber(flag);
    tf.env().set(flag, 0); // its set-hook evicts every entry
    tf.env().set(flag, size);
  } catch {
    // tfjs-layers not loaded yet: nothing cached.
  }
}

/** Runs a job, then lets go of what tfjs cached for it. */
async function releasingCaches<T>(job: () => Promise<T>): Promise<T> {
  try {
    return await job();
  } finally {
    releaseGraphCaches();
  }
}

/** Checked between the steps of short jobs: they are not worth interrupting mid-way. */
function throwIfCancelled(signal: AbortSignal): void {
  if (signal.aborted) throw new JobError(-32800, 'Cancelled.');
}

export function realJobs(): Jobs {
  let backend: { name: string; threads: number } | undefined;
  return {
    async initialize(options) {
      // 0 threads means "all cores", which is initBackend's default.
      const info = await initBackend({ backend: (options.backend ?? 'auto') as BackendChoice, threads: options.threads || undefined });
      backend = { name: info.name, threads: info.threads };
      return { backend: info.name, threads: info.threads, versions: runtimeVersions() };
    },

    // A process of its own, which outlives this server (detachedTrain.ts).
    train: (params, listener, signal) =>
      trainDetached(params, params.runsDir ?? defaultRunsDir(params.configPath), backend, listener, signal),

    async evaluate(params, signal) {
      if (!existsSync(params.target)) throw notFound('Model or run folder', params.target);
      const config = await loadConfigFile(params.configPath);
      const experiment = resolveExperiment(config, params.experiment);
      // The same evaluation as `tern eval`.
      const { loss, top1, top5, examples } = await releasingCaches(() =>
        evaluateTarget(params.target, experiment, params.configPath, signal),
      );
      throwIfCancelled(signal);
      return { loss, top1, top5, examples };
    },

    ternarize: (params, signal) =>
      releasingCaches(async () => {
        // The same settings, defaults and checks as `tern ternarize` (params.ts has refused bad values).
        const quant = parseTernaryQuant(params);
        if (existsSync(params.modelPath)) await refuseSourceFolder(await resolveModelJsonPath(params.modelPath), params.outDir, 'outDir');
        const float = await loadTarget(params.modelPath);
        let twin: LayersModel | undefined;
        try {
          await prepareOutputFolder(params.outDir, 'the ternary model (outDir)');
          const ternary: LayersModel = await convertToTernary(float, quant);
          twin = ternary;
          throwIfCancelled(signal);
          await saveModel(ternary, params.outDir, { ternarizedFrom: params.modelPath, quant });
          return { outDir: params.outDir, files: await savedModelFiles(params.outDir), ...statsOf(ternary) };
        } finally {
          if (twin && twin !== float) twin.dispose();
          float.dispose();
        }
      }),

    stats: (params) =>
      releasingCaches(async () => {
        const model = await loadTarget(params.target);
        try {
          return statsOf(model);
        } finally {
          model.dispose();
        }
      }),

    export: (params, _signal, report) =>
      releasingCaches(async () => {
        const target = params.runDir ?? params.modelPath!;
        if (!existsSync(target)) throw notFound(params.runDir ? 'Run folder' : 'Model', target);
        const options = {
          parity: params.parity,
          samples: params.samples,
          activations: params.activations,
          calibration: params.calibration,
          onProgress: report,
        };
        try {
          return params.runDir
            ? await exportRun(params.runDir, params.outDir, options)
            : await exportModelTarget(target, params.outDir, options);
        } catch (err) {
          // ExportFailed (shared/userError.ts `exportFailed`) with the folder and, for parity, the figures.
          if (isUserError(err) && err.code === 'exportFailed') {
            throw new JobError(TernaryErrorCodes.ExportFailed, err.message, {
              outDir: params.outDir,
              ...(err instanceof ParityError ? { model: err.summary } : {}),
            });
          }
          throw err;
        }
      }),

    listRuns: (params) => listRuns(params.runsDirs),
    sweepPlan: async (params) => {
      const experiment = resolveExperiment(await loadConfigFile(params.configPath), params.experiment);
      return planSweep(experiment, params.runsDir ?? defaultRunsDir(params.configPath));
    },

    validateConfig: (params) => configDiagnostics(params.path, params.text),

    async runHistory(params) {
      if (!existsSync(join(params.runDir, 'config.json'))) throw notFound('Run folder (with config.json)', params.runDir);
      return readRunHistory(params.runDir, { histograms: params.histograms });
    },

    memory() {
      const { numTensors, numBytes } = tf.memory();
      return { numTensors, numBytes };
    },
  };
}
