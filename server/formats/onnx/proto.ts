/**
 * ONNX ModelProto reading and writing, shared by export (server/formats/onnx/export/) and import
 * (server/formats/onnx/import/). The schema and codec are the maintained `onnx-proto` package (protobufjs
 * static code generated from onnx.proto); this module adds only what both sides need: decoding
 * with an actionable error, tensor payloads as typed arrays, and small builders for graph parts.
 *
 * onnx-proto's schema is ONNX 1.10; newer element types (INT4 = 22, INT2 = 26, …) are still
 * written correctly because TensorProto.data_type is a plain int32 on the wire.
 */
import { readFile } from 'node:fs/promises';
import { onnx } from 'onnx-proto';
import { UserError } from '../../../shared/userError';

export { onnx };

/** TensorProto.DataType numbers, including those newer than onnx-proto's schema (onnx.proto of ONNX 1.20). */
export const DataType = {
  UNDEFINED: 0,
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  BFLOAT16: 16,
  UINT4: 21,
  INT4: 22,
  UINT2: 25,
  INT2: 26,
} as const;
export type DataTypeNumber = (typeof DataType)[keyof typeof DataType];

const DATA_TYPE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(DataType).map(([k, v]) => [v, k]));

/** Name of an element type number, e.g. 1 → "FLOAT"; unknown numbers as "type 42". */
export function dataTypeName(type: number): string {
  return DATA_TYPE_NAMES[type] ?? `type ${type}`;
}

/** A `.onnx` file that cannot be read: which file and what is wrong. */
export class OnnxFormatError extends UserError {
  constructor(message: string) {
    super('badModel', message);
    this.name = 'OnnxFormatError';
  }
}

/** An int64 as protobufjs decodes it: a number, or a Long object when `long` is installed. */
type Int64 = number | { toNumber(): number } | { low: number; high: number; unsigned?: boolean };

/** Converts protobufjs int64 values (number or Long) to a JS number. */
export function toNumber(value: Int64 | null | undefined): number {
  if (value === null || value === undefined) return 0;
  if (typeof value === 'number') return value;
  if ('toNumber' in value) return value.toNumber();
  return value.high * 4294967296 + (value.low >>> 0);
}

/** Decodes ModelProto bytes. `source` names the file in errors. */
export function decodeModel(bytes: Uint8Array, source = 'the ONNX model'): onnx.ModelProto {
  let model: onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw new OnnxFormatError(
      `${source} is not a valid ONNX file (${(err as Error).message}); it may be truncated or not an ONNX model: export it again.`,
    );
  }
  if (!model.graph) throw new OnnxFormatError(`${source} holds no graph: it is not an ONNX model (or is empty); export it again.`);
  return model;
}

/** Reads and decodes a `.onnx` file. */
export async function readModel(path: string): Promise<onnx.ModelProto> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new OnnxFormatError(`Cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`);
  }
  return decodeModel(bytes, path);
}

