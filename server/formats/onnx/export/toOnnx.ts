/**
 * A tfjs LayersModel (float or ternary) as a standard ONNX model that ONNX Runtime runs with no
 * custom operators (docs/formats.md, "model.onnx").
 *
 * Layout: the ONNX model takes NCHW input, as ONNX image models do; tfjs computes in NHWC, so
 * conv kernels are transposed, channel axes become axis 1, and a Flatten of an image tensor
 * transposes back to NHWC first so the following Dense sees its inputs in tfjs order.
 *
 * Ternary kernels keep their codes (server/formats/packedModel.ts), each through Cast → Gather from
 * the table of its values (Gather counts negative indices from the end):
 *  - t_ex = 1: INT2 codes c ∈ {−1, 0, 1} (ONNX opset 25, which ONNX Runtime ≥ 1.23 runs;
 *    `codes: 'int8'` writes INT8 codes at opset 13 for older runtimes) → Gather from [0, α, −α].
 *    Not DequantizeLinear(codes, α): ONNX Runtime keeps that node for its QDQ fusions and
 *    dequantizes on every run (about twice the float model's latency, BENCHMARKS.md), while it
 *    constant-folds Cast → Gather when the session loads, so the model runs as fast as float;
 *  - REL (t_ex 2, 4): INT4 codes c ∈ [−t_ex, t_ex] → Gather from the 2·t_ex + 1 level
 *    values [0, A_1 … A_t, −A_t … −A_1], which is exact because the levels A_m = α_1 + … + α_m
 *    are not a multiple of one scale;
 *  - REL with optimal thresholds (residual codes, packedModel.ts): the same Gather from the 3^t_ex
 *    values Σ_k s_k·α_k, INT4 codes for t_ex 2 (|c| ≤ 4) and INT8 for t_ex 4 (|c| ≤ 40).
 * BatchNorm stays a BatchNormalization node (ONNX Runtime folds it into the conv when optimizing),
 * so the codes and the batch statistics stay as trained.
 *
 * With `activations` (8-bit activations, docs/formats.md "model-int8.onnx"), the model is written
 * in ONNX's QDQ form, which ONNX Runtime fuses into integer convolutions and GEMMs: the tensors
 * server/formats/onnx/export/int8Plan.ts names go through QuantizeLinear → DequantizeLinear (uint8), and
 * each t_ex 1 ternary layer's codes are its int8 weights, dequantized per output channel by α times
 * the folded BatchNorm's γ/σ (a channel with negative γ/σ flips its codes), with an int32 bias on
 * the scale input scale × weight scale, as ONNX Runtime's integer kernels take it.
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { onnx } from 'onnx-proto';
import { codeTable, maxCode, type PackedModel, type PackedWeight } from '../../packedModel';
import {
  DataType,
  attrFloat,
  attrInt,
  attrInts,
  encodeModel,
  floatTensor,
  floatValueInfo,
  int64Tensor,
  model as onnxModel,
  node,
  packInts,
  packedIntTensor,
} from '../proto';
import { ExportGraphError, layerGraph, type GraphLayer, type Json } from './layerGraph';
import { TERNARY_LAYERS_KEY, type OnnxTernaryLayers } from '../ternaryMetadata';
import { modelInt8Plan, type ActivationQuant, type Int8Plan } from './int8Plan';

export { ExportGraphError };

/** How ternary codes are stored: the smallest types ONNX Runtime runs (INT2/INT4), or INT8 for older runtimes. */
export type OnnxCodes = 'smallest' | 'int8';

export interface OnnxExportOptions {
  codes?: OnnxCodes;
  /** Written into the model's metadata and doc string. */
  producerVersion?: string;
  docString?: string;
  /**
   * 8-bit activations: the uint8 quantization of each tensor the int8 plan names (by the layer
   * producing it, or the graph input's name). The model is then written in QDQ form.
   */
  activations?: ReadonlyMap<string, ActivationQuant>;
}

export interface OnnxExport {
  bytes: Uint8Array;
  opset: number;
  /** ONNX element type names of the code tensors used, e.g. ["INT2"]. */
  codeTypes: string[];
  inputName: string;
  outputName: string;
  /** ONNX input dims, batch first ("N"). */
  inputDims: (number | string)[];
}

interface Value {
  /** ONNX tensor name. */
  name: string;
  /** tfjs (NHWC) shape, batch excluded. */
  shape: number[];
}

/** Converter context for one model. */
class Builder {
  readonly nodes: onnx.INodeProto[] = [];
  readonly initializers: onnx.ITensorProto[] = [];
  readonly codeTypes = new Set<number>();
  /** The ternary layers, by the Conv/Gemm node that uses their weight (server/formats/onnx/ternaryMetadata.ts). */
  readonly ternaryLayers: OnnxTernaryLayers = {};
  private readonly used = new Set<string>();
  private readonly layerNames = new Set<string>();
  /** The quantization of each dequantized activation (ONNX value name), for the int32 biases. */
  private readonly quantOf = new Map<string, ActivationQuant>();

