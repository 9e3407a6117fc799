/**
 * State of one import: the values of the graph's edges, the tfjs layers made so far with the
 * weights they get once the model exists, unique layer names, and the helpers the op converters
 * share (fetching inputs of the right kind, layout changes).
 */
import { layers, type SymbolicTensor } from '@tensorflow/tfjs-layers';
import type { onnx } from '../proto';
import { nodeError, type OnnxImportError } from './errors';
import type { Weight } from './layout';
import type { ConstTensor } from './read';
import { onnxShape, type TensorValue, type Value } from './values';
import type { OnnxTernaryLayer } from '../ternaryMetadata';

type Layer = ReturnType<typeof layers.dense>;

export class ImportContext {
  readonly values = new Map<string, Value>();
  /** Layers with the weights they get once the model is built. */
  readonly pendingWeights: { layer: Layer; weights: Weight[] }[] = [];
  /** Nodes already converted as part of another (an Add that became a MatMul's bias). */
  readonly fused = new Set<onnx.INodeProto>();
  private readonly names = new Set<string>();

  constructor(
    readonly file: string,
    readonly opset: number,
    readonly consumers: Map<string, onnx.INodeProto[]>,
    readonly graphOutputs: Set<string>,
    /** Conv/Gemm nodes of our own model.onnx that compute with ternary weights (server/formats/onnx/import/ternary.ts). */
    readonly ternaryLayers: Map<string, OnnxTernaryLayer> = new Map(),
  ) {}

  error(node: onnx.INodeProto, what: string): OnnxImportError {
    return nodeError(this.file, node, what);
  }

  /**
   * A tfjs layer name from the node's name (torch writes '/blocks/blocks.3/a/a.0/Conv'): tfjs names
   * allow letters, digits and `._-` only here (a '/' would also split weight names), and must be unique.
   */
  layerName(node: onnx.INodeProto, suffix = ''): string {
    // '/blocks/blocks.3/a/a.0/Conv' → 'blocks.3_a.0_Conv': a module path segment followed by its
    // own indexed child ('a' then 'a.0') says nothing the child does not.
    const segments = (node.name || `${node.opType}_${node.output?.[0] ?? ''}`).split('/').filter(Boolean);
    const raw = segments.filter((seg, i) => !segments[i + 1]?.startsWith(`${seg}.`)).join('_') + suffix;
    return this.uniqueName(raw);
  }

  /** `wanted` (e.g. a layer name the file records) made a valid, unused tfjs layer name. */
  uniqueName(wanted: string): string {
    const base = wanted.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[^A-Za-z0-9]+/, '') || 'layer';
    let name = base;
    for (let i = 2; this.names.has(name); i++) name = `${base}_${i}`;
    this.names.add(name);
    return name;
  }

  /** Applies `layer` and remembers the weights it gets once the model is built. */
  apply(layer: Layer | { apply: Layer['apply'] }, inputs: SymbolicTensor | SymbolicTensor[], weights?: Weight[]): SymbolicTensor {
    const out = layer.apply(inputs) as SymbolicTensor;
    if (weights) this.pendingWeights.push({ layer: layer as Layer, weights });
    return out;
  }

  tensor(node: onnx.INodeProto, value: Value | undefined, what: string, opts: { channelsLast?: boolean } = {}): TensorValue {
    if (!value) throw this.error(node, `needs its ${what} input.`);
    if (value.kind === 'tensor' && value.channelsLast && !opts.channelsLast)
      throw this.error(node, `its ${what} input is a Transpose to [N, H, W, C], which the importer supports right before a Flatten only.`);
    if (value.kind === 'zeros')
      throw this.error(
        node,
        `its ${what} input is a tensor times 0, which is supported only as zero channels appended by Concat (the option-A shortcut).`,
      );
    if (value.kind === 'const')
      throw this.error(node, `its ${what} input is a constant; the importer supports this op on computed tensors only.`);
    return value;
  }

  constant(node: onnx.INodeProto, value: Value | undefined, what: string): ConstTensor {
    if (!value) throw this.error(node, `needs its ${what} input.`);
    if (value.kind !== 'const') {
      throw this.error(node, `its ${what} input is computed by the graph; the importer needs it as an initializer or a constant.`);
    }
    return value.c;
  }

  /** The ONNX shape of a tensor with the batch as NaN (as constant folding sees it). */
  onnxDims(v: TensorValue): number[] {
    return onnxShape(v).map((d) => (d === null ? NaN : d));
  }

  /** A rank-4 view: a global pool's [N, C] output becomes [N, 1, 1, C] again. */
  as4d(node: onnx.INodeProto, v: TensorValue): TensorValue {
    if (v.layout === 'nhwc') return v;
    if (v.layout === 'squeezed') {
      const c = v.t.shape[1] as number;
      const t = this.apply(layers.reshape({ name: this.layerName(node, '_unsqueeze'), targetShape: [1, 1, c] }), v.t);
      return { kind: 'tensor', t, layout: 'nhwc', nonNegative: v.nonNegative };
    }
    throw this.error(node, `needs a 4-D (N, C, H, W) input, got ${JSON.stringify(onnxShape(v))}.`);
  }

  /** The value with its features in ONNX's order: a Flatten of NCHW maps gets the transpose it skipped. */
  materialize(node: onnx.INodeProto, v: TensorValue): TensorValue {
    if (!v.nchwFlatten) return v;
    const [c, h, w] = v.nchwFlatten;
    let t = this.apply(layers.reshape({ name: this.layerName(node, '_nhwc'), targetShape: [h, w, c] }), v.t);
    t = this.apply(layers.permute({ name: this.layerName(node, '_to_nchw'), dims: [3, 1, 2] }), t);
    t = this.apply(layers.flatten({ name: this.layerName(node, '_flatten_nchw') }), t);
    return { kind: 'tensor', t, layout: 'flat', nonNegative: v.nonNegative };
  }
}
