/**
 * The graph walk: ONNX nodes in their (topological) file order, each folded into a constant when
 * all its inputs are constants, or converted to tfjs layers; then one functional LayersModel from
 * the graph's input to its outputs, with the converted weights set.
 */
import * as tf from '@tensorflow/tfjs-core';
import { input, model as functionalModel, type LayersModel, type SymbolicTensor } from '@tensorflow/tfjs-layers';
import * as path from 'node:path';
import type { onnx } from '../proto';
import { ImportContext } from './context';
import { OnnxImportError, describeNode, nodeError } from './errors';
import { FOLDED_OPS, foldNode } from './fold';
import { CONVERTERS } from './ops';
import { Attributes, defaultOpset, tensorValues, toNumber, type ConstTensor } from './read';
import { onnxShape, type TensorValue, type Value } from './values';
import { ternaryLayersOf } from './ternary';

/** The ops the importer converts to layers, for messages and docs. */
export const SUPPORTED_OPS: readonly string[] = Object.keys(CONVERTERS).sort();
const FOLDABLE = new Set<string>(FOLDED_OPS);

function dimsOf(info: onnx.IValueInfoProto): (number | string)[] | undefined {
  const dims = info.type?.tensorType?.shape?.dim;
  if (!dims) return undefined;
  return dims.map((d) =>
    d.dimParam
      ? d.dimParam
      : d.dimValue !== undefined && d.dimValue !== null && toNumber(d.dimValue as number) > 0
        ? toNumber(d.dimValue as number)
        : '?',
  );
}

/** The tfjs input for one ONNX graph input: [N, C, H, W] → NHWC [H, W, C], [N, F] → [F]. */
function graphInput(file: string, info: onnx.IValueInfoProto, index: number): TensorValue {
  const name = info.name ?? `input ${index}`;
  const dims = dimsOf(info);
  if (!dims)
    throw new OnnxImportError(
      `${file}: graph input '${name}' has no shape; export the model with a fixed input size (e.g. 1×3×32×32).`,
      file,
    );
  const shown = JSON.stringify(dims);
  if (dims.slice(1).some((d) => typeof d !== 'number')) {
    throw new OnnxImportError(
      `${file}: graph input '${name}' has dims ${shown}: only the batch (first) dim may be dynamic. ` +
        'Export with a fixed C×H×W (in torch.onnx.export, give dynamic_axes only for axis 0).',
      file,
    );
  }
  const [, ...rest] = dims as number[];
  const safe = name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[^A-Za-z0-9]+/, '') || 'input';
  if (rest.length === 3) {
    const [c, h, w] = rest;
    return { kind: 'tensor', t: input({ shape: [h, w, c], name: safe }), layout: 'nhwc', nonNegative: false };
  }
  if (rest.length === 1) return { kind: 'tensor', t: input({ shape: rest, name: safe }), layout: 'flat', nonNegative: false };
  throw new OnnxImportError(
    `${file}: graph input '${name}' has dims ${shown}; the importer takes images [N, C, H, W] or vectors [N, F].`,
    file,
  );
}

/** Converts a decoded ONNX model into a tfjs LayersModel (NHWC input, same outputs). */
export function convertGraph(model: onnx.ModelProto, file: string): LayersModel {
  const graph = model.graph!;
  const opset = defaultOpset(model);
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name ?? ''));
  const consumers = new Map<string, onnx.INodeProto[]>();
  for (const node of graph.node ?? []) {
    for (const name of node.input ?? []) if (name) consumers.set(name, [...(consumers.get(name) ?? []), node]);
  }
  const outputs = (graph.output ?? []).map((o) => o.name ?? '');
  const ctx = new ImportContext(file, opset, consumers, new Set(outputs), ternaryLayersOf(model, file));
  for (const init of graph.initializer ?? [])
    ctx.values.set(init.name ?? '', { kind: 'const', c: tensorValues(init, file, 'initializer') });
  const inputs = (graph.input ?? []).filter((i) => !initializers.has(i.name ?? ''));
  if (inputs.length === 0) throw new OnnxImportError(`${file}: the graph has no input.`, file);
  const tfInputs = inputs.map((info, i) => {
    const v = graphInput(file, info, i);
    ctx.values.set(info.name ?? '', v);
    return v.t;
  });

  for (const node of graph.node ?? []) {
    if (ctx.fused.has(node)) continue;
    const domain = node.domain ?? '';
    const opType = node.opType ?? '';
    if (domain !== '' && domain !== 'ai.onnx') {
      throw nodeError(file, node, `is an op of the custom domain '${domain}', which the importer does not know. ${supportedList()}`);
    }
    const values: (Value | undefined)[] = (node.input ?? []).map((name) => {
      if (!name) return undefined;
      const v = ctx.values.get(name);
      if (!v) throw nodeError(file, node, `reads '${name}', which no earlier node, input or initializer produces (is the graph sorted?).`);
      return v;
    });
    let results: Value[];
    const present = values.filter((v): v is Value => v !== undefined);
    if (FOLDABLE.has(opType) && (opType === 'Shape' ? present[0]?.kind === 'tensor' : present.every((v) => v.kind === 'const'))) {
      const constInputs: (ConstTensor | undefined)[] =
        opType === 'Shape'
          ? [{ dims: ctx.onnxDims(present[0] as TensorValue), data: [], integer: true }]
          : values.map((v) => (v?.kind === 'const' ? v.c : undefined));
      results = [{ kind: 'const', c: foldNode(node, constInputs, file, opset) }];
    } else {
      const convert = CONVERTERS[opType];
      if (!convert) throw nodeError(file, node, `op type ${opType} is not supported. ${supportedList()}`);
      const out = convert(ctx, node, values, new Attributes(node, file));
      results = Array.isArray(out) ? out : [out];
    }
    results.forEach((v, i) => {
      const name = node.output?.[i];
      if (name) ctx.values.set(name, v);
    });
  }

  const tfOutputs: SymbolicTensor[] = outputs.map((name) => {
    const v = ctx.values.get(name);
    if (!v) throw new OnnxImportError(`${file}: graph output '${name}' is produced by no node.`, file);
    if (v.kind !== 'tensor')
      throw new OnnxImportError(
        `${file}: graph output '${name}' is ${v.kind === 'const' ? 'a constant' : 'all zeros'}, not computed from the input.`,
        file,
      );
    const producer = (graph.node ?? []).find((n) => (n.output ?? []).includes(name)) ?? { name, opType: 'output' };
    return ctx.materialize(producer, v).t;
  });
  const name =
    path
      .basename(file)
      .replace(/\.onnx$/i, '')
      .replace(/[^A-Za-z0-9._-]+/g, '_') || 'onnx_model';
  const result = functionalModel({ inputs: tfInputs, outputs: tfOutputs, name });
  for (const { layer, weights } of ctx.pendingWeights) {
    const tensors = weights.map((w) => tf.tensor(w.data, w.shape));
    try {
      layer.setWeights(tensors);
    } finally {
      tf.dispose(tensors);
    }
  }
  return result;
}

function supportedList(): string {
  return `Supported ops: ${SUPPORTED_OPS.join(', ')} (and, on constants only, ${FOLDED_OPS.filter((o) => !(o in CONVERTERS)).join(', ')}).`;
}

export { describeNode, onnxShape };
