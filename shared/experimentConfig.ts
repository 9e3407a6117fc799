/**
 * Experiment configuration, as written in `*.tern.json` files (docs/configs.md) after defaults are
 * applied. The JSON Schema in `server/config/tern.schema.json` is the contract for the file; these
 * types are what the rest of the code sees once a config is loaded and validated.
 */

/** How weights are ternarized (docs/method.md). */
export interface QuantConfig {
  /** `he2019`: Δ = f·max|W|, α = mean|W| over |W| ≥ Δ. `twn`: Δ = 0.7·mean|W|, α over |W| > Δ. `none`: float model. */
  method: 'he2019' | 'twn' | 'none';
  /** f in Δ = f·max|W| (he2019, t_ex = 1). Default 0.05. */
  thresholdFactor: number;
  /** Residual expansion: number of ternary branches (1, 2 or 4); factors 0.05, 0.1, 0.15, 0.2. */
  tex: 1 | 2 | 4;
  /** `ternary` (default): every conv/dense layer ternary; `float`: keep first and last layers full precision. */
  firstLast: 'ternary' | 'float';
}

export interface ModelConfig {
  /** A model of the zoo (`resnet20`, `fmnist-cnn`, …); exclusive with `from`. */
  arch?: string;
  /** A float tfjs LayersModel (`model.json`) to fine-tune as its ternary twin; relative to the config file. */
  from?: string;
  /** Number of classes (zoo models). */
  classes: number;
}

export type DataFormat = 'idx' | 'cifar10-bin' | 'cifar100-bin' | 'image-folder';

export interface DataConfig {
  format: DataFormat;
  /** Folder (or file prefix) of the data; relative to the config file. */
  path: string;
  /** Use at most this many training / test examples (in file order). */
  limitTrain?: number;
  limitTest?: number;
  /** Augmentations in order, e.g. `crop32pad4`, `hflip`, `rrc224`, `resize256center224`. */
  augment: string[];
  /** A named preset (`cifar10`, `fmnist`, `imagenet`) or explicit per-channel mean/std. */
  normalize?: string | { mean: number[]; std: number[] };
  /** Image size fed to the network for image folders [height, width]. */
  imageSize?: [number, number];
}

export interface TrainConfig {
  epochs: number;
  batchSize: number;
  optimizer: 'sgd' | 'adam';
  lr: number;
  momentum: number;
  nesterov: boolean;
  /** L2 weight decay in PyTorch's form (added to the gradient). */
  weightDecay: number;
  /** Epochs at which the learning rate is multiplied by the matching entry of `gammas`. */
  schedule: number[];
  gammas: number[];
  seed: number;
}

export interface ExperimentConfig {
  name: string;
  model: ModelConfig;
  quant: QuantConfig;
  data: DataConfig;
  train: TrainConfig;
}
