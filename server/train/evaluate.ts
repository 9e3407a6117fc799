/** Evaluation of a trained model (a run's final model or any model.json) on an experiment's test data. */
import { dirname, resolve } from 'node:path';
import { loadModel, resolveModelJsonPath } from '../core/modelIO';
import type { ExperimentConfig } from '../../shared/experimentConfig';
import { openDataset } from '../data/open';
import { evaluateModel } from './step';

export interface EvaluationResult {
  loss: number;
  top1: number;
  top5: number;
  examples: number;
  modelPath: string;
}

/** Loss, top-1 and top-5 of the target's model on the test split of `experiment`'s data. */
export async function evaluateTarget(target: string, experiment: ExperimentConfig, configPath: string, signal?: AbortSignal): Promise<EvaluationResult> {
  const modelPath = await resolveModelJsonPath(resolve(target));
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
