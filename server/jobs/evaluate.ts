/** Evaluation of a run's model or a model file on an experiment's test data: `tern eval` and `ternary/evaluate`. */
import { resolve } from 'node:path';
import { loadConfigFile, resolveExperiment } from '../config/loadConfig';
import { evaluateTarget, type EvaluationResult } from '../train/evaluate';
import { throwIfCancelled } from './cancel';

export interface EvaluateJob {
  /** A run folder, a model.json (or its folder), a model.tern or an .onnx file. */
  target: string;
  /** The config giving the test data. */
  configPath: string;
  /** Needed when the config holds several experiments. */
  experiment?: string;
  signal?: AbortSignal;
}

/** Loss, top-1 and top-5, the model file evaluated and the experiment whose data was used. */
export async function evaluate(job: EvaluateJob): Promise<EvaluationResult & { experiment: string }> {
  const configPath = resolve(job.configPath);
  const experiment = resolveExperiment(await loadConfigFile(configPath), job.experiment);
  const result = await evaluateTarget(resolve(job.target), experiment, configPath, job.signal);
  throwIfCancelled(job.signal);
  return { ...result, experiment: experiment.name };
}