  constructor(
    readonly codes: OnnxCodes,
    private readonly weights: Map<string, PackedWeight>,
    readonly model: LayersModel,
    /** With 8-bit activations: which layers compute in int8, and the folded BatchNorms. */
    readonly int8?: Int8Plan,
  ) {}

  unique(base: string): string {
    let name = base.replace(/[^A-Za-z0-9_.:/-]/g, '_');
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  /**
   * Keeps each layer's name for the node that computes it (an imported model.onnx then has the
   * exported model's layer names): no initializer or helper node takes it first.
   */
  reserveLayerNames(names: string[]): void {
    for (const name of names) this.layerNames.add(name);
  }

  add(opType: string, inputs: string[], outName: string, attributes: onnx.IAttributeProto[] = []): string {
    const out = this.unique(outName);
    // Node names are a namespace of their own: the layer's node keeps the layer's name even where
    // a tensor (an initializer, the graph's `output`) took it.
    this.nodes.push(node(opType, inputs, [out], this.layerNames.delete(outName) ? outName : out, attributes));
    return out;
  }

  floatInit(name: string, dims: number[], values: Float32Array | number[]): string {
    const n = this.unique(name);
    this.initializers.push(floatTensor(n, dims, values));
    return n;
  }

  int64Init(name: string, values: number[]): string {
    const n = this.unique(name);
    this.initializers.push(int64Tensor(n, [values.length], values));
    return n;
  }

  /** The layer's weights by their short name (`kernel`, `bias`, `gamma`, …). */
  layerWeights(layer: string): Map<string, PackedWeight> {
    const out = new Map<string, PackedWeight>();
    for (const w of this.model.getLayer(layer).weights) {
      const packed = this.weights.get(w.originalName);
      if (packed) out.set(w.originalName.slice(w.originalName.lastIndexOf('/') + 1), packed);
    }
    return out;
  }

  /**
   * A weight as an ONNX float tensor with dims `dims`, where ONNX element [i0, i1, …] is tfjs
   * element [j…] with j[perm[k]] = i[k] (perm maps ONNX axes to tfjs axes). Ternary weights become
   * codes plus a Cast → Gather from their values (module comment); float ones an initializer.
   */
  weightInput(w: PackedWeight, base: string, dims: number[], perm: number[]): string {
    if (w.kind === 'float') return this.floatInit(base, dims, transpose(w.values, w.shape, perm));
    const codes = transpose(w.codes, w.shape, perm) as Int8Array;
    const t = w.quant.tex;
    const small = this.codes === 'smallest';
    // Signed codes up to 1 fit INT2, up to 7 INT4.
    const largest = maxCode(t, w.encoding);
    const type = small ? (largest <= 1 ? DataType.INT2 : largest <= 7 ? DataType.INT4 : DataType.INT8) : DataType.INT8;
    const bits = type === DataType.INT2 ? 2 : type === DataType.INT4 ? 4 : 8;
    this.codeTypes.add(type);
    const codesName = this.unique(`${base}_codes`);
    this.initializers.push(packedIntTensor(codesName, dims, type, packInts(codes, bits)));
    // Gather from [value(0), value(1) … value(h), value(−h) … value(−1)] (nested: [0, A_1 … A_t,
    // −A_t … −A_1]): code c ≥ 0 picks entry c, c < 0 counts from the end.
    const { half, table: byCode } = codeTable(w.levels, w.encoding);
    const table = new Float32Array(2 * half + 1);
    for (let c = -half; c <= half; c++) table[c >= 0 ? c : 2 * half + 1 + c] = byCode[c + half];
    const levels = this.floatInit(`${base}_levels`, [2 * half + 1], table);
    const index = this.add('Cast', [codesName], `${base}_index`, [attrInt('to', DataType.INT32)]);
    return this.add('Gather', [levels, index], `${base}_ternary`, [attrInt('axis', 0)]);
  }

  /** `x` through QuantizeLinear → DequantizeLinear with the uint8 quantization `q`. */
  quantize(x: string, q: ActivationQuant, base: string): string {
    const scale = this.floatInit(`${base}_scale`, [], [q.scale]);
    const zeroPoint = this.unique(`${base}_zero_point`);
    this.initializers.push(packedIntTensor(zeroPoint, [], DataType.UINT8, Uint8Array.of(q.zeroPoint)));
    const quantized = this.add('QuantizeLinear', [x, scale, zeroPoint], `${base}_quantized`);
    const out = this.add('DequantizeLinear', [quantized, scale, zeroPoint], `${base}_dequantized`);
    this.quantOf.set(out, q);
    return out;
  }

  /**
   * The int8 weight and int32 bias of a t_ex 1 ternary layer (module comment), or undefined when
   * the layer computes in float. `dims`/`perm` as for weightInput; `outAxis` is the output channel
   * axis of `dims` (0 for Conv, 1 for Gemm's [in, out]).
   */
  int8Inputs(
    layer: string,
    x: string,
    kernel: PackedWeight,
    bias: PackedWeight | undefined,
    dims: number[],
    perm: number[],
    outAxis: 0 | 1,
  ): { weight: string; bias: string } | undefined {
    const xq = this.quantOf.get(x);
    if (!this.int8?.layers.includes(layer) || kernel.kind !== 'ternary' || !xq) return undefined;
    const outs = dims[outAxis];
    const { multiplier, shift } = this.outputAffine(layer, outs, bias);
    const codes = Int8Array.from(transpose(kernel.codes, kernel.shape, perm));
    const inner = outAxis === 0 ? codes.length / outs : 1;
    const channel = (i: number) => (outAxis === 0 ? Math.floor(i / inner) : i % outs);
    const scales = new Float32Array(outs);
    for (let o = 0; o < outs; o++) scales[o] = Math.abs(kernel.levels[0] * multiplier[o]) || 1;
    for (let i = 0; i < codes.length; i++) {
      const o = channel(i);
      // A zero multiplier (γ = 0) zeroes the channel; a negative one flips its codes.
      if (multiplier[o] === 0) codes[i] = 0;
      else if (multiplier[o] < 0) codes[i] = -codes[i];
    }
    this.codeTypes.add(DataType.INT8);
    const codesName = this.unique(`${layer}_codes`);
    this.initializers.push(packedIntTensor(codesName, dims, DataType.INT8, packInts(codes, 8)));
    const wScale = this.floatInit(`${layer}_weight_scale`, [outs], scales);
    const wZero = this.unique(`${layer}_weight_zero_point`);
    this.initializers.push(packedIntTensor(wZero, [outs], DataType.INT8, new Uint8Array(outs)));
    const weight = this.add('DequantizeLinear', [codesName, wScale, wZero], `${layer}_weight`, [attrInt('axis', outAxis)]);
    // The bias is rounded to this grid (ONNX Runtime's integer kernels add it to the int32 sums):
    // up to ½·scale off, the one difference from our fake-quantized inference besides float order.
    const biasScales = scales.map((s) => xq.scale * s);
    const biasInts = new Int32Array(outs);
    for (let o = 0; o < outs; o++) biasInts[o] = Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, Math.round(shift[o] / biasScales[o])));
    const biasName = this.unique(`${layer}_bias_int32`);
    this.initializers.push(packedIntTensor(biasName, [outs], DataType.INT32, new Uint8Array(biasInts.buffer)));
    const bScale = this.floatInit(`${layer}_bias_scale`, [outs], biasScales);
    const bZero = this.unique(`${layer}_bias_zero_point`);
    this.initializers.push(packedIntTensor(bZero, [outs], DataType.INT32, new Uint8Array(4 * outs)));
    return { weight, bias: this.add('DequantizeLinear', [biasName, bScale, bZero], `${layer}_bias`, [attrInt('axis', 0)]) };
  }

  /**
   * y = multiplier·(x·W) + shift per output channel: the layer's bias, then the BatchNorm folded
   * into it, if any (γ/√(var + ε) and β − γ·mean/√(var + ε), computed in float64).
   */
  private outputAffine(layer: string, outs: number, bias: PackedWeight | undefined): { multiplier: Float64Array; shift: Float64Array } {
    const multiplier = new Float64Array(outs).fill(1);
    const shift = new Float64Array(outs);
    if (bias?.kind === 'float') shift.set(bias.values);
    const bn = [...(this.int8?.foldedBatchNorms ?? [])].find(([, into]) => into === layer)?.[0];
    if (!bn) return { multiplier, shift };
    const w = this.layerWeights(bn);
    const values = (name: string, fallback: number) => {
      const v = w.get(name);
      return v?.kind === 'float' ? v.values : new Float32Array(outs).fill(fallback);
    };
    const [gamma, beta, mean, variance] = [values('gamma', 1), values('beta', 0), values('moving_mean', 0), values('moving_variance', 1)];
    const epsilon = (this.model.getLayer(bn).getConfig().epsilon as number | undefined) ?? 1e-3;
    for (let o = 0; o < outs; o++) {
      multiplier[o] = gamma[o] / Math.sqrt(variance[o] + epsilon);
      shift[o] = (shift[o] - mean[o]) * multiplier[o] + beta[o];
    }
    return { multiplier, shift };
  }

  /** Records that node `computing` (the Conv or Gemm named as its layer) computes with the ternary weight `w` of `layer`. */
  noteTernary(computing: string, layer: string, w: PackedWeight): void {
    if (w.kind !== 'ternary') return;
    const { method, thresholdFactor, tex } = w.quant;
    this.ternaryLayers[computing] = {
      layer,
      method,
      thresholdFactor,
      tex,
      // Optimal thresholds: the importer keeps the values and their α's (server/formats/onnx/import/ternary.ts).
      ...(w.quant.threshold === 'optimal' ? { threshold: w.quant.threshold } : {}),
      levels: Array.from(w.levels),
      maxAbs: w.maxAbs,
    };
  }
}

