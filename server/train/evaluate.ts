/** Evaluation of a trained model (a run's final model or any model.json) on an experiment's test data. */
import { dirname, resolve } from 'node:path';
import { loadModel, resolveModelJsonPath } from '../models/loadModel';
import type { ExperimentConfig } from '../../shared/experimentConfig';
import { openDataset } from '../data/open';
import { ConfigError } from '../config/loadConfig';
import { evalBatchSize, evaluateModel } from './step';

export interface EvaluationResult {
  loss: number;
  top1: number;
  top5: number;
  examples: number;
  modelPath: string;
}

/** Loss, top-1 and top-5 of the target's model on the test split of `experiment`'s data. */
export async function evaluateTarget(
  target: string,
  experiment: ExperimentConfig,
  configPath: string,
  signal?: AbortSignal,
): Promise<EvaluationResult> {
  const modelPath = await resolveModelJsonPath(resolve(target));
  const data = await openDataset(experiment.data, 'test', dirname(resolve(configPath)));
  const model = await loadModel(modelPath);
  try {
    const classes = model.outputs[0]!.shape[model.outputs[0]!.shape.length - 1] as number;
    checkDataFitsModel(model.inputs[0]!.shape.slice(1) as number[], classes, data.inputShape, data.numClasses, {
      modelPath,
      configPath,
      experiment: experiment.name,
    });
    const result = await evaluateModel(model, data, evalBatchSize(experiment.train.batchSize), classes, signal);
    return { ...result, modelPath };
  } finally {
    model.dispose();
  }
}

/**
 * The test data must be what the model was trained on: images of its input shape, labels below
 * its class count. Otherwise tfjs fails deep inside with a shape error (or, for labels, scores
 * them as misses).
 */
export function checkDataFitsModel(
  modelInput: number[],
  modelClasses: number,
  dataShape: [number, number, number],
  dataClasses: number,
  where: { modelPath: string; configPath: string; experiment: string },
): void {
  const property = `data (experiment "${where.experiment}")`;
  const fix = `evaluate with the config the model was trained with (a run records it in its config.json's configPath).`;
  const fixed = modelInput.every((d) => typeof d === 'number' && d > 0);
  if (fixed && modelInput.join('×') !== dataShape.join('×')) {
    throw new ConfigError(
      where.configPath,
      property,
      `gives ${dataShape.join('×')} images (height×width×channels) but ${where.modelPath} takes ${modelInput.join('×')}; ${fix}`,
    );
  }
  if (modelInput[2] !== undefined && modelInput[2] > 0 && modelInput[2] !== dataShape[2]) {
    throw new ConfigError(
      where.configPath,
      property,
      `gives images with ${dataShape[2]} channel(s) but ${where.modelPath} takes ${modelInput[2]}; ${fix}`,
    );
  }
  if (dataClasses > modelClasses) {
    throw new ConfigError(
      where.configPath,
      property,
      `has labels up to ${dataClasses - 1} but ${where.modelPath} has ${modelClasses} classes; ${fix}`,
    );
  }
}
