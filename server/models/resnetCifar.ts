/**
 * CIFAR ResNet-20/32/44/56 (He et al. 2016, §4.2; the reference's `resnet_cifar`): a 3×3×16 stem,
 * three stages of n basic blocks with 16, 32, 64 channels (depth = 6n + 2), global average pool
 * and a dense classifier. Stage changes use the option-A shortcut (stride-2 subsample + zero
 * channels), so shortcuts carry no weights.
 */
import { input, layers, model, type LayersModel, type SymbolicTensor } from '@tensorflow/tfjs-layers';
import { OptionAShortcut } from '../core/layers';
import type { LayerFactory } from './builders';

export const CIFAR_RESNET_DEPTHS: Record<string, number> = { resnet20: 20, resnet32: 32, resnet44: 44, resnet56: 56 };

function basicBlock(
  f: LayerFactory,
  x: SymbolicTensor,
  name: string,
  inChannels: number,
  channels: number,
  stride: number,
): SymbolicTensor {
  let y = f.convBn(x, { name: `${name}_conv1`, filters: channels, kernelSize: 3, strides: stride }, true);
  y = f.convBn(y, { name: `${name}_conv2`, filters: channels, kernelSize: 3 }, false);
  const shortcut =
    stride !== 1 || inChannels !== channels
      ? (new OptionAShortcut({ name: `${name}_shortcut`, outChannels: channels, stride }).apply(x) as SymbolicTensor)
      : x;
  const sum = layers.add({ name: `${name}_add` }).apply([y, shortcut]) as SymbolicTensor;
  return f.relu(sum, `${name}_relu`);
}

export function buildCifarResnet(f: LayerFactory, depth: number, classes: number, inputShape: number[]): LayersModel {
  if ((depth - 2) % 6 !== 0) throw new Error(`CIFAR ResNet depth must be 6n + 2 (got ${depth}).`);
  const blocks = (depth - 2) / 6;
  const inp = input({ shape: inputShape, name: 'input' });
  let x = f.convBn(inp, { name: 'conv1', filters: 16, kernelSize: 3, position: 'first' }, true);
  let channels = 16;
  [16, 32, 64].forEach((width, stage) => {
    for (let b = 0; b < blocks; b++) {
      const stride = stage > 0 && b === 0 ? 2 : 1;
      x = basicBlock(f, x, `stage${stage + 1}_block${b + 1}`, channels, width, stride);
      channels = width;
    }
  });
  x = layers.globalAveragePooling2d({ name: 'avgpool' }).apply(x) as SymbolicTensor;
  const logits = f.dense(x, { name: 'fc', units: classes, position: 'last' });
  return model({ inputs: inp, outputs: logits, name: `resnet${depth}` });
}
