/**
 * The real `Jobs`: the same functions the `tern` CLI calls (trainer, stats, ternarize, export,
 * run folders: server/jobs/), on the backend chosen at `initialize`. What they throw for a user's
 * mistake is a UserError (shared/userError.ts), mapped to a protocol error by its code in `errors.ts`.
 */
import { planSweep } from '../runs/sweep';
import { loadConfigFile, resolveExperiment } from '../config/loadConfig';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendChoice } from '../backends/ladder';
import { defaultRunsDir, listRuns, readRunHistory } from '../runs';
import { runtimeVersions } from '../train/versions';
import { parseTernaryQuant } from '../../shared/quant';
import { trainDetached } from './detachedTrain';
import type { Jobs } from './jobs';
import { configDiagnostics } from '../config/configDiagnostics';
import { evaluate } from '../jobs/evaluate';
import { ternarizeModel } from '../jobs/ternarize';
import { statsOfModelFile } from '../jobs/stats';
import { exportTarget } from '../jobs/export';
import { notFound } from '../jobs/errors';

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
      const { loss, top1, top5, examples } = await releasingCaches(() => evaluate({ ...params, signal }));
      return { loss, top1, top5, examples };
    },

    ternarize: (params, signal) =>
      releasingCaches(async () => {
        // The same settings, defaults and checks as `tern ternarize` (params.ts has refused bad values).
        const { outDir, files, layers, summary, histograms } = await ternarizeModel({
          modelPath: params.modelPath,
          outDir: params.outDir,
          quant: parseTernaryQuant(params),
          outOption: 'outDir',
          signal,
        });
        return { outDir, files, layers, summary, histograms };
      }),

    stats: (params) => releasingCaches(() => statsOfModelFile(params.target)),

    export: (params, signal, report) =>
      releasingCaches(() =>
        exportTarget({
          target: params.runDir ?? params.modelPath!,
          asRun: params.runDir !== undefined,
          outDir: params.outDir,
          parity: params.parity,
          samples: params.samples,
          activations: params.activations,
          calibration: params.calibration,
          onProgress: report,
          signal,
        }),
      ),

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