/** Copies `data` (row-major, tfjs `shape`) into the axis order `perm` (ONNX axis k = tfjs axis perm[k]). */
function transpose<T extends Float32Array | Int8Array>(data: T, shape: number[], perm: number[]): T {
  if (perm.every((p, i) => p === i)) return data;
  const rank = shape.length;
  const outShape = perm.map((p) => shape[p]);
  const inStrides = new Array<number>(rank);
  let s = 1;
  for (let k = rank - 1; k >= 0; k--) {
    inStrides[k] = s;
    s *= shape[k];
  }
  const out = new (data.constructor as { new (n: number): T })(data.length);
  const index = new Array<number>(rank).fill(0);
  for (let o = 0; o < data.length; o++) {
    let src = 0;
    for (let k = 0; k < rank; k++) src += index[k] * inStrides[perm[k]];
    out[o] = data[src];
    for (let k = rank - 1; k >= 0; k--) {
      if (++index[k] < outShape[k]) break;
      index[k] = 0;
    }
  }
  return out;
}

const num = (v: unknown, what: string, layer: string): number => {
  if (typeof v !== 'number') throw new ExportGraphError(`Layer '${layer}': ${what} is ${JSON.stringify(v)}, expected a number.`);
  return v;
};
const pair = (v: unknown, fallback: number): [number, number] => {
  if (v === undefined || v === null) return [fallback, fallback];
  if (typeof v === 'number') return [v, v];
  const a = v as number[];
  return [a[0], a[1]];
};

