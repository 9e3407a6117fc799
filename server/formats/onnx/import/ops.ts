/**
 * One converter per supported ONNX op: it takes the node's input values and returns its outputs,
 * applying the tfjs layers (NHWC) that compute what the op computes on NCHW tensors.
 */
import { layers, type SymbolicTensor } from '@tensorflow/tfjs-layers';
import type { onnx } from '../proto';
import { ChannelZeroPad, HardSigmoid, HardSwish, OptionAShortcut, TernaryConv2D, TernaryDense } from '../../../core/layers';
import { ternaryKernel } from './ternary';
import type { OnnxTernaryLayer } from '../ternaryMetadata';
import type { ImportContext } from './context';
import {
  convKernel,
  denseKernel,
  depthwiseKernel,
  groupedConvKernel,
  nhwcAxis,
  permuteFlattenedRows,
  samePads,
  type Weight,
} from './layout';
import type { Attributes, ConstTensor } from './read';
import { onnxShape, type TensorValue, type Value } from './values';

type Converter = (ctx: ImportContext, node: onnx.INodeProto, inputs: (Value | undefined)[], attrs: Attributes) => Value | Value[];

const tensorOf = (
  t: SymbolicTensor,
  like: Pick<TensorValue, 'layout'>,
  nonNegative: boolean,
  extra: Partial<TensorValue> = {},
): TensorValue => ({ kind: 'tensor', t, layout: like.layout, nonNegative, ...extra });

/** A ternary layer's settings; with optimal thresholds its kernel holds the fit, whose α's it keeps (LayerQuant.residualLevels). */
const quantOf = ({ method, thresholdFactor, tex, threshold, levels }: OnnxTernaryLayer) => ({
  method,
  thresholdFactor,
  tex,
  ...(threshold === 'optimal' ? { threshold, residualLevels: levels } : {}),
});

const vector = (c: ConstTensor, scale = 1): Weight => ({ shape: [c.data.length], data: Float32Array.from(c.data, (v) => v * scale) });

/** An elementwise op: same layout and feature order as its input. */
function unary(
  ctx: ImportContext,
  node: onnx.INodeProto,
  inputs: (Value | undefined)[],
  layer: { apply: (x: SymbolicTensor) => unknown },
  nonNegative: (x: TensorValue) => boolean,
): TensorValue {
  const x = ctx.tensor(node, inputs[0], 'X');
  return tensorOf(ctx.apply(layer as never, x.t), x, nonNegative(x), { nchwFlatten: x.nchwFlatten });
}

type PoolKind = 'conv' | 'max' | 'avg';

/**
 * The input and the tfjs padding ('valid' or 'same') that give the ONNX op's padding. tfjs's 'same'
 * puts an odd pixel after, PyTorch pads symmetrically: where they differ the input gets an explicit
 * ZeroPadding2D, which is exact for convolutions, for average pools that count the padding, and for
 * max pools over non-negative inputs (a zero never beats the window's own maximum then).
 */
