/** The model an experiment trains: a zoo model from scratch, or the ternary twin of a float model. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { ConfigError } from '../config/loadConfig';
import type { ExperimentConfig } from '../../shared/experimentConfig';
import { loadModel } from '../models/loadModel';
import { buildModel, convertToTernary } from '../models';

export async function createExperimentModel(
  experiment: ExperimentConfig,
  baseDir: string,
  inputShape: [number, number, number],
  configPath: string | undefined,
): Promise<LayersModel> {
  const { model, quant, train } = experiment;
  if (model.from !== undefined) {
    const path = resolve(baseDir, model.from);
    if (!existsSync(path)) {
      throw new ConfigError(
        configPath ?? path,
        `model.from (experiment "${experiment.name}")`,
        `${path} does not exist; point "from" at a float tfjs model.json or an .onnx CNN.`,
      );
    }
    const float = await loadModel(path);
    // A model exported elsewhere (an .onnx from PyTorch) often expects another image size than the
    // data has: say so here, not as a tensor-size error inside the first training step.
    const takes = float.inputs[0]!.shape.slice(1);
    if (takes.length !== 3 || takes.some((d, i) => d !== null && d !== inputShape[i])) {
      float.dispose();
      throw new ConfigError(
        configPath ?? path,
        `model.from (experiment "${experiment.name}")`,
        `${path} takes inputs of ${takes.map((d) => d ?? '?').join('×')} (H×W×C) but the data's images are ${inputShape.join('×')}; ` +
          'resize the data (data.imageSize for image folders) or use a model made for this size.',
      );
    }
    if (quant.method === 'none') return float;
    const twin = await convertToTernary(float, quant);
    if (twin !== float) float.dispose();
    return twin;
  }
  return buildModel({ arch: model.arch!, classes: model.classes, inputShape, quant, seed: train.seed });
}
