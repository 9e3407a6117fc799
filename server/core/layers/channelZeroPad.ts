/**
 * Zero channels before and after the input's (NHWC): the option-A shortcut as most PyTorch CIFAR
 * ResNets write it, `F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, p, p))`, which the ONNX importer
 * (server/formats/onnx/import) meets as a Pad of the channel axis. OptionAShortcut appends zeros only.
 */
import * as tf from '@tensorflow/tfjs-core';
import { layers } from '@tensorflow/tfjs-layers';
import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology';
import type { Shape } from '@tensorflow/tfjs-layers';

export interface ChannelZeroPadArgs extends LayerArgs {
  /** Zero channels put before the input's. */
  before: number;
  /** Zero channels put after the input's. */
  after: number;
}

export class ChannelZeroPad extends layers.Layer {
  static className = 'ChannelZeroPad';
  readonly before: number;
  readonly after: number;

  constructor(args: ChannelZeroPadArgs) {
    super(args);
    this.before = args.before;
    this.after = args.after;
    if (![this.before, this.after].every((n) => Number.isInteger(n) && n >= 0)) {
      throw new Error(
        `ChannelZeroPad '${args.name ?? ''}': before and after must be non-negative integers (got ${this.before}, ${this.after}).`,
      );
    }
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    const c = s[s.length - 1];
    return [...s.slice(0, -1), c === null ? null : c + this.before + this.after];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const pads = x.shape.map((): [number, number] => [0, 0]);
      pads[pads.length - 1] = [this.before, this.after];
      return tf.pad(x, pads);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), before: this.before, after: this.after };
  }
}
tf.serialization.registerClass(ChannelZeroPad);