function padding(
  ctx: ImportContext,
  node: onnx.INodeProto,
  x: TensorValue,
  kind: PoolKind,
  kernel: number[],
  strides: number[],
  attrs: Attributes,
  countIncludePad = false,
): { x: TensorValue; padding: 'valid' | 'same' } {
  const [, , h, w] = onnxShape(x) as number[];
  const [kh, kw] = kernel;
  const [sh, sw] = strides;
  const autoPad = attrs.string('auto_pad', 'NOTSET');
  const [sameH, sameW] = [samePads(h, kh, sh), samePads(w, kw, sw)];
  let pads: number[];
  if (autoPad === 'VALID') pads = [0, 0, 0, 0];
  else if (autoPad === 'SAME_UPPER') pads = [sameH[0], sameW[0], sameH[1], sameW[1]];
  else if (autoPad === 'SAME_LOWER') pads = [sameH[1], sameW[1], sameH[0], sameW[0]];
  else pads = attrs.ints('pads', [0, 0, 0, 0]);
  if (pads.length !== 4 || pads.some((p) => p < 0))
    throw ctx.error(node, `pads ${JSON.stringify(pads)} are not 4 non-negative numbers (2-D ops only).`);
  const [top, left, bottom, right] = pads;
  if (attrs.int('ceil_mode', 0) === 1) {
    const floorOut = (n: number, k: number, s: number, p: number): number => Math.floor((n + p - k) / s) + 1;
    const ceilOut = (n: number, k: number, s: number, p: number): number => Math.ceil((n + p - k) / s) + 1;
    if (
      floorOut(h, kh, sh, top + bottom) !== ceilOut(h, kh, sh, top + bottom) ||
      floorOut(w, kw, sw, left + right) !== ceilOut(w, kw, sw, left + right)
    ) {
      throw ctx.error(node, 'ceil_mode = 1 changes the output size here, which tfjs pooling cannot do; export with ceil_mode=False.');
    }
  }
  if (pads.every((p) => p === 0)) return { x, padding: 'valid' };
  const isSame = top === sameH[0] && bottom === sameH[1] && left === sameW[0] && right === sameW[1];
  if (isSame && (kind !== 'avg' || !countIncludePad)) return { x, padding: 'same' };
  if (kind === 'conv' || (kind === 'avg' && countIncludePad) || (kind === 'max' && x.nonNegative)) {
    const t = ctx.apply(
      layers.zeroPadding2d({
        name: ctx.layerName(node, '_pad'),
        padding: [
          [top, bottom],
          [left, right],
        ],
      }),
      x.t,
    );
    return { x: tensorOf(t, x, x.nonNegative), padding: 'valid' };
  }
  throw ctx.error(
    node,
    kind === 'max'
      ? `padding ${JSON.stringify(pads)} on an input that may be negative cannot be written with tfjs pooling ('same' pads ${JSON.stringify([sameH[0], sameW[0], sameH[1], sameW[1]])}); put the max pool after a ReLU or pad explicitly.`
      : `padding ${JSON.stringify(pads)} with count_include_pad = 0 cannot be written with tfjs pooling ('same' pads ${JSON.stringify([sameH[0], sameW[0], sameH[1], sameW[1]])}); export with count_include_pad=True.`,
  );
}

function conv(ctx: ImportContext, node: onnx.INodeProto, inputs: (Value | undefined)[], attrs: Attributes): Value {
  const x = ctx.as4d(node, ctx.materialize(node, ctx.tensor(node, inputs[0], 'X')));
  const w = ctx.constant(node, inputs[1], 'W (weights)');
  const b = inputs[2] ? ctx.constant(node, inputs[2], 'B (bias)') : undefined;
  if (w.dims.length !== 4)
    throw ctx.error(node, `has ${w.dims.length - 2}-D weights ${JSON.stringify(w.dims)}; only 2-D convolutions are supported.`);
  const [o, ig, kh, kw] = w.dims;
  const group = attrs.int('group', 1);
  const dilations = attrs.ints('dilations', [1, 1]);
  if (dilations.some((d) => d !== 1))
    throw ctx.error(
      node,
      `dilations ${JSON.stringify(dilations)}: dilated convolutions are not supported (the ternary conv layers have dilation 1).`,
    );
  const strides = attrs.ints('strides', [1, 1]);
  const c = onnxShape(x)[1] as number;
  if (ig * group !== c)
    throw ctx.error(node, `weights ${JSON.stringify(w.dims)} with group ${group} do not fit an input of ${c} channels.`);
  const padded = padding(ctx, node, x, 'conv', [kh, kw], strides, attrs);
  const ternary = group === 1 ? ctx.ternaryLayers.get(node.name ?? '') : undefined;
  const name = ternary ? ctx.uniqueName(ternary.layer) : ctx.layerName(node);
  const bias = b ? [vector(b)] : [];
  const common = {
    name,
    kernelSize: [kh, kw] as [number, number],
    strides: strides as [number, number],
    padding: padded.padding,
    useBias: b !== undefined,
  };
  let t: SymbolicTensor;
  if (ternary) {
    const kernel = ternaryKernel(ctx, node, convKernel(w.data, w.dims), ternary);
    t = ctx.apply(new TernaryConv2D({ ...common, filters: o, ...quantOf(ternary) }), padded.x.t, [kernel, ...bias]);
  } else if (group === 1) {
    t = ctx.apply(layers.conv2d({ ...common, filters: o }), padded.x.t, [convKernel(w.data, w.dims), ...bias]);
  } else if (group === c && ig === 1) {
    t = ctx.apply(layers.depthwiseConv2d({ ...common, depthMultiplier: o / c }), padded.x.t, [depthwiseKernel(w.data, w.dims, c), ...bias]);
  } else {
    t = ctx.apply(layers.conv2d({ ...common, filters: o }), padded.x.t, [groupedConvKernel(w.data, w.dims, group), ...bias]);
  }
  return tensorOf(t, x, false);
}

