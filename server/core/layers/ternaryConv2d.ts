/**
 * TernaryConv2D: a 2-D convolution (NHWC) whose latent float kernel W is ternarized on every call;
 * it convolves with the summed ternary weight Σ_k T_k of its t_ex REL branches (docs/method.md, REL).
 * Weights are named `kernel` and `bias` like tfjs's Conv2D, so a float Conv2D's weights load as
 * the latent weights of its ternary twin.
 */
import * as tf from '@tensorflow/tfjs-core';
import { layers } from '@tensorflow/tfjs-layers';
import type { LayerVariable, Shape } from '@tensorflow/tfjs-layers';
import { ternaryWeight, type LayerQuant } from '../quantizer';
import { fakeQuantizeInput, INPUT_RANGE_WEIGHT, observeRange, type InputQuant } from '../activationQuant';
import {
  inputQuantConfig,
  resolveActivation,
  resolveInputQuant,
  resolveInitializer,
  quantConfig,
  resolveQuant,
  serializeInitializer,
  type InitializerSpec,
  type LayerArgs,
  type ResolvedActivation,
  type TernaryQuantArgs,
  type Initializer,
} from './common';

export interface TernaryConv2DArgs extends LayerArgs, TernaryQuantArgs {
  /** Number of output channels. */
  filters: number;
  /** Kernel height and width (one number for a square kernel). */
  kernelSize: number | [number, number];
  /** Stride along height and width. Default 1. */
  strides?: number | [number, number];
  /** `same` (output = ⌈input / stride⌉) or `valid` (no padding). Default `valid`, as Conv2D. */
  padding?: 'same' | 'valid';
  /** Whether to add a bias vector. Default true, as Conv2D. */
  useBias?: boolean;
  /** Initializer of the latent kernel. Default `glorotUniform`, as Conv2D. */
  kernelInitializer?: InitializerSpec;
  /** Initializer of the bias. Default `zeros`. */
  biasInitializer?: InitializerSpec;
  /** Activation applied after the bias (a tfjs-layers name). Default `linear`. */
  activation?: string;
}

function pair(value: number | number[] | undefined, fallback: number, what: string): [number, number] {
  const v = value ?? fallback;
  const p = (typeof v === 'number' ? [v, v] : v) as number[];
  if (p.length !== 2 || !p.every((x) => Number.isInteger(x) && x > 0)) {
    throw new Error(`TernaryConv2D: ${what} must be a positive integer or a pair of them (got ${JSON.stringify(value)}).`);
  }
  return [p[0], p[1]];
}

export class TernaryConv2D extends layers.Layer {
  static className = 'TernaryConv2D';
  readonly filters: number;
  readonly kernelSize: [number, number];
  readonly strides: [number, number];
  readonly padding: 'same' | 'valid';
  readonly useBias: boolean;
  readonly quant: LayerQuant;
  /** `int8`: the input is fake-quantized with `inputRange` (docs/method.md, 8-bit activations). */
  readonly inputQuant: InputQuant | undefined;
  /** Training calls update `inputRange` (the train loop sets it: server/core/activationQuant.ts setRangeObserving). */
  observeInputRange = false;
  private readonly kernelInitializer: Initializer;
  private readonly biasInitializer: Initializer;
  private readonly activation: ResolvedActivation;
  kernel: LayerVariable | null = null;
  bias: LayerVariable | null = null;
  /** [min, max] of the input (int8 layers only). */
  inputRange: LayerVariable | null = null;

  constructor(args: TernaryConv2DArgs) {
    super(args);
    if (!Number.isInteger(args.filters) || args.filters <= 0) {
      throw new Error(`TernaryConv2D '${args.name ?? ''}': filters must be a positive integer (got ${args.filters}).`);
    }
    this.filters = args.filters;
    this.kernelSize = pair(args.kernelSize, 1, 'kernelSize');
    this.strides = pair(args.strides, 1, 'strides');
    this.padding = args.padding ?? 'valid';
    if (this.padding !== 'same' && this.padding !== 'valid') {
      throw new Error(`TernaryConv2D '${args.name ?? ''}': padding must be 'same' or 'valid' (got '${String(args.padding)}').`);
    }
    this.useBias = args.useBias ?? true;
    this.quant = resolveQuant(args, args.name);
    this.inputQuant = resolveInputQuant(args.inputQuant, args.name);
    this.kernelInitializer = resolveInitializer(args.kernelInitializer, 'glorotUniform');
    this.biasInitializer = resolveInitializer(args.biasInitializer, 'zeros');
    this.activation = resolveActivation(args.activation);
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    const inChannels = shape[shape.length - 1];
    if (shape.length !== 4 || inChannels === null) {
      throw new Error(`TernaryConv2D '${this.name}': expects NHWC input with a known channel count (got shape ${JSON.stringify(shape)}).`);
    }
    this.kernel = this.addWeight(
      'kernel',
      [this.kernelSize[0], this.kernelSize[1], inChannels, this.filters],
      'float32',
      this.kernelInitializer,
    );
    if (this.useBias) this.bias = this.addWeight('bias', [this.filters], 'float32', this.biasInitializer);
    if (this.inputQuant)
      this.inputRange = this.addWeight(INPUT_RANGE_WEIGHT, [2], 'float32', resolveInitializer('zeros', 'zeros'), undefined, false);
    this.inputSpec = [{ ndim: 4, axes: { [-1]: inChannels } }];
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    const out = (size: number | null, k: number, s: number): number | null => {
      if (size === null) return null;
      return this.padding === 'same' ? Math.ceil(size / s) : Math.ceil((size - k + 1) / s);
    };
    return [shape[0], out(shape[1], this.kernelSize[0], this.strides[0]), out(shape[2], this.kernelSize[1], this.strides[1]), this.filters];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean } = {}): tf.Tensor {
    return tf.tidy(() => {
      let x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      if (this.inputRange) {
        if (kwargs.training && this.observeInputRange) observeRange(this.inputRange, x);
        x = fakeQuantizeInput(x, this.inputRange.read()) as tf.Tensor4D;
      }
      const weight = ternaryWeight((this.kernel as LayerVariable).read(), this.quant) as tf.Tensor4D;
      let y: tf.Tensor = tf.conv2d(x, weight, this.strides, this.padding);
      if (this.bias) y = tf.add(y, this.bias.read());
      return this.activation.apply(y);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      filters: this.filters,
      kernelSize: this.kernelSize,
      strides: this.strides,
      padding: this.padding,
      useBias: this.useBias,
      kernelInitializer: serializeInitializer(this.kernelInitializer),
      biasInitializer: serializeInitializer(this.biasInitializer),
      activation: this.activation.name,
      ...quantConfig(this.quant),
      ...inputQuantConfig(this.inputQuant),
    };
  }
}
tf.serialization.registerClass(TernaryConv2D);
