/**
 * Picks the engine of a run and starts it: the one thin switch between the tfjs trainer
 * (server/train/trainer.ts) and the torch launcher (server/engines/torch/launch.ts), used by
 * `tern train` and the training server alike. The engine is, in order: the caller's override
 * (--engine, the server's train params, the ternary.engine setting), the engine a resumed run was
 * started with (config.json), the experiment's "engine", tfjs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { train } from '../train/trainer';
import type { TrainOptions, TrainResult } from '../train/types';
import { trainWithTorch } from './torch/launch';
import { DEFAULT_TORCH_OPTIONS, type Engine, type TorchOptions } from './types';

export interface EngineTrainOptions extends TrainOptions {
  engine?: Engine;
  torch?: Partial<TorchOptions>;
}

/** The engine a run will use (see the module comment for the order). */
export function engineOf(opts: Pick<EngineTrainOptions, 'engine' | 'resumeDir' | 'experiment'>): Engine {
  if (opts.resumeDir) {
    const record = join(resolve(opts.resumeDir), 'config.json');
    if (existsSync(record)) {
      try {
        // A run continues on the engine it started on: checkpoints are in that engine's format.
        return (JSON.parse(readFileSync(record, 'utf8')) as { engine?: Engine }).engine ?? 'tfjs';
      } catch {
        // The trainer reports an unreadable config.json itself.
      }
    }
  }
  return opts.engine ?? opts.experiment?.engine ?? 'tfjs';
}

/** device, processes per node and nodes of the run being resumed (its config.json). */
function resumedTorchOptions(resumeDir: string | undefined): Partial<TorchOptions> {
  if (!resumeDir) return {};
  try {
    const r = JSON.parse(readFileSync(join(resolve(resumeDir), 'config.json'), 'utf8')) as {
      device?: 'cpu' | 'cuda';
      nprocPerNode?: number;
      nnodes?: number;
    };
    // A multi-node run resumes on one node unless told otherwise (the other nodes must be started again anyway).
    return { ...(r.device ? { device: r.device } : {}), ...(r.nprocPerNode ? { nprocPerNode: r.nprocPerNode } : {}) };
  } catch {
    return {};
  }
}

export function trainWithEngine(opts: EngineTrainOptions): Promise<TrainResult> {
  const { engine: _engine, torch, ...common } = opts;
  if (engineOf(opts) === 'torch') {
    // Options the caller left undefined: a resumed run's own (config.json), else the defaults.
    const given = Object.fromEntries(Object.entries(torch ?? {}).filter(([, v]) => v !== undefined)) as Partial<TorchOptions>;
    return trainWithTorch({ ...common, torch: { ...DEFAULT_TORCH_OPTIONS, ...resumedTorchOptions(opts.resumeDir), ...given } });
  }
  return train(common);
}