function pool(kind: 'max' | 'avg'): Converter {
  return (ctx, node, inputs, attrs) => {
    if (kind === 'max' && node.output?.[1]) throw ctx.error(node, 'its Indices output is not supported.');
    const x = ctx.as4d(node, ctx.tensor(node, inputs[0], 'X'));
    const kernel = attrs.ints('kernel_shape', []);
    if (kernel.length !== 2) throw ctx.error(node, `kernel_shape ${JSON.stringify(kernel)}: only 2-D pooling is supported.`);
    const strides = attrs.ints('strides', [1, 1]);
    if (attrs.ints('dilations', [1, 1]).some((d) => d !== 1)) throw ctx.error(node, 'dilated pooling is not supported.');
    const padded = padding(ctx, node, x, kind, kernel, strides, attrs, attrs.int('count_include_pad', 0) === 1);
    const args = {
      name: ctx.layerName(node),
      poolSize: kernel as [number, number],
      strides: strides as [number, number],
      padding: padded.padding,
    };
    const t = ctx.apply(kind === 'max' ? layers.maxPooling2d(args) : layers.averagePooling2d(args), padded.x.t);
    return tensorOf(t, x, x.nonNegative);
  };
}

function globalPool(kind: 'max' | 'avg'): Converter {
  return (ctx, node, inputs) => {
    const x = ctx.tensor(node, inputs[0], 'X');
    if (x.layout === 'squeezed') return x;
    const t = ctx.apply(
      (kind === 'avg' ? layers.globalAveragePooling2d : layers.globalMaxPooling2d)({ name: ctx.layerName(node) }),
      ctx.as4d(node, x).t,
    );
    return { kind: 'tensor', t, layout: 'squeezed', nonNegative: x.nonNegative };
  };
}

function batchNorm(ctx: ImportContext, node: onnx.INodeProto, inputs: (Value | undefined)[], attrs: Attributes): Value {
  if (attrs.int('training_mode', 0) === 1 || (node.output ?? []).filter(Boolean).length > 1) {
    throw ctx.error(node, 'is in training mode; export the model in eval mode (model.eval()).');
  }
  const x = ctx.materialize(node, ctx.tensor(node, inputs[0], 'X'));
  const [scale, bias, mean, variance] = ['scale', 'B', 'input_mean', 'input_var'].map((what, i) => ctx.constant(node, inputs[i + 1], what));
  const layer = layers.batchNormalization({
    name: ctx.layerName(node),
    axis: -1,
    epsilon: attrs.float('epsilon', 1e-5),
    momentum: attrs.float('momentum', 0.9),
  });
  return tensorOf(ctx.apply(layer, x.t, [vector(scale), vector(bias), vector(mean), vector(variance)]), x, false);
}

/** Clip as ReLU / ReLU6: min/max are attributes before opset 11, optional inputs from 11 on. */
function clip(ctx: ImportContext, node: onnx.INodeProto, inputs: (Value | undefined)[], attrs: Attributes): Value {
  const scalar = (v: Value | undefined, what: string, fallback: number): number => (v ? ctx.constant(node, v, what).data[0] : fallback);
  const min = ctx.opset < 11 ? attrs.float('min', -Infinity) : scalar(inputs[1], 'min', -Infinity);
  const max = ctx.opset < 11 ? attrs.float('max', Infinity) : scalar(inputs[2], 'max', Infinity);
  if (min !== 0 || !(max > 0))
    throw ctx.error(node, `Clip(min ${min}, max ${max}) is supported only with min 0 and max > 0 (ReLU, ReLU6).`);
  return unary(
    ctx,
    node,
    inputs,
    layers.reLU({ name: ctx.layerName(node), ...(Number.isFinite(max) ? { maxValue: max } : {}) }),
    () => true,
  );
}

