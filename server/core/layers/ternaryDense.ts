/**
 * TernaryDense: a fully connected layer whose latent float kernel W [inputs, units] is ternarized
 * on every call; it multiplies by the summed ternary weight Σ_k T_k of its t_ex REL branches.
 * Weights are named `kernel` and `bias` like tfjs's Dense.
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

export interface TernaryDenseArgs extends LayerArgs, TernaryQuantArgs {
  /** Number of outputs. */
  units: number;
  /** Whether to add a bias vector. Default true, as Dense. */
  useBias?: boolean;
  /** Initializer of the latent kernel. Default `glorotUniform`, as Dense. */
  kernelInitializer?: InitializerSpec;
  /** Initializer of the bias. Default `zeros`. */
  biasInitializer?: InitializerSpec;
  /** Activation applied after the bias (a tfjs-layers name). Default `linear`. */
  activation?: string;
  /** Shorthand for `inputShape: [inputDim]`, as Dense. */
  inputDim?: number;
}

export class TernaryDense extends layers.Layer {
  static className = 'TernaryDense';
  readonly units: number;
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

  constructor(args: TernaryDenseArgs) {
    const withShape =
      args.inputDim !== undefined && args.inputShape === undefined && args.batchInputShape === undefined
        ? { ...args, inputShape: [args.inputDim] }
        : args;
    super(withShape);
    if (!Number.isInteger(args.units) || args.units <= 0) {
      throw new Error(`TernaryDense '${args.name ?? ''}': units must be a positive integer (got ${args.units}).`);
    }
    this.units = args.units;
    this.useBias = args.useBias ?? true;
    this.quant = resolveQuant(args, args.name);
    this.inputQuant = resolveInputQuant(args.inputQuant, args.name);
    this.kernelInitializer = resolveInitializer(args.kernelInitializer, 'glorotUniform');
    this.biasInitializer = resolveInitializer(args.biasInitializer, 'zeros');
    this.activation = resolveActivation(args.activation);
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    const inputDim = shape[shape.length - 1];
    if (shape.length < 2 || inputDim === null) {
      throw new Error(
        `TernaryDense '${this.name}': expects input of rank ≥ 2 with a known last dimension (got shape ${JSON.stringify(shape)}).`,
      );
    }
    this.kernel = this.addWeight('kernel', [inputDim, this.units], 'float32', this.kernelInitializer);
    if (this.useBias) this.bias = this.addWeight('bias', [this.units], 'float32', this.biasInitializer);
    if (this.inputQuant)
      this.inputRange = this.addWeight(INPUT_RANGE_WEIGHT, [2], 'float32', resolveInitializer('zeros', 'zeros'), undefined, false);
    this.inputSpec = [{ minNDim: 2, axes: { [-1]: inputDim } }];
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    return [...shape.slice(0, -1), this.units];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean } = {}): tf.Tensor {
    return tf.tidy(() => {
      let x = Array.isArray(inputs) ? inputs[0] : inputs;
      if (this.inputRange) {
        if (kwargs.training && this.observeInputRange) observeRange(this.inputRange, x);
        x = fakeQuantizeInput(x, this.inputRange.read());
      }
      const weight = ternaryWeight((this.kernel as LayerVariable).read(), this.quant) as tf.Tensor2D;
      // Like Dense, apply to the last axis of inputs of any rank ≥ 2.
      const flat = x.rank === 2 ? (x as tf.Tensor2D) : (tf.reshape(x, [-1, x.shape[x.rank - 1]]) as tf.Tensor2D);
      let y: tf.Tensor = tf.matMul(flat, weight);
      if (this.bias) y = tf.add(y, this.bias.read());
      if (x.rank !== 2) y = tf.reshape(y, [...x.shape.slice(0, -1), this.units]);
      return this.activation.apply(y);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      units: this.units,
      useBias: this.useBias,
      kernelInitializer: serializeInitializer(this.kernelInitializer),
      biasInitializer: serializeInitializer(this.biasInitializer),
      activation: this.activation.name,
      ...quantConfig(this.quant),
      ...inputQuantConfig(this.inputQuant),
    };
  }
}
tf.serialization.registerClass(TernaryDense);
