/**
 * The model zoo: `buildModel({arch, classes, quant, …})` for every architecture the configs can
 * name. Outputs are logits (no softmax): the trainer applies softmax cross-entropy.
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { QuantConfig } from '../../shared/experimentConfig';
import { LayerFactory } from './builders';
import { initializeKaiming } from './init';
import { buildCifarResnet, CIFAR_RESNET_DEPTHS } from './resnetCifar';
import { buildImagenetResnet, IMAGENET_RESNET_BLOCKS } from './resnetImagenet';
import { buildAlexnet, buildFmnistCnn, buildLenet5 } from './smallNets';

export interface BuildModelOptions {
  /** A zoo name: see `ARCHITECTURES`. */
  arch: string;
  classes: number;
  /** [height, width, channels]; defaults per architecture (`ARCHITECTURES[arch].inputShape`). */
  inputShape?: number[];
  quant: QuantConfig;
  /** Seed of the Kaiming-normal initialization; same seed, same weights. Random when omitted. */
  seed?: number;
}

export interface ArchitectureInfo {
  /** Default input [height, width, channels]. */
  inputShape: number[];
  description: string;
}

const CIFAR = [32, 32, 3];
const IMAGENET = [224, 224, 3];
const GRAY28 = [28, 28, 1];

export const ARCHITECTURES: Record<string, ArchitectureInfo> = {
  resnet20: { inputShape: CIFAR, description: 'CIFAR ResNet-20 (option-A shortcuts), ≈ 0.27 M parameters' },
  resnet32: { inputShape: CIFAR, description: 'CIFAR ResNet-32 (option-A shortcuts), ≈ 0.46 M parameters' },
  resnet44: { inputShape: CIFAR, description: 'CIFAR ResNet-44 (option-A shortcuts), ≈ 0.66 M parameters' },
  resnet56: { inputShape: CIFAR, description: 'CIFAR ResNet-56 (option-A shortcuts), ≈ 0.85 M parameters' },
  resnet18: { inputShape: IMAGENET, description: 'ImageNet ResNet-18, ≈ 11.7 M parameters' },
  resnet34: { inputShape: IMAGENET, description: 'ImageNet ResNet-34, ≈ 21.8 M parameters' },
  alexnet: { inputShape: IMAGENET, description: 'AlexNet with BatchNorm, ≈ 61 M parameters (1000 classes)' },
  lenet5: { inputShape: GRAY28, description: 'Classic LeNet-5 (tanh, average pooling), ≈ 61.7 K parameters' },
  'fmnist-cnn': { inputShape: GRAY28, description: 'Two-conv CNN for Fashion-MNIST with BatchNorm, ≈ 0.42 M parameters' },
};

function checkOptions(options: BuildModelOptions): number[] {
  const info = ARCHITECTURES[options.arch];
  if (!info) {
    throw new Error(`Unknown architecture '${options.arch}'. Available: ${Object.keys(ARCHITECTURES).join(', ')}.`);
  }
  if (!Number.isInteger(options.classes) || options.classes < 1) {
    throw new Error(`classes must be a positive integer (got ${options.classes}).`);
  }
  const inputShape = options.inputShape ?? info.inputShape;
  if (inputShape.length !== 3 || !inputShape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new Error(`inputShape must be [height, width, channels] of positive integers (got ${JSON.stringify(inputShape)}).`);
  }
  return inputShape;
}

/** Builds a zoo model, ternary or float according to `quant`, with seeded Kaiming-normal kernels. */
export function buildModel(options: BuildModelOptions): LayersModel {
  const inputShape = checkOptions(options);
  const f = new LayerFactory(options.quant);
  const { arch, classes } = options;
  let built: LayersModel;
  if (arch in CIFAR_RESNET_DEPTHS) built = buildCifarResnet(f, CIFAR_RESNET_DEPTHS[arch], classes, inputShape);
  else if (arch in IMAGENET_RESNET_BLOCKS) built = buildImagenetResnet(f, IMAGENET_RESNET_BLOCKS[arch], arch, classes, inputShape);
  else if (arch === 'alexnet') built = buildAlexnet(f, classes, inputShape);
  else if (arch === 'lenet5') built = buildLenet5(f, classes, inputShape);
  else built = buildFmnistCnn(f, classes, inputShape);
  initializeKaiming(built, options.seed ?? Math.floor(Math.random() * 2 ** 31));
  return built;
}