function softmax(ctx: ImportContext, node: onnx.INodeProto, inputs: (Value | undefined)[], attrs: Attributes): Value {
  const x = ctx.materialize(node, ctx.tensor(node, inputs[0], 'input'));
  const rank = onnxShape(x).length;
  const raw = attrs.int('axis', ctx.opset >= 13 ? -1 : 1);
  const axis = raw < 0 ? raw + rank : raw;
  let tfAxis: number;
  if (x.layout === 'flat' && axis === 1) tfAxis = -1;
  else if (x.layout === 'squeezed' && axis === 1) tfAxis = -1;
  else if (x.layout === 'nhwc' && ctx.opset >= 13) tfAxis = nhwcAxis(axis);
  else
    throw ctx.error(
      node,
      `softmax over axis ${raw} of a rank-${rank} input (opset ${ctx.opset}) is not supported; apply it to [N, classes] logits.`,
    );
  return tensorOf(ctx.apply(layers.softmax({ name: ctx.layerName(node), axis: tfAxis }), x.t), x, true);
}

function flatten(ctx: ImportContext, node: onnx.INodeProto, x: TensorValue): TensorValue {
  if (x.layout === 'flat') return x;
  // Transpose(0, 2, 3, 1) then Flatten is tfjs's own Flatten of the NHWC maps.
  if (x.channelsLast) return tensorOf(ctx.apply(layers.flatten({ name: ctx.layerName(node) }), x.t), { layout: 'flat' }, x.nonNegative);
  if (x.layout === 'squeezed') return { ...x, layout: 'flat' };
  const [, c, h, w] = onnxShape(x) as number[];
  const t = ctx.apply(layers.flatten({ name: ctx.layerName(node) }), x.t);
  return tensorOf(t, { layout: 'flat' }, x.nonNegative, h * w > 1 ? { nchwFlatten: [c, h, w] } : {});
}

function reshape(ctx: ImportContext, node: onnx.INodeProto, inputs: (Value | undefined)[], attrs: Attributes): Value {
  const x = ctx.tensor(node, inputs[0], 'data');
  const shape = ctx.onnxDims(x);
  const target = ctx.constant(node, inputs[1], 'shape').data.map((d, i) => (d === 0 && attrs.int('allowzero', 0) === 0 ? shape[i] : d));
  const features = shape.slice(1).reduce((a, b) => a * b, 1);
  const batchLike = (d: number): boolean => Number.isNaN(d) || d === -1 || d === shape[0];
  if (target.length === shape.length && target.every((d, i) => d === shape[i] || (i === 0 && batchLike(d)))) return x;
  if (target.length === 2 && batchLike(target[0]) && (target[1] === features || (target[1] === -1 && target[0] !== -1)))
    return flatten(ctx, node, x);
  // [N, C] → [N, C, 1, 1] (a squeeze-excite gate after a global pool, as our model.onnx writes it).
  if (
    x.layout === 'flat' &&
    !x.nchwFlatten &&
    target.length === 4 &&
    batchLike(target[0]) &&
    target[1] === shape[1] &&
    target[2] === 1 &&
    target[3] === 1
  )
    return { ...x, layout: 'squeezed' };
  throw ctx.error(
    node,
    `Reshape of ${JSON.stringify(shape.map((d) => (Number.isNaN(d) ? 'N' : d)))} to ${JSON.stringify(target.map((d) => (Number.isNaN(d) ? 'N' : d)))} is not supported: Reshape is supported as a flatten to [batch, features] only.`,
  );
}

