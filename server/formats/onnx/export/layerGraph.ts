/**
 * The layer graph of a tfjs LayersModel, read from its topology JSON (model.toJSON): layers in
 * topological order with the layers feeding each one. Functional models ("Model"/"Functional")
 * list their inbound nodes; a Sequential model is a chain.
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { UserError } from '../../../../shared/userError';

export type Json = Record<string, unknown>;

export interface GraphLayer {
  name: string;
  className: string;
  /** The layer's config as model.json holds it (snake_case keys). */
  config: Json;
  /** Names of the layers whose (first) output feeds this layer, in input order. */
  inputs: string[];
  /** Output shape in tfjs layout (NHWC), batch dimension first as null. */
  outputShape: (number | null)[];
}

export interface LayerGraph {
  layers: GraphLayer[];
  /** The input layer's name and shape (tfjs layout, batch excluded). */
  input: { name: string; shape: number[] };
  /** Name of the layer whose output is the model's output. */
  output: string;
}

/** A model the exporter cannot represent: what and which layer, and what to do. */
export class ExportGraphError extends UserError {
  constructor(message: string) {
    super('exportFailed', message);
    this.name = 'ExportGraphError';
  }
}

function shapeOf(model: LayersModel, name: string): (number | null)[] {
  const shape = model.getLayer(name).outputShape;
  if (Array.isArray(shape[0]))
    throw new ExportGraphError(`Layer '${name}' has several outputs; the exporter handles single-output layers only.`);
  return shape as (number | null)[];
}

/** Reads the layer graph of `model`. */
export function layerGraph(model: LayersModel): LayerGraph {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new ExportGraphError(
      `The model has ${model.inputs.length} inputs and ${model.outputs.length} outputs; export handles models with one input and one output.`,
    );
  }
  const inputShape = model.inputs[0].shape.slice(1);
  if (!inputShape.every((d): d is number => typeof d === 'number' && d > 0)) {
    throw new ExportGraphError(
      `The model's input shape [${inputShape.join(', ')}] is not fixed; export needs known input dimensions (batch aside).`,
    );
  }
  const topology = model.toJSON(null, false) as unknown as { class_name: string; config: Json };
  const layersJson = (topology.config.layers ?? []) as { class_name: string; config: Json; name?: string; inbound_nodes?: unknown[] }[];
  const layers: GraphLayer[] = [];
  if (topology.class_name === 'Sequential') {
    const input = model.inputs[0].name.replace(/\/.*$/, '').replace(/:\d+$/, '');
    let previous = input;
    for (const l of layersJson) {
      const name = String(l.config.name);
      if (l.class_name === 'InputLayer') {
        previous = name;
        continue;
      }
      layers.push({ name, className: l.class_name, config: l.config, inputs: [previous], outputShape: shapeOf(model, name) });
      previous = name;
    }
    return { layers, input: { name: input, shape: inputShape }, output: previous };
  }
  let input: string | undefined;
  for (const l of layersJson) {
    const name = String(l.name ?? l.config.name);
    if (CONTAINERS.has(l.class_name)) {
      throw new ExportGraphError(
        `Layer '${name}' is a nested model (${l.class_name}); export handles flat models: rebuild it without nesting.`,
      );
    }
    const inbound = (l.inbound_nodes ?? []) as unknown[][];
    if (inbound.length > 1)
      throw new ExportGraphError(`Layer '${name}' is used ${inbound.length} times (a shared layer); export handles layers used once.`);
    if (l.class_name === 'InputLayer') {
      input = name;
      continue;
    }
    const inputs = (inbound[0] ?? []).map((entry) => {
      const [from, nodeIndex, tensorIndex] = entry as [string, number, number];
      if (nodeIndex !== 0 || tensorIndex !== 0)
        throw new ExportGraphError(
          `Layer '${name}' takes output ${tensorIndex} of node ${nodeIndex} of '${from}'; export handles single-use, single-output layers.`,
        );
      return from;
    });
    layers.push({ name, className: l.class_name, config: l.config, inputs, outputShape: shapeOf(model, name) });
  }
  const outputs = (topology.config.output_layers ?? []) as [string, number, number][];
  if (!input) throw new ExportGraphError('The model has no InputLayer.');
  return { layers, input: { name: input, shape: inputShape }, output: outputs[0][0] };
}

const CONTAINERS = new Set(['Sequential', 'Model', 'Functional']);