/** ONNX pads [top, left, bottom, right] of tfjs padding `same`/`valid` for sizes, kernels, strides, dilations. */
function spatialPads(padding: unknown, size: number[], kernel: number[], strides: number[], dilations: number[], layer: string): number[] {
  if (padding === 'valid') return [0, 0, 0, 0];
  if (padding !== 'same')
    throw new ExportGraphError(`Layer '${layer}': padding '${String(padding)}' is not supported; use 'same' or 'valid'.`);
  const begin: number[] = [];
  const end: number[] = [];
  for (let i = 0; i < 2; i++) {
    const effective = (kernel[i] - 1) * dilations[i] + 1;
    const total = Math.max((Math.ceil(size[i] / strides[i]) - 1) * strides[i] + effective - size[i], 0);
    begin.push(Math.floor(total / 2));
    end.push(total - Math.floor(total / 2));
  }
  return [...begin, ...end];
}

function channelsLast(config: Json, layer: string): void {
  if (config.data_format !== undefined && config.data_format !== 'channels_last') {
    throw new ExportGraphError(
      `Layer '${layer}': data_format ${JSON.stringify(config.data_format)} is not supported; export handles channels_last (NHWC) models.`,
    );
  }
}

/** Applies a tfjs activation name to `x`. */
function activation(b: Builder, x: string, act: unknown, layer: string, rank: number): string {
  const name = (act ?? 'linear') as string;
  switch (name) {
    case 'linear':
      return x;
    case 'relu':
      return b.add('Relu', [x], `${layer}_relu`);
    case 'relu6':
      return b.add('Clip', [x, b.floatInit(`${layer}_min`, [], [0]), b.floatInit(`${layer}_max`, [], [6])], `${layer}_relu6`);
    case 'tanh':
      return b.add('Tanh', [x], `${layer}_tanh`);
    case 'sigmoid':
      return b.add('Sigmoid', [x], `${layer}_sigmoid`);
    case 'hardSigmoid':
    case 'hard_sigmoid':
      return b.add('HardSigmoid', [x], `${layer}_hardsigmoid`, [attrFloat('alpha', 0.2), attrFloat('beta', 0.5)]);
    case 'softmax':
      return b.add('Softmax', [x], `${layer}_softmax`, [attrInt('axis', rank === 4 ? 1 : -1)]);
    case 'elu':
      return b.add('Elu', [x], `${layer}_elu`, [attrFloat('alpha', 1)]);
    case 'selu':
      return b.add('Selu', [x], `${layer}_selu`);
    case 'softplus':
      return b.add('Softplus', [x], `${layer}_softplus`);
    case 'softsign':
      return b.add('Softsign', [x], `${layer}_softsign`);
    case 'swish':
      return b.add('Mul', [x, b.add('Sigmoid', [x], `${layer}_sigmoid`)], `${layer}_swish`);
    default:
      throw new ExportGraphError(
        `Layer '${layer}': activation '${name}' has no ONNX export; supported: linear, relu, relu6, tanh, sigmoid, hardSigmoid, softmax, elu, selu, softplus, softsign, swish.`,
      );
  }
}

/** Converts one layer; returns its output value. */
type LayerConverter = (b: Builder, layer: GraphLayer, inputs: Value[]) => string;

