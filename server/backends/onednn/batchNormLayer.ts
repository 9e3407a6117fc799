// Routes tfjs-layers' BatchNormalization, when it trains on this backend, through the fused
// training kernel (kernels/batchNormTraining.ts). The layer's own call() builds batch norm from
// moments() and batchNorm(); its gradient is then ~20 full passes per activation. Wrapping the
// class's call() (once, when the backend registers) reaches every BatchNormalization however it
// was made: built by the model zoo, loaded from model.json, or cloned by convertToTernary.
// Everything else — inference, other backends, axes other than the last — runs the original.
import * as tf from '@tensorflow/tfjs-core';
// Loaded for its side effect: it registers BatchNormalization in the serialization map.
import '@tensorflow/tfjs-layers';
import type { Tensor } from '@tensorflow/tfjs-core';
import { BACKEND_NAME } from './util';
import { batchNormTraining } from './kernels/batchNormTraining';

/** The fields of tfjs-layers' BatchNormalization this relies on (private in its typings). */
interface BatchNormFields {
  axis: number;
  momentum: number;
  epsilon: number;
  center: boolean;
  scale: boolean;
  gamma?: LayerVariableLike;
  beta?: LayerVariableLike;
  movingMean: LayerVariableLike;
  movingVariance: LayerVariableLike;
}
interface LayerVariableLike {
  read(): Tensor;
  write(value: Tensor): unknown;
}
type Call = (this: BatchNormFields, inputs: Tensor | Tensor[], kwargs: Record<string, unknown>) => Tensor | Tensor[];

const PATCHED = Symbol.for('ternary-studio.onednn.batchNormCall');

/** Installs the routing once; returns false when tfjs-layers' BatchNormalization is not registered. */
export function routeBatchNormTraining(): boolean {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap['BatchNormalization'];
  if (!entry) return false;
  const proto = (entry[0] as unknown as { prototype: { call: Call; [PATCHED]?: boolean } }).prototype;
  if (proto[PATCHED]) return true;
  const original = proto.call;
  proto.call = function (this: BatchNormFields, inputs, kwargs) {
    const input = Array.isArray(inputs) ? (inputs.length === 1 ? inputs[0]! : null) : inputs;
    if (!kwargs['training'] || tf.getBackend() !== BACKEND_NAME || !input || input.dtype !== 'float32' || input.rank < 2) {
      return original.call(this, inputs, kwargs);
    }
    const axis = this.axis >= 0 ? this.axis : this.axis + input.rank;
    if (axis !== input.rank - 1) return original.call(this, inputs, kwargs);
    return tf.tidy(() => {
      const channels = input.shape[axis]!;
      const scale = this.scale && this.gamma ? this.gamma.read() : tf.ones([channels]);
      const offset = this.center && this.beta ? this.beta.read() : tf.zeros([channels]);
      const [y, mean, variance] = batchNormTraining(input, scale, offset, this.epsilon);
      // The moving averages exactly as tfjs-layers updates them (biased batch variance).
      const decay = 1 - this.momentum;
      for (const [variable, value] of [
        [this.movingMean, mean],
        [this.movingVariance, variance],
      ] as const) {
        tf.tidy(() => {
          const current = variable.read();
          variable.write(tf.sub(current, tf.mul(tf.sub(current, value), decay)));
        });
      }
      return y;
    });
  };
  proto[PATCHED] = true;
  return true;
}
