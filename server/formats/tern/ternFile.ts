/**
 * `model.tern`: a ternary model packed to ~2 bits per ternary weight (docs/formats.md documents
 * the layout byte by byte; keep the two in step).
 *
 *   offset  size  field
 *   0       4     magic "TERN" (54 45 52 4E)
 *   4       2     format version, u16 little-endian (2; version 1 files are read too)
 *   6       2     flags, u16 (0; readers reject unknown flags)
 *   8       4     H: byte length of the compressed header, u32
 *   12      4     P: byte length of the payload, u32
 *   16      H     header: raw DEFLATE (RFC 1951) of UTF-8 JSON (see TernHeader)
 *   16+H    0–3   zero bytes up to a multiple of 4
 *   …       P     payload: the weights in header order, each starting on a 4-byte boundary:
 *                   float:   n float32 values (little-endian, tfjs row-major order)
 *                   ternary: t_ex float32 levels (A_1..A_t nested, α_1..α_t residual), float32
 *                            max|W|, then ⌈n·b/8⌉ bytes of codes, b = ⌈log2(2·t_ex+1)⌉ bits each
 *                            (nested) or ⌈log2 3^t_ex⌉ (residual), two's complement, packed
 *                            least-significant bits first, then zero bytes up to a multiple of 4
 *
 * A nested code c is sign(c)·A_|c|, a residual one Σ_k s_k·α_k over its balanced-ternary digits
 * (server/formats/packedModel.ts). Version 2 added the residual encoding (the header's `encoding`);
 * a version 1 file has nested codes only.
 */
import { ternaryKernelBits } from '../../../shared/quant';
import { readFile } from 'node:fs/promises';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import * as tf from '@tensorflow/tfjs-core';
import { models, type LayersModel } from '@tensorflow/tfjs-layers';
import {
  latentFromCodes,
  maxCode,
  ternaryValues,
  weightCodeBits,
  type CodeEncoding,
  type PackedModel,
  type PackedWeight,
} from '../packedModel';
import type { LayerQuant } from '../../core/quantizer';
import type { TernSize } from '../../../shared/exportSummary';
import '../../core/layers';
import { TERNARY_CLASSES } from '../../core/layers/quantOf';
import { UserError } from '../../../shared/userError';

/** The name `tern export` gives the file, and the one a folder's model.tern is found by. */
export const TERN_FILE = 'model.tern';
export const TERN_MAGIC = 'TERN';
export const TERN_VERSION = 2;
/** Versions this reader reads: 1 (nested codes only) and 2. */
const READABLE_VERSIONS = [1, 2];
const FIXED_HEADER = 16;

/** A weight as the header describes it (its data is in the payload). */
export type TernWeightSpec =
  | { name: string; shape: number[]; dtype: 'float32' }
  | {
      name: string;
      shape: number[];
      dtype: 'ternary';
      tex: 1 | 2 | 4;
      method: LayerQuant['method'];
      thresholdFactor: number;
      bits: number;
      /** Version 2: `residual` for REL with optimal thresholds; absent: `nested`. */
      encoding?: CodeEncoding;
      /** Version 2: `optimal` when so trained; absent: `fixed`. */
      threshold?: 'fixed' | 'optimal';
    };

/** The JSON header. */
export interface TernHeader {
  format: 'tern';
  /** The tfjs model topology (as model.json's `modelTopology`), with our ternary layer classes. */
  modelTopology: Record<string, unknown>;
  weights: TernWeightSpec[];
  generatedBy: string;
  /** Free-form facts about the source (run id, experiment). */
  metadata?: Record<string, unknown>;
}

/** A `.tern` file that cannot be read: which file, what is wrong, what to do. */
export class TernFormatError extends UserError {
  constructor(message: string) {
    super('badModel', message);
    this.name = 'TernFormatError';
  }
}

export type { TernSize };

const pad4 = (n: number) => (4 - (n % 4)) % 4;
const count = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Where packed codes go, or come from: a Uint8Array, or anything indexed by absolute byte (tests use a sparse object). */
export type CodeBytes = { [byte: number]: number };

/**
 * Writes codes [first, end) of `bits` bits each (two's complement) at their bit positions i·bits,
 * least-significant bits first. The position is kept as a byte index and a shift below 8: a bit
 * index of a layer with more than 2^31 code bits does not fit the 32-bit integers of `>>` and `|`.
 */
