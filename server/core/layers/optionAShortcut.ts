/**
 * The "option A" shortcut of the CIFAR ResNets (He et al. 2016; the reference's DownsampleA):
 * on a stage change, subsample by 2 and append zero channels, so the shortcut has no weights.
 */
import * as tf from '@tensorflow/tfjs-core';
import { layers } from '@tensorflow/tfjs-layers';
import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology';
import type { Shape } from '@tensorflow/tfjs-layers';

export interface OptionAShortcutArgs extends LayerArgs {
  /** Channels of the output; the extra ones (output − input) are zeros appended after the input's. */
  outChannels: number;
  /** Spatial subsampling factor. Default 2. */
  stride?: number;
}

export class OptionAShortcut extends layers.Layer {
  static className = 'OptionAShortcut';
  readonly outChannels: number;
  readonly stride: number;

  constructor(args: OptionAShortcutArgs) {
    super(args);
    this.outChannels = args.outChannels;
    this.stride = args.stride ?? 2;
    if (!Number.isInteger(this.stride) || this.stride < 1) {
      throw new Error(`OptionAShortcut '${args.name ?? ''}': stride must be a positive integer (got ${this.stride}).`);
    }
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    const down = (n: number | null): number | null => (n === null ? null : Math.ceil(n / this.stride));
    return [s[0], down(s[1]), down(s[2]), this.outChannels];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      const [, height, width, channels] = x.shape;
      if (channels > this.outChannels) {
        throw new Error(`OptionAShortcut '${this.name}': input has ${channels} channels, more than outChannels = ${this.outChannels}.`);
      }
      let y: tf.Tensor4D = x;
      if (this.stride > 1) {
        // Keep the rows/columns a 'same' conv with this stride centres its 3×3 windows on, so the
        // shortcut and the residual branch see the same pixels: offset 1 for even sizes (tfjs pads
        // 'same' at the end), 0 for odd ones.
        const offset = (n: number): number =>
          Math.max(0, 1 - Math.floor(Math.max((Math.ceil(n / this.stride) - 1) * this.stride + 3 - n, 0) / 2));
        const oh = offset(height);
        const ow = offset(width);
        const s = this.stride;
        if (height % s === 0 && width % s === 0) {
          // One strided copy: view x as [N, H/s, s, W/s, s·C] and take phase (oh, ow) of each s×s cell.
          const cells = tf.reshape(x, [x.shape[0], height / s, s, width / s, s * channels]);
          const picked = tf.slice(cells, [0, 0, oh, 0, ow * channels], [-1, -1, 1, -1, channels]);
          y = tf.reshape(picked, [x.shape[0], height / s, width / s, channels]);
        } else {
          // General sizes: drop the leading offset, then a 1×1 average pool with stride s subsamples.
          if (oh > 0 || ow > 0) y = tf.slice(y, [0, oh, ow, 0], [-1, height - oh, width - ow, -1]);
          y = tf.avgPool(y, 1, s, 'valid');
        }
      }
      if (this.outChannels > channels)
        y = tf.pad(y, [
          [0, 0],
          [0, 0],
          [0, 0],
          [0, this.outChannels - channels],
        ]);
      return y;
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), outChannels: this.outChannels, stride: this.stride };
  }
}
tf.serialization.registerClass(OptionAShortcut);
