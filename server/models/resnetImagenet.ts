/**
 * ImageNet ResNet-18/34 (He et al. 2016, torchvision's layout, which the reference fine-tunes):
 * 7×7/2 stem + 3×3/2 max pool, four stages of basic blocks (64, 128, 256, 512 channels), 1×1/2
 * conv + BN shortcuts on stage changes ("option B"), global average pool, dense classifier.
 */
import { input, layers, model, type LayersModel, type SymbolicTensor } from '@tensorflow/tfjs-layers';
import type { LayerFactory } from './builders';

export const IMAGENET_RESNET_BLOCKS: Record<string, number[]> = { resnet18: [2, 2, 2, 2], resnet34: [3, 4, 6, 3] };

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
      ? f.convBn(x, { name: `${name}_downsample`, filters: channels, kernelSize: 1, strides: stride }, false)
      : x;
  const sum = layers.add({ name: `${name}_add` }).apply([y, shortcut]) as SymbolicTensor;
  return f.relu(sum, `${name}_relu`);
}

export function buildImagenetResnet(f: LayerFactory, blocks: number[], name: string, classes: number, inputShape: number[]): LayersModel {
  const inp = input({ shape: inputShape, name: 'input' });
  let x = f.convBn(inp, { name: 'conv1', filters: 64, kernelSize: 7, strides: 2, position: 'first' }, true);
  x = layers.maxPooling2d({ name: 'maxpool', poolSize: 3, strides: 2, padding: 'same' }).apply(x) as SymbolicTensor;
  let channels = 64;
  [64, 128, 256, 512].forEach((width, stage) => {
    for (let b = 0; b < blocks[stage]; b++) {
      const stride = stage > 0 && b === 0 ? 2 : 1;
      x = basicBlock(f, x, `layer${stage + 1}_block${b + 1}`, channels, width, stride);
      channels = width;
    }
  });
  x = layers.globalAveragePooling2d({ name: 'avgpool' }).apply(x) as SymbolicTensor;
  const logits = f.dense(x, { name: 'fc', units: classes, position: 'last' });
  return model({ inputs: inp, outputs: logits, name });
}
