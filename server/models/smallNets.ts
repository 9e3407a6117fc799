/** The small zoo models: the Fashion-MNIST CNN of the demo, classic LeNet-5, and AlexNet. */
import { input, layers, model, type LayersModel, type SymbolicTensor } from '@tensorflow/tfjs-layers';
import type { LayerFactory } from './builders';

/**
 * conv3×3×32 'same' → BN → ReLU → maxpool2 → conv3×3×64 'same' → BN → ReLU → maxpool2 → flatten →
 * dense128 → BN → ReLU → dense(classes). Layers followed by BN have no bias (BN's β is one).
 */
export function buildFmnistCnn(f: LayerFactory, classes: number, inputShape: number[]): LayersModel {
  const inp = input({ shape: inputShape, name: 'input' });
  let x = f.convBn(inp, { name: 'conv1', filters: 32, kernelSize: 3, position: 'first' }, true);
  x = layers.maxPooling2d({ name: 'pool1', poolSize: 2 }).apply(x) as SymbolicTensor;
  x = f.convBn(x, { name: 'conv2', filters: 64, kernelSize: 3 }, true);
  x = layers.maxPooling2d({ name: 'pool2', poolSize: 2 }).apply(x) as SymbolicTensor;
  x = layers.flatten({ name: 'flatten' }).apply(x) as SymbolicTensor;
  x = f.dense(x, { name: 'fc1', units: 128, useBias: false });
  x = f.relu(f.batchNorm(x, 'fc1_bn'), 'fc1_relu');
  const logits = f.dense(x, { name: 'fc2', units: classes, position: 'last' });
  return model({ inputs: inp, outputs: logits, name: 'fmnist_cnn' });
}

/**
 * Classic LeNet-5 (LeCun et al. 1998) on 28×28 inputs: C1 5×5×6 'same' (the 2-pixel padding that
 * turns 28×28 into the original 32×32 geometry), tanh, 2×2 average pool, C3 5×5×16, tanh, pool,
 * C5 as dense 120, F6 dense 84 (tanh), output dense(classes). ≈ 61.7 K parameters.
 */
export function buildLenet5(f: LayerFactory, classes: number, inputShape: number[]): LayersModel {
  const inp = input({ shape: inputShape, name: 'input' });
  let x = f.conv(inp, { name: 'c1', filters: 6, kernelSize: 5, padding: 'same', useBias: true, activation: 'tanh', position: 'first' });
  x = layers.averagePooling2d({ name: 's2', poolSize: 2 }).apply(x) as SymbolicTensor;
  x = f.conv(x, { name: 'c3', filters: 16, kernelSize: 5, padding: 'valid', useBias: true, activation: 'tanh' });
  x = layers.averagePooling2d({ name: 's4', poolSize: 2 }).apply(x) as SymbolicTensor;
  x = layers.flatten({ name: 'flatten' }).apply(x) as SymbolicTensor;
  x = f.dense(x, { name: 'c5', units: 120, activation: 'tanh' });
  x = f.dense(x, { name: 'f6', units: 84, activation: 'tanh' });
  const logits = f.dense(x, { name: 'output', units: classes, position: 'last' });
  return model({ inputs: inp, outputs: logits, name: 'lenet5' });
}

/**
 * AlexNet (Krizhevsky et al. 2012, torchvision's single-tower layout) with BatchNorm after every
 * conv and hidden dense layer, as ternary AlexNets use: 224×224×3 → 11×11/4 (pad 2) 64 → pool →
 * 5×5 192 → pool → 3×3 384 → 3×3 256 → 3×3 256 → pool → 6×6×256 → 4096 → 4096 → classes.
 */
export function buildAlexnet(f: LayerFactory, classes: number, inputShape: number[]): LayersModel {
  const inp = input({ shape: inputShape, name: 'input' });
  const pool = (x: SymbolicTensor, name: string): SymbolicTensor =>
    layers.maxPooling2d({ name, poolSize: 3, strides: 2, padding: 'valid' }).apply(x) as SymbolicTensor;
  let x = layers.zeroPadding2d({ name: 'pad1', padding: 2 }).apply(inp) as SymbolicTensor;
  x = f.convBn(x, { name: 'conv1', filters: 64, kernelSize: 11, strides: 4, padding: 'valid', position: 'first' }, true);
  x = pool(x, 'pool1');
  x = f.convBn(x, { name: 'conv2', filters: 192, kernelSize: 5 }, true);
  x = pool(x, 'pool2');
  x = f.convBn(x, { name: 'conv3', filters: 384, kernelSize: 3 }, true);
  x = f.convBn(x, { name: 'conv4', filters: 256, kernelSize: 3 }, true);
  x = f.convBn(x, { name: 'conv5', filters: 256, kernelSize: 3 }, true);
  x = pool(x, 'pool5');
  x = layers.flatten({ name: 'flatten' }).apply(x) as SymbolicTensor;
  for (const name of ['fc6', 'fc7']) {
    x = layers.dropout({ name: `${name}_dropout`, rate: 0.5 }).apply(x) as SymbolicTensor;
    x = f.dense(x, { name, units: 4096, useBias: false });
    x = f.relu(f.batchNorm(x, `${name}_bn`), `${name}_relu`);
  }
  const logits = f.dense(x, { name: 'fc8', units: classes, position: 'last' });
  return model({ inputs: inp, outputs: logits, name: 'alexnet' });
}