function pad(ctx: ImportContext, node: onnx.INodeProto, inputs: (Value | undefined)[], attrs: Attributes): Value {
  const mode = attrs.string('mode', 'constant');
  if (mode !== 'constant') throw ctx.error(node, `mode '${mode}' is not supported; only constant (zero) padding is.`);
  const pads = ctx.opset < 11 ? attrs.ints('pads', []) : ctx.constant(node, inputs[1], 'pads').data;
  const value = ctx.opset < 11 ? attrs.float('value', 0) : inputs[2] ? ctx.constant(node, inputs[2], 'constant_value').data[0] : 0;
  if (inputs[3]) throw ctx.error(node, 'its axes input is not supported; give pads for every axis.');
  if (value !== 0) throw ctx.error(node, `pads with the value ${value}; only zero padding is supported.`);
  const x = ctx.tensor(node, inputs[0], 'data');
  if (pads.every((p) => p === 0)) return x;
  if (pads.length !== 8 || pads.some((p) => p < 0))
    throw ctx.error(node, `pads ${JSON.stringify(pads)}: only non-negative padding of 4-D (N, C, H, W) tensors is supported.`);
  const v = ctx.as4d(node, ctx.materialize(node, x));
  const [n0, c0, h0, w0, n1, c1, h1, w1] = pads;
  if (n0 || n1) throw ctx.error(node, 'pads the batch axis, which is not supported.');
  if (c0 || c1) {
    if (h0 || h1 || w0 || w1)
      throw ctx.error(node, 'pads channels together with rows/columns, which is not supported; pad them in two Pads.');
    // PyTorch's option-A shortcut, F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, p, p)).
    return tensorOf(ctx.apply(new ChannelZeroPad({ name: ctx.layerName(node), before: c0, after: c1 }), v.t), v, v.nonNegative);
  }
  return tensorOf(
    ctx.apply(
      layers.zeroPadding2d({
        name: ctx.layerName(node),
        padding: [
          [h0, h1],
          [w0, w1],
        ],
      }),
      v.t,
    ),
    v,
    v.nonNegative,
  );
}

/** Slice of a tensor: spatial crops and strides ([:, :, a:b:s, c:d:t]), as Cropping2D + a 1×1 strided pool. */
function slice(ctx: ImportContext, node: onnx.INodeProto, inputs: (Value | undefined)[], attrs: Attributes): Value {
  const x = ctx.as4d(node, ctx.tensor(node, inputs[0], 'data'));
  const shape = onnxShape(x) as number[];
  const list = (i: number, name: string): number[] | undefined =>
    ctx.opset >= 10
      ? inputs[i]
        ? ctx.constant(node, inputs[i], name).data
        : undefined
      : attrs.has(name)
        ? attrs.ints(name, [])
        : undefined;
  const starts = list(1, 'starts') ?? [];
  const ends = list(2, 'ends') ?? [];
  const axes = list(3, 'axes') ?? starts.map((_, i) => i);
  const steps = (ctx.opset >= 10 ? list(4, 'steps') : undefined) ?? starts.map(() => 1);
  const crop = [
    [0, 0],
    [0, 0],
  ];
  const stride = [1, 1];
  starts.forEach((s, i) => {
    const axis = axes[i] < 0 ? axes[i] + 4 : axes[i];
    const d = shape[axis];
    const clamp = (v: number): number => Math.min(Math.max(v < 0 ? v + d : v, 0), d);
    const [start, end, step] = [clamp(s), clamp(ends[i]), steps[i]];
    if (step < 1) throw ctx.error(node, `step ${step}: only positive slice steps are supported.`);
    if (axis < 2) {
      if (start === 0 && end === d && step === 1) return;
      throw ctx.error(node, `slices axis ${axis} (${axis === 0 ? 'batch' : 'channels'}); only spatial (H, W) slices are supported.`);
    }
    crop[axis - 2] = [start, d - end];
    stride[axis - 2] = step;
  });
  let t = x.t;
  if (crop.flat().some((c) => c > 0))
    t = ctx.apply(layers.cropping2D({ name: ctx.layerName(node, '_crop'), cropping: crop as [[number, number], [number, number]] }), t);
  if (stride.some((s) => s > 1))
    t = ctx.apply(
      layers.averagePooling2d({ name: ctx.layerName(node), poolSize: [1, 1], strides: stride as [number, number], padding: 'valid' }),
      t,
    );
  return tensorOf(t, x, x.nonNegative);
}

/** Two tensors of one layout for a merge layer (global-pool outputs go back to 4-D next to 4-D maps). */
function mergeable(ctx: ImportContext, node: onnx.INodeProto, values: TensorValue[]): TensorValue[] {
  const plain = values.map((v, i) => ctx.materialize(node, ctx.tensor(node, v, `input ${i + 1}`)));
  if (plain.some((v) => v.layout === 'nhwc')) return plain.map((v) => ctx.as4d(node, v));
  return plain;
}

