/**
 * Saving and loading tfjs LayersModels as `model.json` + `weights.bin` with plain `fs`: pure-Node
 * tfjs has no `file://` handler (that comes with tfjs-node, which this project does not require).
 * Files are written atomically (temporary name, then rename), as every run file (server/files/atomicFiles.ts).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadLayersModel, type LayersModel } from '@tensorflow/tfjs-layers';
// Registers TernaryConv2D, TernaryDense and OptionAShortcut, so models using them load.
import './layers';
import { removeStaleTempFiles, writeFileAtomic } from '../files/atomicFiles';
import { makeDirs } from '../files/makeDirs';
import { readWeightGroups } from './weightFiles';
import { ModelFileError } from './modelFileError';

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';

function joinWeightData(data: tf.io.WeightData | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  return new Uint8Array(tf.io.CompositeArrayBuffer.join(data));
}

/**
 * Saves `model` into `dir` (created if needed) as `model.json` + `weights.bin`, the standard tfjs
 * layers format. `metadata` lands in model.json's `userDefinedMetadata`.
 */
export async function saveModel(model: LayersModel, dir: string, metadata?: Record<string, unknown>): Promise<tf.io.SaveResult> {
  await makeDirs(dir);
  await removeStaleTempFiles(dir);
  return model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = joinWeightData(artifacts.weightData);
      const modelJson: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology as object,
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version_core}`,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: artifacts.weightSpecs ?? [] }],
      };
      if (artifacts.trainingConfig) modelJson.trainingConfig = artifacts.trainingConfig;
      const userDefinedMetadata = { ...(artifacts.userDefinedMetadata ?? {}), ...(metadata ?? {}) };
      if (Object.keys(userDefinedMetadata).length > 0) modelJson.userDefinedMetadata = userDefinedMetadata as Record<string, object>;
      // Weights first: a model.json that exists always points at complete weights.
      await writeFileAtomic(path.join(dir, WEIGHTS_BIN), weights);
      await writeFileAtomic(path.join(dir, MODEL_JSON), JSON.stringify(modelJson));
      return {
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: 'JSON',
          weightDataBytes: weights.byteLength,
        },
      };
    }),
  );
}

/** The files saveModel wrote into `dir` and their sizes: what a command says it wrote. */
export async function savedModelFiles(dir: string): Promise<{ path: string; bytes: number }[]> {
  return Promise.all([MODEL_JSON, WEIGHTS_BIN].map(async (name) => ({ path: name, bytes: (await fs.stat(path.join(dir, name))).size })));
}

/** Reads and checks model.json: it must be a tfjs layers model (not a graph model or another JSON file). */
export async function readModelJson(modelJsonPath: string): Promise<tf.io.ModelJSON> {
  const text = await fs.readFile(modelJsonPath, 'utf8').catch(() => {
    throw new ModelFileError(`Cannot read ${modelJsonPath}. Check that the file exists and is readable.`, modelJsonPath);
  });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ModelFileError(
      `${modelJsonPath} is not valid JSON (${(err as Error).message}). Expected a tfjs LayersModel model.json.`,
      modelJsonPath,
    );
  }
  const modelJson = json as Partial<tf.io.ModelJSON> & { format?: string };
  const topology = modelJson?.modelTopology as { class_name?: string; model_config?: unknown } | undefined;
  if (typeof json !== 'object' || json === null || !topology) {
    throw new ModelFileError(`${modelJsonPath} is not a tfjs model.json: it has no "modelTopology".`, modelJsonPath);
  }
  const isLayersTopology = topology.class_name !== undefined || topology.model_config !== undefined;
  if ((modelJson.format !== undefined && modelJson.format !== 'layers-model') || !isLayersTopology) {
    throw new ModelFileError(
      `${modelJsonPath} is not a tfjs LayersModel (format '${String(modelJson.format)}'). ` +
        'Graph models (from the TensorFlow SavedModel converter) cannot be ternarized; convert a Keras model with `--output_format=tfjs_layers_model`.',
      modelJsonPath,
    );
  }
  return modelJson as tf.io.ModelJSON;
}

/**
 * Loads a tfjs LayersModel from its model.json and the weight files the manifest names. Other
 * model files (model.tern, .onnx) and folders: server/models/loadModel.ts.
 */
export async function loadModelJson(file: string): Promise<LayersModel> {
  const modelJson = await readModelJson(file);
  const artifacts = await tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
    // Paths confined to the model's folder, sizes matching the manifest: server/core/weightFiles.ts.
    const { specs, buffers } = await readWeightGroups(file, manifest, (message, at) => new ModelFileError(message, at));
    return [specs, tf.io.CompositeArrayBuffer.join(buffers)];
  });
  try {
    return await loadLayersModel(tf.io.fromMemory(artifacts));
  } catch (err) {
    const message = (err as Error).message ?? String(err);
    const unknown = /Unknown layer: (\w+)/.exec(message);
    if (unknown) {
      throw new ModelFileError(
        `${file} uses layer class '${unknown[1]}', which this tool does not know. ` +
          'Supported: the tfjs-layers built-ins plus TernaryConv2D, TernaryDense and OptionAShortcut.',
        file,
      );
    }
    throw new ModelFileError(`Cannot load ${file} as a tfjs LayersModel: ${message}`, file);
  }
}
