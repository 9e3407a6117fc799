/**
 * Reading an `.onnx` file: the decode (server/formats/onnx/proto.ts, on `onnx-proto`) with errors that name
 * the file, and the conversions of its tensors and attributes to plain numbers (float16, integer and
 * bool constants included, which shape subgraphs use).
 */
import { promises as fs } from 'node:fs';
import { DataType, dataTypeName, decodeModel, onnx, OnnxFormatError, toNumber, unpackInts } from '../proto';
import { OnnxImportError, nodeError } from './errors';

type Int64 = number | { toNumber(): number };
export { toNumber };

/** Reads and decodes `file` (server/formats/onnx/proto.ts); a file that is not a complete ONNX model is an error naming it. */
export async function readOnnxModel(file: string): Promise<onnx.ModelProto> {
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(file);
  } catch {
    throw new OnnxImportError(`Cannot read ${file}. Check that the file exists and is readable.`, file);
  }
  let model: onnx.ModelProto;
  try {
    model = decodeModel(bytes, file);
  } catch (err) {
    if (err instanceof OnnxFormatError) throw new OnnxImportError(err.message, file);
    throw err;
  }
  if ((model.graph?.node ?? []).length === 0) {
    throw new OnnxImportError(
      `${file} holds an ONNX graph with no nodes; the file may be truncated or not an ONNX model: export it again.`,
      file,
    );
  }
  return model;
}

/** The opset of the default ('' or 'ai.onnx') domain. */
export function defaultOpset(model: onnx.IModelProto): number {
  const entry = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  return entry ? toNumber(entry.version as Int64) : 1;
}

/** A constant tensor: initializers, Constant nodes and what is folded from them. */
export interface ConstTensor {
  dims: number[];
  /** Row-major values. Int64 values beyond 2^53 lose precision (only INT64_MAX/MIN of Slice bounds occur). */
  data: number[];
  /** True for integer element types (shapes, axes, pads). */
  integer: boolean;
}

function view(raw: Uint8Array): DataView {
  return new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
}

