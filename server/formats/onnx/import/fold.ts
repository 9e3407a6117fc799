/**
 * Constant folding of the small integer subgraphs exporters write around shape ops: torch writes
 * `x.view(x.size(0), -1)` as Shape → Gather → Unsqueeze → Concat → Reshape, and `F.pad` as
 * Constant → ConstantOfShape → Concat → Reshape → Slice → Transpose → Reshape → Cast → Pad. The
 * importer evaluates these on plain numbers; the batch size, unknown until run time, is NaN (it
 * stays NaN through the arithmetic, and Reshape reads a NaN at position 0 as "the batch").
 */
import type { onnx } from '../proto';
import { nodeError } from './errors';
import { Attributes, type ConstTensor } from './read';

export const FOLDED_OPS = [
  'Constant',
  'ConstantOfShape',
  'Shape',
  'Gather',
  'Unsqueeze',
  'Squeeze',
  'Concat',
  'Reshape',
  'Slice',
  'Transpose',
  'Cast',
  'DequantizeLinear',
  'Identity',
  'Add',
  'Sub',
  'Mul',
  'Div',
] as const;

const size = (dims: number[]): number => dims.reduce((a, b) => a * b, 1);
const strides = (dims: number[]): number[] => dims.map((_, i) => size(dims.slice(i + 1)));
const norm = (axis: number, rank: number): number => (axis < 0 ? axis + rank : axis);

/** The ONNX element types that are integers (Cast's `to`). */
const INTEGER_TYPES = new Set([2, 3, 4, 5, 6, 7, 9, 12, 13]);

function broadcast(a: ConstTensor, b: ConstTensor, f: (x: number, y: number) => number, integer: boolean): ConstTensor {
  const rank = Math.max(a.dims.length, b.dims.length);
  const pa = [...new Array<number>(rank - a.dims.length).fill(1), ...a.dims];
  const pb = [...new Array<number>(rank - b.dims.length).fill(1), ...b.dims];
  const dims = pa.map((d, i) => Math.max(d, pb[i]));
  const [sa, sb, so] = [strides(pa), strides(pb), strides(dims)];
  const data = new Array<number>(size(dims));
  for (let i = 0; i < data.length; i++) {
    let ia = 0;
    let ib = 0;
    for (let d = 0; d < rank; d++) {
      const idx = Math.floor(i / so[d]) % dims[d];
      if (pa[d] !== 1) ia += idx * sa[d];
      if (pb[d] !== 1) ib += idx * sb[d];
    }
    const v = f(a.data[ia], b.data[ib]);
    data[i] = integer ? Math.trunc(v) : v;
  }
  return { dims, data, integer };
}

/** Axes from the attribute (older opsets) or from the second input (opset 13 on). */
function axesOf(attrs: Attributes, inputs: (ConstTensor | undefined)[]): number[] {
  return inputs[1] ? inputs[1].data : attrs.ints('axes', []);
}

/**
 * Evaluates `node` on constant inputs. `inputs` are the node's inputs (undefined where optional and
 * absent); Shape's input is given as its (ONNX-order) shape instead, the batch as NaN.
 */
