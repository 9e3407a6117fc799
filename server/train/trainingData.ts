/**
 * The two splits a run trains and validates on, with the checks that keep a run from giving a
 * silent wrong result: labels within `model.classes` (test labels out of range would be scored as
 * misses), no empty split (an epoch of nothing "completes" with loss 0), and a warning for
 * single-class training data (100 % on it says nothing).
 */
import { ConfigError } from '../config/loadConfig';
import type { ExperimentConfig } from '../../shared/experimentConfig';
import type { Dataset } from '../data/dataset';
import { openDataset } from '../data/open';
import { DataError } from '../data/errors';

export async function openTrainingData(
  experiment: ExperimentConfig,
  baseDir: string,
  /** The file blamed for config mistakes (the config, else the run folder). */
  configFile: string,
  warn: (message: string) => void,
): Promise<{ trainSet: Dataset; testSet: Dataset }> {
  const trainSet = await openDataset(experiment.data, 'train', baseDir);
  const testSet = await openDataset(experiment.data, 'test', baseDir);
  const classes = experiment.model.classes;
  const property = `model.classes (experiment "${experiment.name}")`;
  if (trainSet.numClasses > classes) {
    throw new ConfigError(
      configFile,
      property,
      `is ${classes} but the training data has labels up to ${trainSet.numClasses - 1}; set "classes" to at least ${trainSet.numClasses}.`,
    );
  }
  for (const set of [trainSet, testSet]) {
    if (set.size === 0) {
      throw new DataError(
        `${set.source}: the ${set.split === 'train' ? 'training' : 'test'} split holds no images; check data.path (experiment "${experiment.name}") and the files in it.`,
        set.source,
      );
    }
  }
  if ((trainSet.classNames?.length ?? trainSet.numClasses) === 1) {
    warn(
      `${trainSet.source}: the training data has a single class${trainSet.classNames ? ` (${trainSet.classNames[0]})` : ''}; the model will learn to answer it always (100 % on such data says nothing). Add the other classes.`,
    );
  }
  if (testSet.numClasses > classes) {
    throw new ConfigError(
      configFile,
      property,
      `is ${classes} but the test data has labels up to ${testSet.numClasses - 1}; fix the test labels (data.path: ${experiment.data.path}) or set "classes" to at least ${testSet.numClasses}.`,
    );
  }
  return { trainSet, testSet };
}
