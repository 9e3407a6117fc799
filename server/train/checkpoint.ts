/**
 * The checkpoint format: every weight of the model (BatchNorm moving statistics included), the
 * optimizer state, the epoch, the data-stream state and the metrics so far. Where checkpoints
 * live and how they are replaced is checkpointStore.ts.
 *
 *   checkpoint.json   CheckpointState, the tensor index of the two .bin files, their sizes and SHA-256
 *   weights.bin       float32 values of model.getWeights(), concatenated
 *   optimizer.bin     float32 values of the optimizer slots, concatenated
 *
 * A checkpoint is checked before it is used: checkpoint.json must parse, each .bin must have
 * exactly the bytes its index needs and match its checksum, so a truncated, damaged or foreign
 * file is reported instead of restored.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { MetricsRecord } from '../../shared/runRecords';
import type { Optimizer, OptimizerState } from './optimizers';
import { RunFolderError } from '../runs/runErrors';

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

const BIN_FILES = ['weights.bin', 'optimizer.bin'] as const;
type BinFile = (typeof BIN_FILES)[number];

interface CheckpointFile extends CheckpointState {
  format: 'ternary-studio-checkpoint/1';
  weights: TensorIndexEntry[];
  optimizer: { kind: OptimizerState['kind']; step: number; slots: Record<string, (TensorIndexEntry | null)[]> };
  /** Sizes and SHA-256 of the .bin files (absent in checkpoints written before they were checked). */
  files?: Record<BinFile, { bytes: number; sha256: string }>;
}

/** The files of one checkpoint, in the order they are to be written (checkpoint.json last). */
export type CheckpointFiles = [name: string, data: Uint8Array][];

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

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The checkpoint of `model` and `optimizer` after `state`, as file contents. */
export async function encodeCheckpoint(model: LayersModel, optimizer: Optimizer, state: CheckpointState): Promise<CheckpointFiles> {
  const weightValues: Float32Array[] = [];
  const weightIndex: TensorIndexEntry[] = [];
  let offset = 0;
  for (const w of model.weights) {
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
      const entry = {
        name: model.trainableWeights[i]?.originalName ?? String(i),
        shape: (model.trainableWeights[i]?.shape as number[]) ?? [values.length],
        offset,
        size: values.length,
      };
      offset += values.length;
      return entry;
    });
  }
  const weightsBin = bytes(concat(weightValues));
  const optimizerBin = bytes(concat(optValues));
  const file: CheckpointFile = {
    format: 'ternary-studio-checkpoint/1',
    ...state,
    weights: weightIndex,
    optimizer: { kind: opt.kind, step: opt.step, slots: optSlots },
    files: {
      'weights.bin': { bytes: weightsBin.byteLength, sha256: sha256(weightsBin) },
      'optimizer.bin': { bytes: optimizerBin.byteLength, sha256: sha256(optimizerBin) },
    },
  };
  // checkpoint.json last: a folder with it has the rest.
  return [
    ['weights.bin', weightsBin],
    ['optimizer.bin', optimizerBin],
    ['checkpoint.json', Buffer.from(JSON.stringify(file, null, 1) + '\n')],
  ];
}

function floats(buf: Buffer): Float32Array {
  // Copy into an aligned buffer: Buffer slices may start at any byte offset.
  const copy = new Uint8Array(buf.byteLength);
  copy.set(buf);
  return new Float32Array(copy.buffer);
}

/** A checkpoint that passed its checks, ready to restore into a model and optimizer. */
export interface VerifiedCheckpoint {
  dir: string;
  state: CheckpointState;
  /** Loads the weights and optimizer state; throws RunFolderError when the model does not fit. */
  restore(model: LayersModel, optimizer: Optimizer): void;
}

/** Bytes a tensor index needs: the end of its furthest entry. */
function indexBytes(entries: (TensorIndexEntry | null)[]): number {
  return entries.reduce((end, e) => (e ? Math.max(end, (e.offset + e.size) * 4) : end), 0);
}

function isIndex(value: unknown): value is TensorIndexEntry[] {
  return (
    Array.isArray(value) &&
    (value as unknown[]).every((item) => {
      const e = item as Partial<TensorIndexEntry> | null;
      return !!e && typeof e.offset === 'number' && typeof e.size === 'number' && Array.isArray(e.shape);
    })
  );
}

/** Reads and checks the checkpoint in `dir`: the checkpoint, or what is wrong with it (one sentence). */
export async function verifyCheckpoint(dir: string): Promise<VerifiedCheckpoint | { problem: string }> {
  let file: CheckpointFile;
  try {
    file = JSON.parse(await readFile(join(dir, 'checkpoint.json'), 'utf8')) as CheckpointFile;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return {
      problem:
        code === 'ENOENT'
          ? 'checkpoint.json is missing'
          : code
            ? `checkpoint.json cannot be read (${code})`
            : `checkpoint.json is not valid JSON (${(err as Error).message})`,
    };
  }
  if (
    file?.format !== 'ternary-studio-checkpoint/1' ||
    !Number.isInteger(file.epoch) ||
    !isIndex(file.weights) ||
    !file.optimizer?.slots ||
    !Array.isArray(file.epochs)
  ) {
    return { problem: 'checkpoint.json is not a Ternary Studio checkpoint (format, epoch or tensor index missing)' };
  }
  const optEntries = Object.values(file.optimizer.slots).flat();
  if (!optEntries.every((e) => e === null || isIndex([e]))) return { problem: 'checkpoint.json has a broken optimizer index' };
  const data: Partial<Record<BinFile, Buffer>> = {};
  for (const name of BIN_FILES) {
    let buf: Buffer;
    try {
      buf = await readFile(join(dir, name));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return { problem: code === 'ENOENT' ? `${name} is missing` : `${name} cannot be read (${code ?? String(err)})` };
    }
    const needed = file.files?.[name]?.bytes ?? indexBytes(name === 'weights.bin' ? file.weights : optEntries);
    if (buf.byteLength !== needed) {
      return {
        problem: `${name} has ${buf.byteLength} bytes where the checkpoint needs ${needed} (${buf.byteLength < needed ? 'truncated' : 'longer than its index'})`,
      };
    }
    const expected = file.files?.[name]?.sha256;
    if (expected && sha256(buf) !== expected) return { problem: `${name} does not match its checksum (the file is damaged)` };
    data[name] = buf;
  }
  const weightData = floats(data['weights.bin']!);
  const optData = floats(data['optimizer.bin']!);
  const { format: _format, weights: weightIndex, optimizer: optIndex, files: _files, ...state } = file;
  return {
    dir,
    state,
    restore(model: LayersModel, optimizer: Optimizer): void {
      const weights = model.weights;
      const mismatch = (detail: string) =>
        new RunFolderError(
          'damaged',
          dir,
          `The checkpoint in ${dir} does not fit the model: ${detail}. Resume with the experiment the run was started with (its config.json), or start a new run.`,
        );
      if (weights.length !== weightIndex.length) throw mismatch(`it has ${weightIndex.length} weight tensors, the model ${weights.length}`);
      weightIndex.forEach((e, i) => {
        if (e.size !== weights[i]!.read().size)
          throw mismatch(`its weight ${e.name} has ${e.size} values, the model's ${weights[i]!.originalName} ${weights[i]!.read().size}`);
      });
      const tensors = weightIndex.map((e) => tf.tensor(weightData.subarray(e.offset, e.offset + e.size), e.shape));
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
