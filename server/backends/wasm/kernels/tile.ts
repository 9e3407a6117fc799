/**
 * `Tile` for the wasm backend, fast when the output is the input repeated as one block (every
 * tiled axis has only size-1 axes before it: broadcasting a [1,1,1,C] vector over N·H·W, as
 * broadcastTo and the gradients of per-channel reductions do). The block is written once and then
 * doubled with copyWithin, at memcpy speed; wasm's own kernel walks a generic index loop (~40×
 * slower on a 64×32×32×16 output). Other tilings go to the backend's own kernel.
 */
import { Tile, util, type KernelConfig, type KernelFunc, type TensorInfo, type TileAttrs } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { originalKernel } from './wasmKernelCalls';

/** True when tiling `shape` by `reps` repeats the flat data as one block. */
export function tilesAsOneBlock(shape: readonly number[], reps: readonly number[]): boolean {
  if (shape.length !== reps.length) return false;
  let lastTiled = -1;
  reps.forEach((r, axis) => {
    if (r > 1) lastTiled = axis;
  });
  return shape.slice(0, lastTiled).every((d) => d === 1);
}

function tile(args: { inputs: { x: TensorInfo }; backend: BackendWasm; attrs: TileAttrs }): TensorInfo {
  const {
    inputs: { x },
    backend,
    attrs: { reps },
  } = args;
  if (x.dtype === 'string' || !tilesAsOneBlock(x.shape, reps)) {
    const original = originalKernel(Tile);
    if (!original) throw new Error("wasm Tile: the backend's own kernel is missing");
    return original.kernelFunc(args as unknown as Parameters<KernelFunc>[0]) as TensorInfo;
  }
  const out = backend.makeOutput(
    x.shape.map((d, i) => d * reps[i]!),
    x.dtype,
  );
  // Views after makeOutput: allocating may grow (and detach) the wasm heap.
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  const total = util.sizeFromShape(out.shape);
  if (total === 0) return out;
  dst.set(src, 0);
  for (let filled = src.length; filled < total; filled *= 2) dst.copyWithin(filled, 0, Math.min(filled, total - filled));
  return out;
}

export const tileConfig: KernelConfig = { kernelName: Tile, backendName: 'wasm', kernelFunc: tile as unknown as KernelFunc };
