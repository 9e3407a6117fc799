/**
 * A node other than node 0 of a multi-node torch run (`--node-rank` > 0): it starts this
 * machine's ranks and waits for them. It holds no run folder (node 0's lifecycle does) and
 * reports nothing but how its ranks ended.
 */
import { dirname, resolve } from 'node:path';
import type { EngineEvents } from '../../runs/engine';
import { newRunIdentity, resumedRunIdentity, runPaths } from '../../runs/runFolder';
import { makeSummary } from '../../runs/runSummary';
import type { TrainOptions, TrainResult } from '../../runs/trainTypes';
import type { TorchOptions } from '../types';
import { torchEngine } from './torchEngine';

export async function trainWorkerNode(opts: TrainOptions, torch: TorchOptions): Promise<TrainResult> {
  const log = (level: 'info' | 'warn' | 'error', message: string) => opts.listener?.onLog?.(level, message);
  const run = opts.resumeDir
    ? await resumedRunIdentity(opts.resumeDir, opts.epochs)
    : await newRunIdentity(opts.experiment, opts.runsDir, opts.configPath, opts.epochs, (m) => log('warn', m));
  const configPath = run.configPath ?? (opts.configPath ? resolve(opts.configPath) : undefined);
  const session = await torchEngine(torch).prepare({
    experiment: run.experiment,
    configPath,
    baseDir: configPath ? dirname(configPath) : process.cwd(),
    paths: runPaths(run.runDir),
    runId: run.runId,
    signal: opts.signal,
    log,
  });
  const quiet: EngineEvents = {
    started: async () => undefined,
    batch: async () => undefined,
    epoch: async () => undefined,
    checkpoint: async () => undefined,
    log,
    alive: () => undefined,
    elapsed: () => 0,
  };
  try {
    const outcome = await session.train(quiet);
    const status = outcome.kind === 'completed' ? 'completed' : outcome.kind === 'cancelled' ? 'cancelled' : 'failed';
    const reason = outcome.kind === 'failed' ? outcome.reason : outcome.kind === 'cancelled' ? 'Cancelled.' : undefined;
    const { record } = session;
    const context = {
      runId: run.runId,
      experiment: run.experiment.name,
      backend: record.backend,
      sizes: session.sizes,
      engine: { engine: record.engine, device: record.device, worldSize: record.worldSize },
    };
    const done = { epoch: status === 'completed' ? run.experiment.train.epochs : 0, epochs: [] };
    return { runDir: run.runDir, summary: makeSummary(context, status, done, 0, reason) };
  } finally {
    session.dispose();
  }
}