export function packCodesRange(codes: ArrayLike<number>, bits: number, out: CodeBytes, first: number, end: number): void {
  const mask = (1 << bits) - 1;
  let byte = Math.floor((first * bits) / 8);
  let shift = (first * bits) % 8;
  for (let i = first; i < end; i++) {
    const v = codes[i] & mask;
    out[byte] |= (v << shift) & 0xff;
    if (shift + bits > 8) out[byte + 1] |= v >> (8 - shift);
    shift += bits;
    if (shift >= 8) {
      shift -= 8;
      byte++;
    }
  }
}

/** Reads codes [first, end) written by packCodesRange into `into[i − first]`. */
export function unpackCodesRange(bytes: CodeBytes, bits: number, first: number, end: number, into: { [i: number]: number }): void {
  const mask = (1 << bits) - 1;
  const sign = 1 << (bits - 1);
  let byte = Math.floor((first * bits) / 8);
  let shift = (first * bits) % 8;
  for (let i = first; i < end; i++) {
    let v = bytes[byte] >> shift;
    if (shift + bits > 8) v |= bytes[byte + 1] << (8 - shift);
    v &= mask;
    into[i - first] = v & sign ? v - (1 << bits) : v;
    shift += bits;
    if (shift >= 8) {
      shift -= 8;
      byte++;
    }
  }
}

/** Packs codes of `bits` bits each, two's complement, least-significant bits first. */
export function packCodes(codes: Int8Array, bits: number): Uint8Array {
  const out = new Uint8Array(Math.ceil((codes.length * bits) / 8));
  packCodesRange(codes, bits, out, 0, codes.length);
  return out;
}

/** Unpacks `n` codes of `bits` bits (the inverse of packCodes). */
export function unpackCodes(bytes: Uint8Array, bits: number, n: number): Int8Array {
  const out = new Int8Array(n);
  unpackCodesRange(bytes, bits, 0, n, out);
  return out;
}

function weightSpec(w: PackedWeight): TernWeightSpec {
  if (w.kind === 'float') return { name: w.name, shape: w.shape, dtype: 'float32' };
  return {
    name: w.name,
    shape: w.shape,
    dtype: 'ternary',
    tex: w.quant.tex as 1 | 2 | 4,
    method: w.quant.method,
    thresholdFactor: w.quant.thresholdFactor,
    bits: weightCodeBits(w),
    ...(w.encoding === 'residual' ? { encoding: w.encoding } : {}),
    ...(w.quant.threshold === 'optimal' ? { threshold: w.quant.threshold } : {}),
  };
}

/** The arithmetic minimum of a packed model in bytes (see TernSize). */
export function minimumBytes(packed: PackedModel): number {
  let bits = 0;
  for (const w of packed.weights) {
    bits += w.kind === 'float' ? 32 * w.values.length : ternaryKernelBits(w.codes.length, w.quant);
  }
  return Math.ceil(bits / 8);
}

/** Encodes a packed model as `.tern` bytes. */
export function encodeTern(packed: PackedModel, opts: { generatedBy?: string; metadata?: Record<string, unknown> } = {}): Uint8Array {
  const header: TernHeader = {
    format: 'tern',
    modelTopology: packed.topology,
    weights: packed.weights.map(weightSpec),
    generatedBy: opts.generatedBy ?? 'Ternary Studio',
    ...(opts.metadata ? { metadata: opts.metadata } : {}),
  };
  const compressed = deflateRawSync(Buffer.from(JSON.stringify(header), 'utf8'), { level: 9 });
  const parts: Uint8Array[] = [];
  let payload = 0;
  const push = (bytes: Uint8Array) => {
    parts.push(bytes);
    payload += bytes.byteLength;
    const p = pad4(bytes.byteLength);
    if (p) {
      parts.push(new Uint8Array(p));
      payload += p;
    }
  };
  for (const w of packed.weights) {
    if (w.kind === 'float') {
      push(new Uint8Array(w.values.buffer, w.values.byteOffset, w.values.byteLength));
    } else {
      const scalars = Float32Array.from([...w.levels, w.maxAbs]);
      parts.push(new Uint8Array(scalars.buffer));
      payload += scalars.byteLength;
      push(packCodes(w.codes, weightCodeBits(w)));
    }
  }
  const fixed = Buffer.alloc(FIXED_HEADER);
  fixed.write(TERN_MAGIC, 0, 'latin1');
  fixed.writeUInt16LE(TERN_VERSION, 4);
  fixed.writeUInt16LE(0, 6);
  fixed.writeUInt32LE(compressed.byteLength, 8);
  fixed.writeUInt32LE(payload, 12);
  return Buffer.concat([fixed, compressed, new Uint8Array(pad4(compressed.byteLength)), ...parts]);
}