/** The values of a TensorProto as numbers (float, double, float16, the integer types and bool). */
export function tensorValues(tensor: onnx.ITensorProto, file: string, where: string): ConstTensor {
  const dims = (tensor.dims ?? []).map((d) => toNumber(d as Int64));
  const count = dims.reduce((a, b) => a * b, 1);
  if (tensor.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL || (tensor.externalData ?? []).length > 0) {
    throw new OnnxImportError(
      `${file}: tensor '${tensor.name ?? ''}' (${where}) keeps its data in an external file, which the importer does not read. ` +
        'Save the model with its weights inside the .onnx file (onnx.save_model(..., save_as_external_data=False)).',
      file,
    );
  }
  const raw = tensor.rawData && tensor.rawData.length > 0 ? tensor.rawData : undefined;
  const type: number = tensor.dataType ?? DataType.FLOAT;
  const data: number[] = new Array<number>(count);
  let integer = true;
  const from = <T>(list: T[] | null | undefined, map: (v: T) => number): void => {
    const values = list ?? [];
    for (let i = 0; i < count; i++) data[i] = map(values[i]);
  };
  switch (type) {
    case DataType.FLOAT:
      integer = false;
      if (raw) for (let i = 0, v = view(raw); i < count; i++) data[i] = v.getFloat32(i * 4, true);
      else from(tensor.floatData, Number);
      break;
    case DataType.DOUBLE:
      integer = false;
      if (raw) for (let i = 0, v = view(raw); i < count; i++) data[i] = v.getFloat64(i * 8, true);
      else from(tensor.doubleData, Number);
      break;
    case DataType.FLOAT16:
      integer = false;
      if (raw) for (let i = 0, v = view(raw); i < count; i++) data[i] = halfToFloat(v.getUint16(i * 2, true));
      else from(tensor.int32Data, halfToFloat);
      break;
    case DataType.INT64:
      if (raw) for (let i = 0, v = view(raw); i < count; i++) data[i] = Number(v.getBigInt64(i * 8, true));
      else from(tensor.int64Data as Int64[], toNumber);
      break;
    case DataType.INT32:
    case DataType.INT16:
    case DataType.INT8:
    case DataType.UINT8:
    case DataType.UINT16:
    case DataType.BOOL: {
      if (raw) {
        const v = view(raw);
        const size = type === DataType.INT32 ? 4 : type === DataType.INT16 || type === DataType.UINT16 ? 2 : 1;
        for (let i = 0; i < count; i++) {
          data[i] =
            size === 4
              ? v.getInt32(i * 4, true)
              : size === 2
                ? type === DataType.INT16
                  ? v.getInt16(i * 2, true)
                  : v.getUint16(i * 2, true)
                : type === DataType.INT8
                  ? v.getInt8(i)
                  : v.getUint8(i);
        }
      } else from(tensor.int32Data, Number);
      break;
    }
    case DataType.INT4:
    case DataType.UINT4:
    case DataType.INT2:
    case DataType.UINT2: {
      // Packed several a byte, first in the lowest bits (our model.onnx writes ternary codes so).
      if (!raw)
        throw new OnnxImportError(`${file}: tensor '${tensor.name ?? ''}' (${where}) has no raw_data; the file may be damaged.`, file);
      const bits = type === DataType.INT4 || type === DataType.UINT4 ? 4 : 2;
      try {
        const values = unpackInts(raw, bits, count, type === DataType.INT4 || type === DataType.INT2, tensor.name ?? '');
        for (let i = 0; i < count; i++) data[i] = values[i];
      } catch (err) {
        if (err instanceof OnnxFormatError) throw new OnnxImportError(`${file}: ${err.message}`, file);
        throw err;
      }
      break;
    }
    default:
      throw new OnnxImportError(
        `${file}: tensor '${tensor.name ?? ''}' (${where}) has element type ${dataTypeName(type)}; ` +
          'the importer reads float, double, float16 and integer tensors (INT2 and INT4 included).',
        file,
      );
  }
  if (data.some((v) => v === undefined)) {
    throw new OnnxImportError(
      `${file}: tensor '${tensor.name ?? ''}' (${where}) has fewer values than its dims ${JSON.stringify(dims)} need; the file may be damaged.`,
      file,
    );
  }
  return { dims, data, integer };
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** Typed access to a node's attributes, with defaults and errors naming the node. */
export class Attributes {
  private readonly byName = new Map<string, onnx.IAttributeProto>();

  constructor(
    private readonly node: onnx.INodeProto,
    private readonly file: string,
  ) {
    for (const a of node.attribute ?? []) this.byName.set(a.name ?? '', a);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  int(name: string, fallback: number): number {
    const a = this.byName.get(name);
    return a ? toNumber(a.i as Int64) : fallback;
  }

  float(name: string, fallback: number): number {
    const a = this.byName.get(name);
    return a ? Number(a.f ?? 0) : fallback;
  }

  ints(name: string, fallback: number[]): number[] {
    const a = this.byName.get(name);
    return a ? (a.ints ?? []).map((v) => toNumber(v as Int64)) : fallback;
  }

  string(name: string, fallback: string): string {
    const a = this.byName.get(name);
    return a?.s ? Buffer.from(a.s).toString('utf8') : fallback;
  }

  tensor(name: string): ConstTensor | undefined {
    const a = this.byName.get(name);
    if (!a) return undefined;
    if (a.t) return tensorValues(a.t, this.file, `attribute '${name}' of ${this.node.name ?? ''}`);
    // Constant's value_float(s) / value_int(s) forms.
    if (name === 'value_float') return { dims: [], data: [Number(a.f ?? 0)], integer: false };
    if (name === 'value_int') return { dims: [], data: [toNumber(a.i as Int64)], integer: true };
    if (name === 'value_floats') return { dims: [(a.floats ?? []).length], data: (a.floats ?? []).map(Number), integer: false };
    if (name === 'value_ints')
      return { dims: [(a.ints ?? []).length], data: (a.ints ?? []).map((v) => toNumber(v as Int64)), integer: true };
    throw nodeError(this.file, this.node, `attribute '${name}' has a form the importer does not read.`);
  }
}