function binary(kind: 'Add' | 'Mul'): Converter {
  return (ctx, node, inputs) => {
    const [a, b] = inputs;
    if (!a || !b) throw ctx.error(node, 'needs two inputs.');
    if (kind === 'Add' && (a.kind === 'zeros' || b.kind === 'zeros')) return a.kind === 'zeros' ? b : a;
    if (a.kind === 'tensor' && b.kind === 'tensor') {
      const [x, y] = mergeable(ctx, node, [a, b]);
      const layer = kind === 'Add' ? layers.add({ name: ctx.layerName(node) }) : layers.multiply({ name: ctx.layerName(node) });
      return tensorOf(ctx.apply(layer, [x.t, y.t]), x, x.nonNegative && y.nonNegative);
    }
    const [tensor, constant] = a.kind === 'const' ? [b, a] : [a, b];
    if (kind === 'Mul' && constant.kind === 'const' && tensor.kind === 'tensor') {
      if (constant.c.data.every((v) => v === 0)) return { kind: 'zeros', like: tensor };
      if (constant.c.data.every((v) => v === 1)) return tensor;
    }
    throw ctx.error(
      node,
      kind === 'Add'
        ? 'adds a constant, which is supported only as the bias right after a MatMul (or inside Conv/Gemm).'
        : "multiplies by a constant, which is supported only for 0 (the option-A shortcut's zero channels) and 1.",
    );
  };
}

/** Sum of two or more tensors (our model.onnx writes a tfjs Add layer so). */
function sum(ctx: ImportContext, node: onnx.INodeProto, inputs: (Value | undefined)[]): Value {
  const tensors = inputs.map((v, i) => ctx.tensor(node, v, `input ${i + 1}`));
  if (tensors.length === 1) return tensors[0];
  const parts = mergeable(ctx, node, tensors);
  return tensorOf(
    ctx.apply(
      layers.add({ name: ctx.layerName(node) }),
      parts.map((p) => p.t),
    ),
    parts[0],
    parts.every((p) => p.nonNegative),
  );
}

/** Transpose of computed maps: only to [N, H, W, C] before a Flatten (see TensorValue.channelsLast). */
function transpose(ctx: ImportContext, node: onnx.INodeProto, inputs: (Value | undefined)[], attrs: Attributes): Value {
  const x = ctx.tensor(node, inputs[0], 'data');
  const perm = attrs.ints('perm', []);
  if (x.layout === 'nhwc' && perm.join(',') === '0,2,3,1') return { ...x, channelsLast: true };
  throw ctx.error(
    node,
    `perm ${JSON.stringify(perm)} of a ${onnxShape(x).length}-D tensor: the importer supports Transpose of computed tensors only as (0, 2, 3, 1) of feature maps before a Flatten.`,
  );
}

function concat(ctx: ImportContext, node: onnx.INodeProto, inputs: (Value | undefined)[], attrs: Attributes): Value {
  const values = inputs.filter((v): v is Value => v !== undefined);
  const raw = attrs.int('axis', 1);
  const zeros = values.filter((v) => v.kind === 'zeros');
  const tensors = values.filter((v): v is TensorValue => v.kind === 'tensor');
  if (values.some((v) => v.kind === 'const'))
    throw ctx.error(node, 'concatenates a constant with computed tensors, which is not supported.');
  if (zeros.length > 0) {
    const firstZero = values.findIndex((v) => v.kind === 'zeros');
    if (values.slice(firstZero).some((v) => v.kind !== 'zeros') || tensors.length === 0) {
      throw ctx.error(
        node,
        'puts zero channels before a tensor; only zeros appended after the inputs (the option-A shortcut) are supported.',
      );
    }
    const base = concatTensors(ctx, node, tensors, raw, '_cat');
    const shape = onnxShape(base);
    if (shape.length !== 4 || (raw !== 1 && raw !== -3))
      throw ctx.error(node, 'appends zeros along an axis other than the channels of a 4-D tensor.');
    const extra = zeros.reduce((sum, z) => sum + (onnxShape((z as { like: TensorValue }).like)[1] as number), 0);
    const t = ctx.apply(new OptionAShortcut({ name: ctx.layerName(node), outChannels: (shape[1] as number) + extra, stride: 1 }), base.t);
    return tensorOf(t, base, base.nonNegative);
  }
  return concatTensors(ctx, node, tensors, raw, '');
}