function convLayer(b: Builder, layer: GraphLayer, [x]: Value[], depthwise: boolean): string {
  const c = layer.config;
  channelsLast(c, layer.name);
  if (x.shape.length !== 3)
    throw new ExportGraphError(`Layer '${layer.name}': expects an image input [H, W, C], got [${x.shape.join(', ')}].`);
  const w = b.layerWeights(layer.name);
  const kernel = w.get(depthwise ? 'depthwise_kernel' : 'kernel');
  if (!kernel) throw new ExportGraphError(`Layer '${layer.name}' has no kernel weight.`);
  const [kh, kw, cin, cout] = kernel.shape;
  const strides = pair(c.strides, 1);
  const dilations = pair(c.dilation_rate, 1);
  const groups = depthwise ? cin : typeof c.groups === 'number' ? c.groups : 1;
  // tfjs kernel [kh, kw, in, out] (depthwise: [kh, kw, in, multiplier]) → ONNX [out, in/group, kh, kw].
  const dims = depthwise ? [cin * cout, 1, kh, kw] : [cout, cin, kh, kw];
  const perm = depthwise ? [2, 3, 0, 1] : [3, 2, 0, 1];
  const bias = w.get(depthwise ? 'depthwise_bias' : 'bias') ?? w.get('bias');
  const int8 = depthwise ? undefined : b.int8Inputs(layer.name, x.name, kernel, bias, dims, perm, 0);
  let weight: string;
  if (int8) {
    weight = int8.weight;
  } else if (depthwise) {
    // ONNX output channel c·mult + m is tfjs [.., .., c, m]: the transpose [c, m, kh, kw] read as [c·mult + m, 1, kh, kw].
    weight = b.weightInput(kernel, layer.name, [cin, cout, kh, kw], perm);
    weight = b.add('Reshape', [weight, b.int64Init(`${layer.name}_shape`, dims)], `${layer.name}_weight`);
  } else {
    weight = b.weightInput(kernel, layer.name, dims, perm);
  }
  const inputs = [x.name, weight];
  if (int8) inputs.push(int8.bias);
  else if (bias) inputs.push(b.weightInput(bias, `${layer.name}_bias`, [bias.shape[0]], [0]));
  const pads = spatialPads(c.padding, [x.shape[0], x.shape[1]], [kh, kw], strides, dilations, layer.name);
  const y = b.add('Conv', inputs, layer.name, [
    attrInts('kernel_shape', [kh, kw]),
    attrInts('strides', strides),
    attrInts('dilations', dilations),
    attrInts('pads', pads),
    attrInt('group', groups),
  ]);
  if (!depthwise && !int8) b.noteTernary(layer.name, layer.name, kernel);
  return activation(b, y, c.activation, layer.name, 4);
}

function denseLayer(b: Builder, layer: GraphLayer, [x]: Value[]): string {
  if (x.shape.length !== 1) {
    throw new ExportGraphError(
      `Layer '${layer.name}' (${layer.className}) gets input [${x.shape.join(', ')}]; export handles Dense on flat inputs (after Flatten or global pooling).`,
    );
  }
  const w = b.layerWeights(layer.name);
  const kernel = w.get('kernel');
  if (!kernel) throw new ExportGraphError(`Layer '${layer.name}' has no kernel weight.`);
  // Not DequantizeLinear → Gemm: besides being dequantized on every run, ONNX Runtime's extended
  // optimizations rewrite that pair into a MatMul on dynamically int8-quantized activations, off
  // by ~0.5 % (measured); Gather is exact.
  const bias = w.get('bias');
  const int8 = b.int8Inputs(layer.name, x.name, kernel, bias, kernel.shape, [0, 1], 1);
  const inputs = int8 ? [x.name, int8.weight, int8.bias] : [x.name, b.weightInput(kernel, layer.name, kernel.shape, [0, 1])];
  if (!int8 && bias) inputs.push(b.weightInput(bias, `${layer.name}_bias`, [bias.shape[0]], [0]));
  const y = b.add('Gemm', inputs, layer.name);
  if (!int8) b.noteTernary(layer.name, layer.name, kernel);
  return activation(b, y, layer.config.activation, layer.name, 2);
}

function batchNormLayer(b: Builder, layer: GraphLayer, [x]: Value[]): string {
  const c = layer.config;
  const rank = x.shape.length + 1;
  const axis = typeof c.axis === 'number' ? c.axis : Array.isArray(c.axis) && c.axis.length === 1 ? (c.axis[0] as number) : NaN;
  if (axis !== -1 && axis !== rank - 1) {
    throw new ExportGraphError(
      `Layer '${layer.name}': BatchNormalization over axis ${JSON.stringify(c.axis)}; export handles the channel (last) axis.`,
    );
  }
  // Folded into the int8 layer before it (Builder.int8Inputs).
  if (b.int8?.foldedBatchNorms.has(layer.name)) return x.name;
  const w = b.layerWeights(layer.name);
  const channels = x.shape[x.shape.length - 1];
  const get = (key: string, fill: number): string => {
    const v = w.get(key);
    return v
      ? b.weightInput(v, `${layer.name}_${key}`, [channels], [0])
      : b.floatInit(`${layer.name}_${key}`, [channels], new Float32Array(channels).fill(fill));
  };
  const inputs = [x.name, get('gamma', 1), get('beta', 0), get('moving_mean', 0), get('moving_variance', 1)];
  return b.add('BatchNormalization', inputs, `${layer.name}`, [attrFloat('epsilon', num(c.epsilon ?? 1e-3, 'epsilon', layer.name))]);
}