export function foldNode(node: onnx.INodeProto, inputs: (ConstTensor | undefined)[], file: string, opset: number): ConstTensor {
  const attrs = new Attributes(node, file);
  const [x] = inputs;
  const need = (t: ConstTensor | undefined, what: string): ConstTensor => {
    if (!t) throw nodeError(file, node, `needs its ${what} input.`);
    return t;
  };
  switch (node.opType) {
    case 'Constant': {
      for (const key of ['value', 'value_float', 'value_floats', 'value_int', 'value_ints']) {
        const t = attrs.tensor(key);
        if (t) return t;
      }
      throw nodeError(file, node, 'has no value attribute the importer reads (value, value_float(s), value_int(s)).');
    }
    case 'ConstantOfShape': {
      const dims = need(x, 'shape').data;
      const value = attrs.tensor('value') ?? { dims: [1], data: [0], integer: false };
      return { dims, data: new Array<number>(size(dims)).fill(value.data[0]), integer: value.integer };
    }
    case 'Shape': {
      const shape = need(x, 'data').dims;
      const rank = shape.length;
      const start = norm(attrs.int('start', 0), rank);
      const end = attrs.has('end') ? norm(attrs.int('end', rank), rank) : rank;
      const data = shape.slice(start, end);
      return { dims: [data.length], data, integer: true };
    }
    case 'Gather': {
      const data = need(x, 'data');
      const indices = need(inputs[1], 'indices');
      const axis = norm(attrs.int('axis', 0), data.dims.length);
      const outer = size(data.dims.slice(0, axis));
      const inner = size(data.dims.slice(axis + 1));
      const n = data.dims[axis];
      const out: number[] = [];
      for (let o = 0; o < outer; o++) {
        for (const raw of indices.data) {
          const idx = raw < 0 ? raw + n : raw;
          for (let i = 0; i < inner; i++) out.push(data.data[(o * n + idx) * inner + i]);
        }
      }
      return { dims: [...data.dims.slice(0, axis), ...indices.dims, ...data.dims.slice(axis + 1)], data: out, integer: data.integer };
    }
    case 'Unsqueeze': {
      const t = need(x, 'data');
      const rank = t.dims.length + axesOf(attrs, inputs).length;
      const axes = axesOf(attrs, inputs)
        .map((a) => norm(a, rank))
        .sort((a, b) => a - b);
      const dims = [...t.dims];
      for (const a of axes) dims.splice(a, 0, 1);
      return { ...t, dims };
    }
    case 'Squeeze': {
      const t = need(x, 'data');
      const axes = axesOf(attrs, inputs).map((a) => norm(a, t.dims.length));
      const dims = t.dims.filter((d, i) => (axes.length ? !axes.includes(i) : d !== 1));
      return { ...t, dims };
    }
    case 'Concat': {
      const parts = inputs.map((t) => need(t, 'data'));
      const rank = parts[0].dims.length;
      const axis = norm(attrs.int('axis', 0), rank);
      const outer = size(parts[0].dims.slice(0, axis));
      const data: number[] = [];
      for (let o = 0; o < outer; o++) {
        for (const p of parts) {
          const chunk = size(p.dims.slice(axis));
          data.push(...p.data.slice(o * chunk, (o + 1) * chunk));
        }
      }
      const dims = [...parts[0].dims];
      dims[axis] = parts.reduce((s, p) => s + p.dims[axis], 0);
      return { dims, data, integer: parts.every((p) => p.integer) };
    }
    case 'Reshape': {
      const t = need(x, 'data');
      const target = need(inputs[1], 'shape').data.map((d, i) => (d === 0 && attrs.int('allowzero', 0) === 0 ? t.dims[i] : d));
      const known = target.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
      return { ...t, dims: target.map((d) => (d === -1 ? t.data.length / known : d)) };
    }
    case 'Slice': {
      const t = need(x, 'data');
      const rank = t.dims.length;
      const starts = opset >= 10 ? need(inputs[1], 'starts').data : attrs.ints('starts', []);
      const ends = opset >= 10 ? need(inputs[2], 'ends').data : attrs.ints('ends', []);
      const axes = (opset >= 10 ? inputs[3]?.data : attrs.ints('axes', [])) ?? [];
      const steps = (opset >= 10 ? inputs[4]?.data : undefined) ?? [];
      const ranges = t.dims.map((d) => ({ start: 0, end: d, step: 1 }));
      starts.forEach((s, i) => {
        const axis = norm(axes.length ? axes[i] : i, rank);
        const d = t.dims[axis];
        const step = steps[i] ?? 1;
        const clampStart = (v: number): number => (v < 0 ? v + d : v);
        let start = clampStart(s);
        let end = clampStart(ends[i]);
        if (step > 0) {
          start = Math.min(Math.max(start, 0), d);
          end = Math.min(Math.max(end, 0), d);
        } else {
          start = Math.min(Math.max(start, -1), d - 1);
          end = Math.min(Math.max(end, -1), d - 1);
        }
        ranges[axis] = { start, end, step };
      });
      const index = ranges.map((r) => {
        const out: number[] = [];
        for (let v = r.start; r.step > 0 ? v < r.end : v > r.end; v += r.step) out.push(v);
        return out;
      });
      const st = strides(t.dims);
      const data: number[] = [];
      const walk = (d: number, offset: number): void => {
        if (d === rank) {
          data.push(t.data[offset]);
          return;
        }
        for (const v of index[d]) walk(d + 1, offset + v * st[d]);
      };
      walk(0, 0);
      return { dims: index.map((i) => i.length), data, integer: t.integer };
    }
    case 'Transpose': {
      const t = need(x, 'data');
      const rank = t.dims.length;
      const perm = attrs.ints(
        'perm',
        t.dims.map((_, i) => rank - 1 - i),
      );
      const dims = perm.map((p) => t.dims[p]);
      const [si, so] = [strides(t.dims), strides(dims)];
      const data = new Array<number>(t.data.length);
      for (let i = 0; i < data.length; i++) {
        let from = 0;
        for (let d = 0; d < rank; d++) from += (Math.floor(i / so[d]) % dims[d]) * si[perm[d]];
        data[i] = t.data[from];
      }
      return { dims, data, integer: t.integer };
    }
    case 'Cast': {
      const t = need(x, 'input');
      const integer = INTEGER_TYPES.has(attrs.int('to', 1));
      return { dims: t.dims, data: integer ? t.data.map(Math.trunc) : t.data, integer };
    }
    case 'DequantizeLinear': {
      // y = (x − zero_point) · scale in float32, one scale per tensor (as our model.onnx writes ternary codes).
      const q = need(x, 'x');
      const scale = need(inputs[1], 'x_scale');
      const zero = inputs[2];
      if (scale.data.length !== 1 || (zero && zero.data.length !== 1))
        throw nodeError(file, node, 'dequantizes per axis or per block; the importer folds one scale (and zero point) per tensor.');
      const [s, z] = [Math.fround(scale.data[0]), zero?.data[0] ?? 0];
      return { dims: q.dims, data: q.data.map((v) => Math.fround((v - z) * s)), integer: false };
    }
    case 'Identity':
      return need(x, 'input');
    case 'Add':
    case 'Sub':
    case 'Mul':
    case 'Div': {
      const a = need(x, 'A');
      const b = need(inputs[1], 'B');
      const integer = a.integer && b.integer;
      const f = {
        Add: (p: number, q: number) => p + q,
        Sub: (p: number, q: number) => p - q,
        Mul: (p: number, q: number) => p * q,
        Div: (p: number, q: number) => p / q,
      }[node.opType];
      return broadcast(a, b, f, integer);
    }
    default:
      throw nodeError(file, node, 'cannot be folded into a constant.');
  }
}