/** Size and arithmetic minimum of an encoding. */
export function ternSize(packed: PackedModel, bytes: Uint8Array): TernSize {
  const minimum = minimumBytes(packed);
  return { bytes: bytes.byteLength, minimumBytes: minimum, overheadBytes: bytes.byteLength - minimum };
}

/** Whether `bytes` start with the `.tern` magic. */
export function isTern(bytes: Uint8Array): boolean {
  return bytes.byteLength >= 4 && String.fromCharCode(bytes[0], bytes[1], bytes[2], bytes[3]) === TERN_MAGIC;
}

/** Decodes `.tern` bytes into the header and packed weights. `source` names the file in errors. */
export function decodeTern(bytes: Uint8Array, source = 'the .tern file'): { header: TernHeader; packed: PackedModel } {
  const fail = (what: string): never => {
    throw new TernFormatError(`${source} ${what}`);
  };
  if (bytes.byteLength < FIXED_HEADER || !isTern(bytes))
    fail('is not a .tern model (it does not start with "TERN"); export the model again with `tern export`.');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint16(4, true);
  if (!READABLE_VERSIONS.includes(version))
    fail(
      `is .tern format version ${version}; this Ternary Studio reads versions ${READABLE_VERSIONS.join(' and ')}. Update Ternary Studio or export the model again.`,
    );
  const flags = view.getUint16(6, true);
  if (flags !== 0) fail(`has flags 0x${flags.toString(16)} this version does not know; update Ternary Studio.`);
  const headerBytes = view.getUint32(8, true);
  const payloadBytes = view.getUint32(12, true);
  const payloadStart = FIXED_HEADER + headerBytes + pad4(headerBytes);
  if (payloadStart + payloadBytes !== bytes.byteLength) {
    fail(
      `is ${bytes.byteLength} bytes but its header says ${payloadStart + payloadBytes}: the file is truncated or damaged; copy or export it again.`,
    );
  }
  let header: TernHeader;
  try {
    header = JSON.parse(inflateRawSync(bytes.subarray(FIXED_HEADER, FIXED_HEADER + headerBytes)).toString('utf8')) as TernHeader;
  } catch (err) {
    return fail(`has a damaged header (${(err as Error).message}); export the model again.`);
  }
  if (header.format !== 'tern' || !Array.isArray(header.weights) || typeof header.modelTopology !== 'object')
    fail('has a header without model topology and weights; export the model again.');
  let offset = payloadStart;
  const take = (n: number, what: string): Uint8Array => {
    if (offset + n > bytes.byteLength) fail(`ends inside ${what}: the file is truncated; copy or export it again.`);
    // A copy (Buffer#slice would share the pool), so .buffer is exactly these bytes, aligned.
    const slice = new Uint8Array(bytes.subarray(offset, offset + n));
    offset += n + pad4(n);
    return slice;
  };
  const weights: PackedWeight[] = header.weights.map((spec) => {
    const n = count(spec.shape);
    if (spec.dtype === 'float32') {
      return { kind: 'float', name: spec.name, shape: spec.shape, values: new Float32Array(take(4 * n, `weight '${spec.name}'`).buffer) };
    }
    const encoding = spec.dtype === 'ternary' ? (spec.encoding ?? 'nested') : undefined;
    const known =
      spec.dtype === 'ternary' &&
      [1, 2, 4].includes(spec.tex) &&
      (encoding === 'nested' || (encoding === 'residual' && version >= 2)) &&
      spec.bits === weightCodeBits({ quant: { method: spec.method, thresholdFactor: spec.thresholdFactor, tex: spec.tex }, encoding });
    if (!known || spec.dtype !== 'ternary' || encoding === undefined)
      return fail(`describes weight '${spec.name}' with an unknown encoding; export the model again.`);
    const scalars = new Float32Array(take(4 * (spec.tex + 1), `the levels of '${spec.name}'`).buffer);
    const codes = unpackCodes(take(Math.ceil((n * spec.bits) / 8), `the codes of '${spec.name}'`), spec.bits, n);
    const limit = maxCode(spec.tex, encoding);
    for (let i = 0; i < n; i++) {
      const c = codes[i];
      if (c > limit || c < -limit) fail(`holds code ${c} in weight '${spec.name}', outside [−${limit}, ${limit}]: the file is damaged.`);
    }
    return {
      kind: 'ternary',
      name: spec.name,
      shape: spec.shape,
      quant: {
        method: spec.method,
        thresholdFactor: spec.thresholdFactor,
        tex: spec.tex,
        ...(spec.threshold === 'optimal' ? { threshold: spec.threshold } : {}),
      },
      ...(encoding === 'residual' ? { encoding } : {}),
      codes,
      levels: scalars.slice(0, spec.tex),
      maxAbs: scalars[spec.tex],
    };
  });
  return { header, packed: { topology: header.modelTopology, weights } };
}