function concatTensors(ctx: ImportContext, node: onnx.INodeProto, tensors: TensorValue[], raw: number, suffix: string): TensorValue {
  if (tensors.length === 1) return tensors[0];
  const parts = mergeable(ctx, node, tensors);
  const rank = onnxShape(parts[0]).length;
  const axis = raw < 0 ? raw + rank : raw;
  if (axis === 0) throw ctx.error(node, 'concatenates along the batch axis, which is not supported.');
  const tfAxis = parts[0].layout === 'nhwc' ? nhwcAxis(axis) : -1;
  const t = ctx.apply(
    layers.concatenate({ name: ctx.layerName(node, suffix), axis: tfAxis }),
    parts.map((p) => p.t),
  );
  return tensorOf(
    t,
    parts[0],
    parts.every((p) => p.nonNegative),
  );
}

/** A Dense from a [K, M] kernel; after a Flatten of NCHW maps its rows are put in tfjs's order. */
function dense(
  ctx: ImportContext,
  node: onnx.INodeProto,
  input: Value | undefined,
  kernel: Weight,
  bias: Weight | undefined,
  ternary?: OnnxTernaryLayer,
): TensorValue {
  let x = ctx.tensor(node, input, 'A');
  if (x.layout === 'nhwc') throw ctx.error(node, `needs a 2-D input, got ${JSON.stringify(onnxShape(x))}; flatten the feature maps first.`);
  if (x.layout === 'squeezed') x = { ...x, layout: 'flat' };
  if (x.t.shape[1] !== kernel.shape[0])
    throw ctx.error(node, `weights of ${kernel.shape[0]} inputs do not fit an input of ${String(x.t.shape[1])} features.`);
  const k = x.nchwFlatten ? permuteFlattenedRows(kernel, x.nchwFlatten) : kernel;
  const common = { units: kernel.shape[1], useBias: bias !== undefined };
  const layer = ternary
    ? new TernaryDense({ ...common, name: ctx.uniqueName(ternary.layer), ...quantOf(ternary) })
    : layers.dense({ ...common, name: ctx.layerName(node) });
  const weights = [ternary ? ternaryKernel(ctx, node, k, ternary) : k, ...(bias ? [bias] : [])];
  return tensorOf(ctx.apply(layer, x.t, weights), { layout: 'flat' }, false);
}

function biasOf(ctx: ImportContext, node: onnx.INodeProto, c: ConstTensor, units: number, beta: number): Weight {
  if (c.data.length === units) return vector(c, beta);
  if (c.data.length === 1) return { shape: [units], data: new Float32Array(units).fill(c.data[0] * beta) };
  throw ctx.error(
    node,
    `bias of shape ${JSON.stringify(c.dims)} does not broadcast to [N, ${units}] per output; only per-output biases are supported.`,
  );
}

function gemm(ctx: ImportContext, node: onnx.INodeProto, inputs: (Value | undefined)[], attrs: Attributes): Value {
  if (attrs.int('transA', 0) !== 0) throw ctx.error(node, 'transA = 1 is not supported.');
  const b = ctx.constant(node, inputs[1], 'B (weights)');
  if (b.dims.length !== 2) throw ctx.error(node, `B has shape ${JSON.stringify(b.dims)}; a 2-D weight matrix is needed.`);
  const kernel = denseKernel(b.data, b.dims, attrs.int('transB', 0) === 1, attrs.float('alpha', 1));
  const c = inputs[2] ? ctx.constant(node, inputs[2], 'C (bias)') : undefined;
  const bias = c ? biasOf(ctx, node, c, kernel.shape[1], attrs.float('beta', 1)) : undefined;
  return dense(ctx, node, inputs[0], kernel, bias, ctx.ternaryLayers.get(node.name ?? ''));
}