function poolLayer(b: Builder, layer: GraphLayer, [x]: Value[], op: 'MaxPool' | 'AveragePool'): string {
  const c = layer.config;
  channelsLast(c, layer.name);
  const size = pair(c.pool_size, 2);
  const strides = pair(c.strides ?? c.pool_size, 2);
  const pads = spatialPads(c.padding ?? 'valid', [x.shape[0], x.shape[1]], size, strides, [1, 1], layer.name);
  const attrs = [attrInts('kernel_shape', size), attrInts('strides', strides), attrInts('pads', pads)];
  // tfjs averages over the pixels inside the image only, as count_include_pad = 0 does.
  if (op === 'AveragePool') attrs.push(attrInt('count_include_pad', 0));
  return b.add(op, [x.name], layer.name, attrs);
}

function flattenLayer(b: Builder, layer: GraphLayer, [x]: Value[]): string {
  if (x.shape.length === 1) return x.name;
  // Back to NHWC first, so the flat order is tfjs's (H, W, C) and the next Dense's rows match.
  const nhwc = x.shape.length === 3 ? b.add('Transpose', [x.name], `${layer.name}_nhwc`, [attrInts('perm', [0, 2, 3, 1])]) : x.name;
  return b.add('Flatten', [nhwc], layer.name, [attrInt('axis', 1)]);
}

function mergeLayer(b: Builder, layer: GraphLayer, inputs: Value[], op: string): string {
  if (inputs.length < 2) throw new ExportGraphError(`Layer '${layer.name}' (${layer.className}) has ${inputs.length} input(s).`);
  return b.add(
    op,
    inputs.map((v) => v.name),
    layer.name,
  );
}

/** The ONNX axis of tfjs axis `axis` of a tensor of rank `rank` (batch included): NHWC axes 1, 2, 3 are NCHW's 2, 3, 1. */
function onnxAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  return rank === 4 ? [0, 2, 3, 1][a] : a;
}

/** Names an ONNX axis as the user knows it from the ONNX (NCHW) model. */
function axisName(axis: number, rank: number): string {
  const names = rank === 4 ? ['batch', 'channels', 'height', 'width'] : rank === 2 ? ['batch', 'features'] : [];
  return names[axis] ? `axis ${axis} (${names[axis]})` : `axis ${axis}`;
}

function concatLayer(b: Builder, layer: GraphLayer, inputs: Value[]): string {
  const rank = inputs[0].shape.length + 1;
  const raw = typeof layer.config.axis === 'number' ? layer.config.axis : -1;
  const axis = onnxAxis(raw, rank);
  if (!(axis >= 1 && axis < rank))
    throw new ExportGraphError(
      `Layer '${layer.name}': Concatenate over ${axisName(axis, rank)} of a rank-${rank} tensor; export handles any axis but the batch.`,
    );
  return b.add(
    'Concat',
    inputs.map((v) => v.name),
    layer.name,
    [attrInt('axis', axis)],
  );
}

function zeroPaddingLayer(b: Builder, layer: GraphLayer, [x]: Value[]): string {
  channelsLast(layer.config, layer.name);
  const p = layer.config.padding;
  let rows: [number, number];
  let cols: [number, number];
  if (typeof p === 'number') rows = cols = [p, p];
  else if (Array.isArray(p) && typeof p[0] === 'number')
    [rows, cols] = [
      [p[0] as number, p[0] as number],
      [p[1] as number, p[1] as number],
    ];
  else [rows, cols] = p as [[number, number], [number, number]];
  const pads = b.int64Init(`${layer.name}_pads`, [0, 0, rows[0], cols[0], 0, 0, rows[1], cols[1]]);
  return b.add('Pad', [x.name, pads], layer.name);
}

/** The option-A shortcut (server/core/layers/optionAShortcut.ts): strided pick, then zero channels. */
function optionALayer(b: Builder, layer: GraphLayer, [x]: Value[]): string {
  const stride = typeof layer.config.stride === 'number' ? layer.config.stride : 2;
  const outChannels = num(layer.config.outChannels ?? layer.config.out_channels, 'outChannels', layer.name);
  const [height, width, channels] = x.shape;
  let y = x.name;
  if (stride > 1) {
    // The same rows/columns OptionAShortcut picks: offset 1 for even sizes (tfjs pads 'same' at the end), 0 for odd ones.
    const offset = (n: number): number => Math.max(0, 1 - Math.floor(Math.max((Math.ceil(n / stride) - 1) * stride + 3 - n, 0) / 2));
    y = b.add(
      'Slice',
      [
        y,
        b.int64Init(`${layer.name}_starts`, [offset(height), offset(width)]),
        b.int64Init(`${layer.name}_ends`, [height, width]),
        b.int64Init(`${layer.name}_axes`, [2, 3]),
        b.int64Init(`${layer.name}_steps`, [stride, stride]),
      ],
      `${layer.name}_pick`,
    );
  }
  if (outChannels > channels)
    y = b.add('Pad', [y, b.int64Init(`${layer.name}_pads`, [0, 0, 0, 0, 0, outChannels - channels, 0, 0])], layer.name);
  return y;
}