/** A layer of the topology JSON (snake_case config, as in model.json). */
interface LayerJson {
  class_name: string;
  config: Record<string, unknown>;
}

/**
 * The topology with the α's of residual-coded kernels in their layers' configs (`residual_levels`):
 * a residual fit cannot be rebuilt from its digits through latent weights (packedModel.ts
 * latentFromCodes), so those layers hold their exact ternary values and read their branches off them
 * (server/core/quantizer.ts LayerQuant.residualLevels).
 */
function topologyForLoading(packed: PackedModel): Record<string, unknown> {
  const residual = new Map<string, number[]>();
  for (const w of packed.weights) {
    if (w.kind === 'ternary' && w.quant.threshold === 'optimal')
      residual.set(w.name.slice(0, w.name.lastIndexOf('/')), Array.from(w.levels));
  }
  if (residual.size === 0) return packed.topology;
  const topology = JSON.parse(JSON.stringify(packed.topology)) as { config?: { layers?: LayerJson[] } };
  const visit = (layers: LayerJson[] | undefined, prefix: string): void => {
    for (const layer of layers ?? []) {
      const name = `${prefix}${String(layer.config.name)}`;
      const nested = layer.config.layers as LayerJson[] | undefined;
      if (Array.isArray(nested)) visit(nested, `${name}/`);
      const levels = residual.get(name) ?? residual.get(String(layer.config.name));
      if (levels && TERNARY_CLASSES.has(layer.class_name)) layer.config.residual_levels = levels;
    }
  };
  visit(topology.config?.layers, '');
  return topology as Record<string, unknown>;
}

/**
 * Builds a LayersModel from decoded `.tern` contents: ternary layers get latent weights that
 * ternarize to the stored codes; residual-coded ones (REL with optimal thresholds) hold their
 * ternary values (topologyForLoading).
 */
export async function modelFromPacked(packed: PackedModel, source = 'the .tern file'): Promise<LayersModel> {
  const model = await models.modelFromJSON({
    modelTopology: topologyForLoading(packed),
  } as unknown as tf.io.ModelJSON['modelTopology'] as never);
  const byName = new Map(packed.weights.map((w) => [w.name, w]));
  const values = model.weights.map((variable) => {
    const w = byName.get(variable.originalName);
    if (!w)
      throw new TernFormatError(`${source} has no values for weight '${variable.originalName}' of its model; export the model again.`);
    if (count(w.shape) !== count(variable.shape as number[]))
      throw new TernFormatError(`${source}: weight '${w.name}' has shape [${w.shape}] but the model needs [${variable.shape.join(', ')}].`);
    const values = w.kind === 'float' || w.quant.threshold === 'optimal' ? ternaryValues(w) : latentFromCodes(w);
    return tf.tensor(values, variable.shape as number[], 'float32');
  });
  model.setWeights(values);
  tf.dispose(values);
  return model;
}

/** Reads a `.tern` file into a LayersModel. */
export async function loadTernModel(path: string): Promise<LayersModel> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new TernFormatError(`Cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`);
  }
  return modelFromPacked(decodeTern(bytes, path).packed, path);
}
