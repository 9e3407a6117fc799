/**
 * Checkpoints (`checkpoints/last/`): every weight of the model (BatchNorm moving statistics
 * included), the optimizer state, the epoch, the data-stream state and the metrics so far. The
 * folder is replaced atomically each epoch, so a run killed at any moment resumes from a complete
 * checkpoint.
 *
 *   checkpoint.json   CheckpointState (+ the tensor index of the two .bin files)
 *   weights.bin       float32 values of model.getWeights(), concatenated
 *   optimizer.bin     float32 values of the optimizer slots, concatenated
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { MetricsRecord } from '../../shared/runRecords';
import type { Optimizer, OptimizerState } from './optimizers';
import { replaceDirAtomic, resolveAtomicDir } from '../files/atomicFiles';

/** What a run needs to continue exactly where it stopped. */
export interface CheckpointState {
  /** Epochs completed (the next epoch to run, 0-based). */
  epoch: number;
  /** Global step after the last completed epoch. */
  step: number;
  /**
   * The data streams' state. Shuffling and augmentation are drawn from generators seeded by
   * (seed, epoch) only, so the seed and the next epoch are the whole state.
   */
  rng: { seed: number; nextEpoch: number };
  /** The epoch MetricsRecords so far (to restore best/final metrics). */
  epochs: MetricsRecord[];
  /** Seconds of training before this checkpoint (wall time of earlier sessions). */
  elapsedSeconds: number;
}

interface TensorIndexEntry {
  name: string;
  shape: number[];
  offset: number;
  size: number;
}

interface CheckpointFile extends CheckpointState {
  format: 'ternary-studio-checkpoint/1';
  weights: TensorIndexEntry[];
  optimizer: { kind: OptimizerState['kind']; step: number; slots: Record<string, (TensorIndexEntry | null)[]> };
}

function concat(arrays: Float32Array[]): Float32Array {
  const total = arrays.reduce((n, a) => n + a.length, 0);
  const out = new Float32Array(total);
  let o = 0;
  for (const a of arrays) {
    out.set(a, o);
    o += a.length;
  }
  return out;
}

function bytes(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Writes `checkpoints/last` of `runDir` atomically. */
export async function saveCheckpoint(dir: string, model: LayersModel, optimizer: Optimizer, state: CheckpointState): Promise<void> {
  const weights = model.weights;
  const weightValues: Float32Array[] = [];
  const weightIndex: TensorIndexEntry[] = [];
  let offset = 0;
  for (const w of weights) {
    const values = (await w.read().data()) as Float32Array;
    weightValues.push(values);
    weightIndex.push({ name: w.originalName, shape: w.shape as number[], offset, size: values.length });
    offset += values.length;
  }
  const opt = await optimizer.getState();
  const optValues: Float32Array[] = [];
  const optSlots: CheckpointFile['optimizer']['slots'] = {};
  offset = 0;
  for (const [slot, list] of Object.entries(opt.slots)) {
    optSlots[slot] = list.map((values, i) => {
      if (!values) return null;
      optValues.push(values);
      const entry = { name: model.trainableWeights[i]?.originalName ?? String(i), shape: (model.trainableWeights[i]?.shape as number[]) ?? [values.length], offset, size: values.length };
      offset += values.length;
      return entry;
    });
  }
  const file: CheckpointFile = {
    format: 'ternary-studio-checkpoint/1',
    ...state,
    weights: weightIndex,
    optimizer: { kind: opt.kind, step: opt.step, slots: optSlots },
  };
  await replaceDirAtomic(dir, async (tmp) => {
    await writeFile(join(tmp, 'weights.bin'), bytes(concat(weightValues)));
    await writeFile(join(tmp, 'optimizer.bin'), bytes(concat(optValues)));
    // Written last: a folder with checkpoint.json is complete.
    await writeFile(join(tmp, 'checkpoint.json'), JSON.stringify(file, null, 1) + '\n');
  });
}

function floats(buf: Buffer): Float32Array {
  // Copy into an aligned buffer: Buffer slices may start at any byte offset.
  const copy = new Uint8Array(buf.byteLength);
  copy.set(buf);
  return new Float32Array(copy.buffer);
}

/** Reads a checkpoint folder (or its `.old` twin after a crash mid-replace); undefined when there is none. */
export async function readCheckpoint(dir: string): Promise<{ state: CheckpointState; restore(model: LayersModel, optimizer: Optimizer): void } | undefined> {
  const found = resolveAtomicDir(dir);
  if (!found) return undefined;
  let file: CheckpointFile;
  try {
    file = JSON.parse(await readFile(join(found, 'checkpoint.json'), 'utf8')) as CheckpointFile;
  } catch {
    return undefined;
  }
  const weightData = floats(await readFile(join(found, 'weights.bin')));
  const optData = floats(await readFile(join(found, 'optimizer.bin')));
  const { format: _format, weights: weightIndex, optimizer: optIndex, ...state } = file;
  return {
    state,
    restore(model: LayersModel, optimizer: Optimizer): void {
      const weights = model.weights;
      if (weights.length !== weightIndex.length) {
        throw new Error(`the checkpoint in ${found} has ${weightIndex.length} weight tensors but the model has ${weights.length}; resume with the same experiment config.`);
      }
      const tensors = weightIndex.map((e, i) => {
        if (e.size !== weights[i]!.read().size) {
          throw new Error(`checkpoint weight ${e.name} has ${e.size} values but the model's ${weights[i]!.originalName} has ${weights[i]!.read().size}; resume with the same experiment config.`);
        }
        return tf.tensor(weightData.subarray(e.offset, e.offset + e.size), e.shape);
      });
      model.setWeights(tensors);
      tf.dispose(tensors);
      const slots: OptimizerState['slots'] = {};
      for (const [slot, list] of Object.entries(optIndex.slots)) {
        slots[slot] = list.map((e) => (e ? optData.slice(e.offset, e.offset + e.size) : null));
      }
      optimizer.setState({ kind: optIndex.kind, step: optIndex.step, slots });
    },
  };
}