function reluLayer(b: Builder, layer: GraphLayer, [x]: Value[]): string {
  const c = layer.config;
  if (c.threshold !== undefined && c.threshold !== 0)
    throw new ExportGraphError(`Layer '${layer.name}': ReLU with threshold ${JSON.stringify(c.threshold)} has no ONNX export.`);
  if (c.max_value !== undefined && c.max_value !== null) {
    return b.add(
      'Clip',
      [
        x.name,
        b.floatInit(`${layer.name}_min`, [], [0]),
        b.floatInit(`${layer.name}_max`, [], [num(c.max_value, 'max_value', layer.name)]),
      ],
      layer.name,
    );
  }
  return b.add('Relu', [x.name], layer.name);
}

/** Zero channels before and after (server/core/layers/channelZeroPad.ts, from an imported PyTorch option-A shortcut). */
function channelZeroPadLayer(b: Builder, layer: GraphLayer, [x]: Value[]): string {
  const before = num(layer.config.before, 'before', layer.name);
  const after = num(layer.config.after, 'after', layer.name);
  // ONNX channels are axis 1 whatever the rank: pads [0, before, 0…, 0, after, 0…].
  const rank = x.shape.length + 1;
  const pads = new Array<number>(2 * rank).fill(0);
  pads[1] = before;
  pads[rank + 1] = after;
  return b.add('Pad', [x.name, b.int64Init(`${layer.name}_pads`, pads)], layer.name);
}

/** Reshape of a global pool's [N, C] back to [N, 1, 1, C] (tfjs) = [N, C, 1, 1] (ONNX), as the ONNX import writes it. */
function reshapeLayer(b: Builder, layer: GraphLayer, [x]: Value[]): string {
  const target = (layer.config.target_shape ?? layer.config.targetShape) as number[] | undefined;
  if (
    x.shape.length === 1 &&
    Array.isArray(target) &&
    target.length === 3 &&
    target[0] === 1 &&
    target[1] === 1 &&
    target[2] === x.shape[0]
  ) {
    return b.add('Reshape', [x.name, b.int64Init(`${layer.name}_shape`, [0, x.shape[0], 1, 1])], layer.name);
  }
  throw new ExportGraphError(
    `Layer '${layer.name}' (Reshape) from [${x.shape.join(', ')}] to [${String(target)}]: only [C] → [1, 1, C] has an ONNX export.`,
  );
}

const CONVERTERS: Record<string, LayerConverter> = {
  Conv2D: (b, l, i) => convLayer(b, l, i, false),
  TernaryConv2D: (b, l, i) => convLayer(b, l, i, false),
  DepthwiseConv2D: (b, l, i) => convLayer(b, l, i, true),
  Dense: denseLayer,
  TernaryDense: denseLayer,
  BatchNormalization: batchNormLayer,
  ReLU: reluLayer,
  LeakyReLU: (b, l, [x]) =>
    b.add('LeakyRelu', [x.name], l.name, [attrFloat('alpha', typeof l.config.alpha === 'number' ? l.config.alpha : 0.3)]),
  Activation: (b, l, [x]) => activation(b, x.name, l.config.activation, l.name, x.shape.length + 1),
  Softmax: (b, l, [x]) => activation(b, x.name, 'softmax', l.name, x.shape.length + 1),
  MaxPooling2D: (b, l, i) => poolLayer(b, l, i, 'MaxPool'),
  AveragePooling2D: (b, l, i) => poolLayer(b, l, i, 'AveragePool'),
  GlobalAveragePooling2D: (b, l, [x]) =>
    b.add('Flatten', [b.add('GlobalAveragePool', [x.name], `${l.name}_pool`)], l.name, [attrInt('axis', 1)]),
  GlobalMaxPooling2D: (b, l, [x]) => b.add('Flatten', [b.add('GlobalMaxPool', [x.name], `${l.name}_pool`)], l.name, [attrInt('axis', 1)]),
  Flatten: flattenLayer,
  Dropout: (_b, _l, [x]) => x.name,
  SpatialDropout2D: (_b, _l, [x]) => x.name,
  GaussianNoise: (_b, _l, [x]) => x.name,
  GaussianDropout: (_b, _l, [x]) => x.name,
  AlphaDropout: (_b, _l, [x]) => x.name,
  Add: (b, l, i) => mergeLayer(b, l, i, 'Sum'),
  Multiply: (b, l, i) => mergeLayer(b, l, i, 'Mul'),
  Average: (b, l, i) => mergeLayer(b, l, i, 'Mean'),
  Maximum: (b, l, i) => mergeLayer(b, l, i, 'Max'),
  Minimum: (b, l, i) => mergeLayer(b, l, i, 'Min'),
  Subtract: (b, l, i) => mergeLayer(b, l, i, 'Sub'),
  Concatenate: concatLayer,
  ZeroPadding2D: zeroPaddingLayer,
  OptionAShortcut: optionALayer,
  // Layers the ONNX import introduces (server/formats/onnx/import): PyTorch's hard activations (slope 1/6)
  // and its option-A channel padding, and the reshape of a squeeze-excite gate.
  HardSigmoid: (b, l, [x]) =>
    b.add('HardSigmoid', [x.name], l.name, [
      attrFloat('alpha', num(l.config.alpha ?? 0.2, 'alpha', l.name)),
      attrFloat('beta', num(l.config.beta ?? 0.5, 'beta', l.name)),
    ]),
  HardSwish: (b, l, [x]) => b.add('HardSwish', [x.name], l.name),
  ChannelZeroPad: channelZeroPadLayer,
  Reshape: reshapeLayer,
};