/** Encodes a ModelProto (or its plain-object form) to bytes. */
export function encodeModel(model: onnx.IModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

/** Dimensions of a tensor as numbers. */
export function tensorDims(t: onnx.ITensorProto): number[] {
  return (t.dims ?? []).map(toNumber);
}

function elementCount(dims: number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** Copies raw little-endian bytes into an aligned typed array. */
function fromRaw<T>(raw: Uint8Array, ctor: { new (buf: ArrayBuffer): T; BYTES_PER_ELEMENT: number }, count: number, name: string): T {
  if (raw.byteLength !== count * ctor.BYTES_PER_ELEMENT) {
    throw new OnnxFormatError(
      `Tensor "${name}": raw_data holds ${raw.byteLength} bytes, its shape needs ${count * ctor.BYTES_PER_ELEMENT}; the file is damaged.`,
    );
  }
  const copy = new Uint8Array(raw.byteLength);
  copy.set(raw);
  return new ctor(copy.buffer);
}

/**
 * The values of a FLOAT, DOUBLE, INT8, UINT8, INT32 or INT64 tensor (initializer or Constant
 * value) as a Float32Array, whichever of raw_data or the typed repeated fields holds them.
 * INT64 values beyond 2^53 lose precision (shapes and axes never reach that).
 */
export function tensorToFloat32(t: onnx.ITensorProto): Float32Array {
  const dims = tensorDims(t);
  const count = elementCount(dims);
  const name = t.name ?? '';
  const raw = t.rawData && t.rawData.byteLength > 0 ? t.rawData : undefined;
  const type = t.dataType ?? 0;
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    throw new OnnxFormatError(
      `Tensor "${name}" is stored in an external data file; save the model with its weights inside the .onnx file (onnx.save_model(..., save_as_external_data=False)).`,
    );
  }
  switch (type) {
    case DataType.FLOAT:
      return raw ? fromRaw(raw, Float32Array, count, name) : Float32Array.from(t.floatData ?? []);
    case DataType.DOUBLE:
      return Float32Array.from(raw ? fromRaw(raw, Float64Array, count, name) : (t.doubleData ?? []));
    case DataType.INT8:
      return Float32Array.from(raw ? fromRaw(raw, Int8Array, count, name) : (t.int32Data ?? []));
    case DataType.UINT8:
      return Float32Array.from(raw ? fromRaw(raw, Uint8Array, count, name) : (t.int32Data ?? []));
    case DataType.INT32:
      return Float32Array.from(raw ? fromRaw(raw, Int32Array, count, name) : (t.int32Data ?? []));
    case DataType.INT4:
    case DataType.UINT4:
    case DataType.INT2:
    case DataType.UINT2: {
      const bits = type === DataType.INT4 || type === DataType.UINT4 ? 4 : 2;
      const signed = type === DataType.INT4 || type === DataType.INT2;
      if (!raw) throw new OnnxFormatError(`Tensor "${name}" (${dataTypeName(type)}) has no raw_data.`);
      return Float32Array.from(unpackInts(raw, bits, count, signed, name));
    }
    case DataType.INT64: {
      if (raw) return Float32Array.from(fromRaw(raw, BigInt64Array, count, name), (v) => Number(v));
      return Float32Array.from((t.int64Data ?? []).map(toNumber));
    }
    default:
      throw new OnnxFormatError(
        `Tensor "${name}" has element type ${dataTypeName(type)}; only FLOAT, DOUBLE, INT8, UINT8, INT32 and INT64 tensors are read.`,
      );
  }
}

/** Integer values (INT64/INT32) of a tensor, e.g. a Reshape shape. */
export function tensorToInts(t: onnx.ITensorProto): number[] {
  return Array.from(tensorToFloat32(t));
}

/** A FLOAT tensor (raw_data, little-endian) for an initializer. */
export function floatTensor(name: string, dims: readonly number[], values: Float32Array | readonly number[]): onnx.ITensorProto {
  const data = values instanceof Float32Array ? values : Float32Array.from(values);
  if (data.length !== elementCount([...dims])) throw new Error(`floatTensor ${name}: ${data.length} values for shape [${dims.join(', ')}]`);
  return { name, dims: [...dims], dataType: DataType.FLOAT, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/** An INT64 tensor, e.g. a Reshape target shape. */
export function int64Tensor(name: string, dims: readonly number[], values: readonly number[]): onnx.ITensorProto {
  const data = BigInt64Array.from(values.map((v) => BigInt(v)));
  return { name, dims: [...dims], dataType: DataType.INT64, rawData: new Uint8Array(data.buffer) };
}

/**
 * Packs small integers as ONNX stores sub-byte types in raw_data: `8 / bits` values per byte,
 * the first value in the lowest bits (onnx.proto: "the first element in the least significant
 * bits"); two's complement for signed types. bits 8 gives one byte per value.
 */
export function packInts(values: ArrayLike<number>, bits: 2 | 4 | 8): Uint8Array {
  const perByte = 8 / bits;
  const mask = (1 << bits) - 1;
  const out = new Uint8Array(Math.ceil(values.length / perByte));
  for (let i = 0; i < values.length; i++) {
    out[(i / perByte) | 0] |= (values[i] & mask) << ((i % perByte) * bits);
  }
  return out;
}

/** The inverse of packInts for `count` values. */
export function unpackInts(raw: Uint8Array, bits: 2 | 4 | 8, count: number, signed: boolean, name = ''): Int32Array {
  const perByte = 8 / bits;
  if (raw.byteLength !== Math.ceil(count / perByte)) {
    throw new OnnxFormatError(
      `Tensor "${name}": raw_data holds ${raw.byteLength} bytes, ${count} values of ${bits} bits need ${Math.ceil(count / perByte)}; the file is damaged.`,
    );
  }
  const mask = (1 << bits) - 1;
  const sign = 1 << (bits - 1);
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const v = (raw[(i / perByte) | 0] >> ((i % perByte) * bits)) & mask;
    out[i] = signed && v & sign ? v - (1 << bits) : v;
  }
  return out;
}

/**
 * An integer tensor whose payload is already packed as ONNX stores it in raw_data (INT8: one
 * byte each; INT4/UINT4: two per byte, low nibble first; INT2/UINT2: four per byte, lowest bits
 * first).
 */
export function packedIntTensor(name: string, dims: readonly number[], dataType: number, raw: Uint8Array): onnx.ITensorProto {
  return { name, dims: [...dims], dataType, rawData: raw };
}

/** A float attribute. */
export function attrFloat(name: string, f: number): onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.FLOAT, f };
}

