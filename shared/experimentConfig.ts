/**
 * Experiment configuration, as written in `*.tern.json` files (docs/configs.md) after defaults are
 * applied. The JSON Schema in `shared/tern.schema.json` is the contract for the file; these
 * types are what the rest of the code sees once a config is loaded and validated.
 */

import type { QuantConfig } from './quant';
import type { SweepSpec } from './sweep';

export type { FloatQuant, QuantConfig, TernaryMethod, TernaryQuant } from './quant';

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
  /** Torch engine: DataLoader workers per training process; absent: automatic (engines/torch/ternary_torch/data.py). */
  workers?: number;
}

export interface ExperimentConfig {
  name: string;
  /** Where it trains: `tfjs` (default; in this process) or `torch` (PyTorch DDP under torchrun; server/engines/torch/). */
  engine?: 'tfjs' | 'torch';
  model: ModelConfig;
  quant: QuantConfig;
  data: DataConfig;
  train: TrainConfig;
  /** A grid of settings trained one after another (shared/sweep.ts); absent: a single run. */
  sweep?: SweepSpec;
}
