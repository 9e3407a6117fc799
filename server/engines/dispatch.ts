/**
 * Trains a run on its engine: picks the engine and hands it to the one run lifecycle
 * (server/runs/lifecycle.ts), for `tern train` and the training server alike. The engine is, in
 * order: the caller's override (--engine, the server's train params, the ternary.engine setting),
 * the engine a resumed run was started with (config.json), the experiment's "engine", tfjs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { train } from '../runs/lifecycle';
import type { TrainOptions, TrainResult } from '../runs/trainTypes';
import { tfjsEngine } from './tfjs/tfjsEngine';
import { torchEngine } from './torch/torchEngine';
import { trainWorkerNode } from './torch/workerNode';
import { DEFAULT_TORCH_OPTIONS, type Engine, type TorchOptions } from './types';

export interface EngineTrainOptions extends TrainOptions {
  engine?: Engine;
  torch?: Partial<TorchOptions>;
}

/** A resumed run's config.json, or undefined when it is missing or unreadable (the lifecycle reports that). */
function resumedRecord(resumeDir: string | undefined): { engine?: Engine; device?: 'cpu' | 'cuda'; nprocPerNode?: number } | undefined {
  if (!resumeDir) return undefined;
  const path = join(resolve(resumeDir), 'config.json');
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as { engine?: Engine };
  } catch {
    return undefined;
  }
}

/** The engine a run will use (see the module comment for the order). */
export function engineOf(opts: Pick<EngineTrainOptions, 'engine' | 'resumeDir' | 'experiment'>): Engine {
  // A run continues on the engine it started on: checkpoints are in that engine's format.
  const record = resumedRecord(opts.resumeDir);
  if (record) return record.engine ?? 'tfjs';
  return opts.engine ?? opts.experiment?.engine ?? 'tfjs';
}

export function trainWithEngine(opts: EngineTrainOptions): Promise<TrainResult> {
  const { engine: _engine, torch, ...common } = opts;
  if (engineOf(opts) !== 'torch') return train(common, tfjsEngine(opts.backend));
  // Options the caller left undefined: a resumed run's own (config.json), else the defaults. A
  // multi-node run resumes on one node unless told otherwise (the other nodes must be started again anyway).
  const record = resumedRecord(opts.resumeDir);
  const resumed: Partial<TorchOptions> = {
    ...(record?.device ? { device: record.device } : {}),
    ...(record?.nprocPerNode ? { nprocPerNode: record.nprocPerNode } : {}),
  };
  const given = Object.fromEntries(Object.entries(torch ?? {}).filter(([, v]) => v !== undefined)) as Partial<TorchOptions>;
  const options: TorchOptions = { ...DEFAULT_TORCH_OPTIONS, ...resumed, ...given };
  return options.nodeRank > 0 ? trainWorkerNode(common, options) : train(common, torchEngine(options));
}