/** MatMul with constant weights; a following Add of a constant (nn.Linear on some exports) becomes its bias. */
function matMul(ctx: ImportContext, node: onnx.INodeProto, inputs: (Value | undefined)[]): Value {
  const b = ctx.constant(node, inputs[1], 'B (weights)');
  if (b.dims.length !== 2) throw ctx.error(node, `B has shape ${JSON.stringify(b.dims)}; a 2-D weight matrix is needed.`);
  const kernel = denseKernel(b.data, b.dims, false, 1);
  const out = node.output?.[0] ?? '';
  const users = ctx.consumers.get(out) ?? [];
  const add = users.length === 1 && users[0].opType === 'Add' && !ctx.graphOutputs.has(out) ? users[0] : undefined;
  const other = add?.input?.find((name) => name !== out);
  const biasValue = other !== undefined ? ctx.values.get(other) : undefined;
  if (add && biasValue?.kind === 'const' && (biasValue.c.data.length === kernel.shape[1] || biasValue.c.data.length === 1)) {
    const y = dense(ctx, node, inputs[0], kernel, biasOf(ctx, add, biasValue.c, kernel.shape[1], 1));
    ctx.fused.add(add);
    ctx.values.set(add.output?.[0] ?? '', y);
    return y;
  }
  return dense(ctx, node, inputs[0], kernel, undefined);
}

function passThrough(ctx: ImportContext, node: onnx.INodeProto, inputs: (Value | undefined)[]): Value {
  if (node.opType === 'Dropout' && node.output?.[1] && ctx.consumers.has(node.output[1]))
    throw ctx.error(node, 'its mask output is used; only inference (a no-op Dropout) is supported.');
  if (!inputs[0]) throw ctx.error(node, 'needs its input.');
  return inputs[0];
}

export const CONVERTERS: Record<string, Converter> = {
  Conv: conv,
  Gemm: gemm,
  MatMul: (ctx, node, inputs) => matMul(ctx, node, inputs),
  BatchNormalization: batchNorm,
  Relu: (ctx, node, inputs) => unary(ctx, node, inputs, layers.reLU({ name: ctx.layerName(node) }), () => true),
  Clip: clip,
  LeakyRelu: (ctx, node, inputs, attrs) =>
    unary(ctx, node, inputs, layers.leakyReLU({ name: ctx.layerName(node), alpha: attrs.float('alpha', 0.01) }), (x) => x.nonNegative),
  Sigmoid: (ctx, node, inputs) =>
    unary(ctx, node, inputs, layers.activation({ name: ctx.layerName(node), activation: 'sigmoid' }), () => true),
  Tanh: (ctx, node, inputs) =>
    unary(ctx, node, inputs, layers.activation({ name: ctx.layerName(node), activation: 'tanh' }), (x) => x.nonNegative),
  HardSigmoid: (ctx, node, inputs, attrs) =>
    unary(
      ctx,
      node,
      inputs,
      new HardSigmoid({ name: ctx.layerName(node), alpha: attrs.float('alpha', 0.2), beta: attrs.float('beta', 0.5) }),
      () => true,
    ),
  HardSwish: (ctx, node, inputs) => unary(ctx, node, inputs, new HardSwish({ name: ctx.layerName(node) }), (x) => x.nonNegative),
  MaxPool: pool('max'),
  AveragePool: pool('avg'),
  GlobalAveragePool: globalPool('avg'),
  GlobalMaxPool: globalPool('max'),
  Add: binary('Add'),
  Mul: binary('Mul'),
  Concat: concat,
  Sum: sum,
  Transpose: transpose,
  Flatten: (ctx, node, inputs, attrs) => {
    const x = ctx.tensor(node, inputs[0], 'input', { channelsLast: true });
    const rank = onnxShape(x).length;
    const axis = attrs.int('axis', 1);
    if (axis !== 1 && axis !== 1 - rank)
      throw ctx.error(node, `axis ${axis}: only Flatten from axis 1 (to [batch, features]) is supported.`);
    return flatten(ctx, node, x);
  },
  Reshape: reshape,
  Pad: pad,
  Slice: slice,
  Softmax: softmax,
  Dropout: passThrough,
  Identity: passThrough,
};
