/** Evaluation of a trained model (a run's final model or any model.json) on an experiment's test data. */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { loadModel } from '../core/modelIO';
import type { ExperimentConfig } from '../../shared/experimentConfig';
import { openDataset } from '../data/dataset';
import { ConfigError } from '../config/loadConfig';
import { evaluateModel } from './step';

export interface EvaluationResult {
  loss: number;
  top1: number;
  top5: number;
  examples: number;
  modelPath: string;
}

/** The model.json of a target: a run folder (its model/), a model folder, or a model.json itself. */
export function modelJsonOf(target: string): string {
  const abs = resolve(target);
  for (const candidate of [join(abs, 'model', 'model.json'), join(abs, 'model.json'), abs]) {
    if (candidate.endsWith('.json') && existsSync(candidate)) return candidate;
  }
  const hint = existsSync(join(abs, 'config.json'))
    ? 'the run has no final model yet (it saves model/ when it completes); finish or resume it first.'
    : 'pass a run folder (runs/<experiment>/<run-id>) or a model.json.';
  throw new ConfigError(abs, undefined, `has no model.json: ${hint}`);
}

/** Loss, top-1 and top-5 of the target's model on the test split of `experiment`'s data. */
export async function evaluateTarget(target: string, experiment: ExperimentConfig, configPath: string, signal?: AbortSignal): Promise<EvaluationResult> {
  const modelPath = modelJsonOf(target);
  const data = await openDataset(experiment.data, 'test', dirname(resolve(configPath)));
  const model = await loadModel(modelPath);
  try {
    const classes = model.outputs[0]!.shape[model.outputs[0]!.shape.length - 1] as number;
    const result = await evaluateModel(model, data, Math.max(experiment.train.batchSize, 256), classes, signal);
    return { ...result, modelPath };
  } finally {
    model.dispose();
  }
}
