/**
 * One training step and one evaluation pass, built for speed: the forward pass, the loss, the
 * gradients and the optimizer update run in one `tf.tidy`, and the host reads back one small
 * tensor per batch ([loss, top-1 hits, top-5 hits]).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { Batch, Dataset } from '../data/dataset';
import type { Optimizer } from './optimizers';

/** Sums over one batch: mean loss, and the number of top-1 / top-5 hits. */
export interface BatchResult {
  loss: number;
  top1: number;
  top5: number;
  n: number;
}

/** True when the model ends in a softmax (then its outputs are probabilities, not logits). */
export function outputsProbabilities(model: LayersModel): boolean {
  const last = model.layers[model.layers.length - 1];
  const config = last?.getConfig() as { activation?: string } | undefined;
  return config?.activation === 'softmax' || last?.getClassName() === 'Softmax';
}

/** log-probabilities of the classes from the model output (logits, or probabilities after a softmax). */
function logProbabilities(output: tf.Tensor, probabilities: boolean): tf.Tensor {
  return probabilities ? tf.log(tf.clipByValue(output, 1e-12, 1)) : tf.logSoftmax(output);
}

/**
 * Softmax cross-entropy (mean over the batch) and the [top-1, top-5] hit counts. A label is in
 * the top k when fewer than k classes score strictly higher than it.
 */
function lossAndHits(
  output: tf.Tensor,
  labels: tf.Tensor1D,
  classes: number,
  probabilities: boolean,
): { loss: tf.Scalar; hits: tf.Tensor1D } {
  const logp = logProbabilities(output, probabilities);
  const oneHot = tf.oneHot(labels, classes);
  const loss = tf.neg(tf.mean(tf.sum(tf.mul(logp, oneHot), 1))) as tf.Scalar;
  const trueScore = tf.sum(tf.mul(output, oneHot), 1, true);
  const rank = tf.sum(tf.cast(tf.greater(output, trueScore), 'float32'), 1);
  const top1 = tf.sum(tf.cast(tf.less(rank, 1), 'float32'));
  const top5 = tf.sum(tf.cast(tf.less(rank, Math.min(5, classes)), 'float32'));
  return { loss, hits: tf.stack([top1, top5]) as tf.Tensor1D };
}

function batchTensors(batch: Batch, inputShape: readonly number[]): { x: tf.Tensor4D; y: tf.Tensor1D } {
  return {
    x: tf.tensor4d(batch.x, [batch.n, inputShape[0]!, inputShape[1]!, inputShape[2]!]),
    y: tf.tensor1d(batch.y, 'int32'),
  };
}

/** A compiled training step for one model and optimizer. */
export function makeTrainStep(model: LayersModel, optimizer: Optimizer, params: tf.Variable[], classes: number) {
  const probabilities = outputsProbabilities(model);
  const inputShape = model.inputs[0]!.shape.slice(1) as number[];
  return async (batch: Batch, lr: number): Promise<BatchResult> => {
    const result = tf.tidy(() => {
      const { x, y } = batchTensors(batch, inputShape);
      let hits: tf.Tensor1D | undefined;
      const { value, grads } = tf.variableGrads(() => {
        const output = model.apply(x, { training: true }) as tf.Tensor;
        const out = lossAndHits(output, y, classes, probabilities);
        // The forward pass runs in its own tidy; keep the hit counts past it (disposed below).
        hits = tf.keep(out.hits);
        return out.loss;
      }, params);
      optimizer.apply(
        params.map((p) => grads[p.name]!),
        lr,
      );
      const packed = tf.concat([tf.reshape(value, [1]), hits!]);
      hits!.dispose();
      return packed;
    });
    const values = await result.data();
    result.dispose();
    return { loss: values[0]!, top1: values[1]!, top5: values[2]!, n: batch.n };
  };
}

/** Examples per evaluation batch for a training batch of `trainBatch`: at least 256 (no gradients to keep). */
export function evalBatchSize(trainBatch: number): number {
  return Math.max(trainBatch, 256);
}

/** Loss and top-1/top-5 of `model` on a whole split (inference mode, no augmentation). */
export async function evaluateModel(
  model: LayersModel,
  data: Dataset,
  batchSize: number,
  classes: number,
  signal?: AbortSignal,
): Promise<{ loss: number; top1: number; top5: number; examples: number }> {
  const probabilities = outputsProbabilities(model);
  const inputShape = model.inputs[0]!.shape.slice(1) as number[];
  let loss = 0;
  let top1 = 0;
  let top5 = 0;
  let n = 0;
  for await (const batch of data.batches({ batchSize, shuffle: false, seed: 0, epoch: 0, augment: false })) {
    if (signal?.aborted) break;
    const result = tf.tidy(() => {
      const { x, y } = batchTensors(batch, inputShape);
      const output = model.apply(x, { training: false }) as tf.Tensor;
      const out = lossAndHits(output, y, classes, probabilities);
      return tf.concat([tf.reshape(out.loss, [1]), out.hits]);
    });
    const values = await result.data();
    result.dispose();
    loss += values[0]! * batch.n;
    top1 += values[1]!;
    top5 += values[2]!;
    n += batch.n;
  }
  return n === 0 ? { loss: NaN, top1: 0, top5: 0, examples: 0 } : { loss: loss / n, top1: top1 / n, top5: top5 / n, examples: n };
}