/** Layer classes the ONNX export handles. */
export const ONNX_EXPORT_LAYERS: readonly string[] = Object.keys(CONVERTERS);

/**
 * Adds an ONNX converter for a layer class (e.g. a layer the ONNX import introduces), so models
 * using it export too. The converter gets the layer and its inputs and returns its output.
 */
export function registerOnnxConverter(className: string, converter: LayerConverter): void {
  CONVERTERS[className] = converter;
}
export type { LayerConverter, Builder as OnnxGraphBuilder, Value as OnnxValue };

/** ONNX dims of a tfjs shape (batch excluded): images become [N, C, H, W]. */
function onnxDims(shape: number[]): (number | null)[] {
  return shape.length === 3 ? [null, shape[2], shape[0], shape[1]] : [null, ...shape];
}

/** Converts `model` (with its weights packed by packModel) to ONNX bytes. */
export function exportOnnx(model: LayersModel, packed: PackedModel, options: OnnxExportOptions = {}): OnnxExport {
  const plan = options.activations ? modelInt8Plan(model, packed) : undefined;
  const graph = plan?.graph ?? layerGraph(model);
  const activations = options.activations ?? new Map<string, ActivationQuant>();
  for (const point of plan?.points ?? []) {
    if (!activations.has(point)) throw new ExportGraphError(`No activation range for '${point}', which 8-bit activations quantize.`);
  }
  const weights = new Map(packed.weights.map((w) => [w.name, w]));
  const b = new Builder(options.codes ?? 'smallest', weights, model, plan);
  const quantized = (layer: string, value: string): string => {
    const q = plan?.points.includes(layer) ? activations.get(layer) : undefined;
    return q ? b.quantize(value, q, layer) : value;
  };
  const values = new Map<string, Value>();
  // The graph's input and output names come first, so no layer's tensor takes them.
  const inputName = b.unique('input');
  const outputName = b.unique('output');
  b.reserveLayerNames(graph.layers.map((l) => l.name));
  values.set(graph.input.name, { name: quantized(graph.input.name, inputName), shape: graph.input.shape });
  for (const layer of graph.layers) {
    const convert = CONVERTERS[layer.className];
    if (!convert) {
      throw new ExportGraphError(
        `Layer '${layer.name}' (${layer.className}) has no ONNX export. Supported layers: ${ONNX_EXPORT_LAYERS.join(', ')}.`,
      );
    }
    const inputs = layer.inputs.map((name) => {
      const v = values.get(name);
      if (!v) throw new ExportGraphError(`Layer '${layer.name}' takes '${name}', which comes later in the model or does not exist.`);
      return v;
    });
    const out = quantized(layer.name, convert(b, layer, inputs));
    values.set(layer.name, { name: out, shape: layer.outputShape.slice(1) as number[] });
  }
  const result = values.get(graph.output);
  if (!result) throw new ExportGraphError(`The model's output layer '${graph.output}' was not converted.`);
  b.nodes.push(node('Identity', [result.name], [outputName], `${outputName}_identity`));
  // HardSwish exists from opset 14: a float model with it (no INT2/INT4 codes) needs at least that.
  const fromOps = b.nodes.some((n) => n.opType === 'HardSwish') ? 14 : 13;
  const opset = b.codeTypes.has(DataType.INT2) ? 25 : b.codeTypes.has(DataType.INT4) ? 21 : fromOps;
  const irVersion = opset >= 25 ? 12 : opset >= 21 ? 10 : 8;
  const inputDims = onnxDims(graph.input.shape);
  const bytes = encodeModel(
    onnxModel(
      {
        name: model.name,
        node: b.nodes,
        initializer: b.initializers,
        input: [floatValueInfo(inputName, inputDims)],
        output: [floatValueInfo(outputName, onnxDims(result.shape))],
      },
      {
        opset,
        irVersion,
        producerVersion: options.producerVersion,
        docString: options.docString,
        metadata: {
          layout: graph.input.shape.length === 3 ? 'NCHW' : 'NC',
          source: 'tfjs-layers',
          ...(Object.keys(b.ternaryLayers).length ? { [TERNARY_LAYERS_KEY]: JSON.stringify(b.ternaryLayers) } : {}),
        },
      },
    ),
  );
  const codeTypes = [...b.codeTypes].map((t) => (t === DataType.INT2 ? 'INT2' : t === DataType.INT4 ? 'INT4' : 'INT8'));
  return { bytes, opset, codeTypes, inputName, outputName, inputDims: inputDims.map((d) => d ?? 'N') };
}