/** An int attribute. */
export function attrInt(name: string, i: number): onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INT, i };
}

/** An ints attribute. */
export function attrInts(name: string, ints: readonly number[]): onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INTS, ints: [...ints] };
}

/** A string attribute. */
export function attrString(name: string, s: string): onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode(s) };
}

/** A graph node. */
export function node(
  opType: string,
  inputs: readonly string[],
  outputs: readonly string[],
  name: string,
  attributes: onnx.IAttributeProto[] = [],
): onnx.INodeProto {
  return { opType, input: [...inputs], output: [...outputs], name, attribute: attributes };
}

/** A float32 graph input/output with a fixed shape; `null` dims are symbolic (named "N" for batch). */
export function floatValueInfo(name: string, dims: readonly (number | null)[]): onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: dims.map((d) => (d === null ? { dimParam: 'N' } : { dimValue: d })) } } },
  };
}

/** Attribute value by name from a node, or undefined. */
export function attribute(n: onnx.INodeProto, name: string): onnx.IAttributeProto | undefined {
  return (n.attribute ?? []).find((a) => a.name === name);
}

/** Shape of a value info: numbers for fixed dims, strings for symbolic dims, null for unknown. */
export function valueInfoDims(v: onnx.IValueInfoProto): (number | string | null)[] {
  const dims = v.type?.tensorType?.shape?.dim ?? [];
  // dimValue is protobufjs's Long | number, whose Long type the linter cannot resolve.
  // eslint-disable-next-line @typescript-eslint/no-unsafe-argument
  return dims.map((d) => (d.dimParam ? d.dimParam : d.dimValue !== undefined && d.dimValue !== null ? toNumber(d.dimValue) : null));
}

/** Builds a ModelProto with the default (ai.onnx) opset. */
export function model(
  graph: onnx.IGraphProto,
  opts: { opset: number; irVersion: number; producerVersion?: string; docString?: string; metadata?: Record<string, string> },
): onnx.IModelProto {
  return {
    irVersion: opts.irVersion,
    opsetImport: [{ domain: '', version: opts.opset }],
    producerName: 'ternary-studio',
    producerVersion: opts.producerVersion ?? '',
    docString: opts.docString ?? '',
    graph,
    metadataProps: Object.entries(opts.metadata ?? {}).map(([key, value]) => ({ key, value })),
  };
}
