/**
 * Saving and loading tfjs LayersModels as `model.json` + `weights.bin` with plain `fs`: pure-Node
 * tfjs has no `file://` handler (that comes with tfjs-node, which this project does not require).
 * Files are written atomically (temporary name, then rename), as every run file (server/files/atomicFiles.ts).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { isUserError, UserError } from '../../shared/userError';
import { loadLayersModel, type LayersModel } from '@tensorflow/tfjs-layers';
// Registers TernaryConv2D, TernaryDense and OptionAShortcut, so models using them load.
import './layers';
import { removeStaleTempFiles, writeFileAtomic } from '../files/atomicFiles';
import { makeDirs } from '../files/makeDirs';
import { loadTernModel } from '../formats/tern/ternFile';
import { readWeightGroups } from './weightFiles';

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';
/** The packed ternary model `tern export` writes (server/formats/tern/ternFile.ts). */
export const MODEL_TERN = 'model.tern';

/**
 * A model file that cannot be used: missing (code `notFound`), or not JSON, not a LayersModel,
 * with unknown layers (code `badModel`).
 */
export class ModelFileError extends UserError {
  constructor(
    message: string,
    readonly file: string,
    code: 'badModel' | 'notFound' = 'badModel',
  ) {
    super(code, message, code === 'notFound' ? { path: file } : { file });
    this.name = 'ModelFileError';
  }
}

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

/**
 * The one way to find a model.json: `target` itself when it is a file; for a folder, its
 * `model.json`, or `model/model.json` (a run folder's final model, docs/architecture.md "The run
 * folder"). A run folder without a final model yet says so.
 */
export async function resolveModelJsonPath(target: string): Promise<string> {
  let stat;
  try {
    stat = await fs.stat(target);
  } catch {
    throw new ModelFileError(
      `Model file not found: ${target}. Pass a tfjs LayersModel model.json, a folder that contains one, a run folder, or an .onnx file.`,
      target,
      'notFound',
    );
  }
  if (!stat.isDirectory()) return target;
  const runModel = path.join(target, 'model', MODEL_JSON);
  for (const inside of [path.join(target, MODEL_JSON), runModel, path.join(target, MODEL_TERN)]) {
    try {
      await fs.access(inside);
      return inside;
    } catch {
      // try the next layout
    }
  }
  const isRun = await fs.access(path.join(target, 'config.json')).then(
    () => true,
    () => false,
  );
  if (isRun) {
    throw new ModelFileError(
      `The run ${target} has no final model yet (model/${MODEL_JSON} is written when a run completes); ` +
        'use a completed run, or a model.json.',
      runModel,
      'notFound',
    );
  }
  throw new ModelFileError(
    `No ${MODEL_JSON} in folder ${target} (looked for ${MODEL_JSON}, model/${MODEL_JSON} and ${MODEL_TERN}). ` +
      'Pass a tfjs LayersModel model.json, a model.tern, or a run folder whose training has finished.',
    target,
  );
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
 * Loads the model stored at `modelJsonPath` (a model.json or model.tern, or a folder containing
 * one), or imports an `.onnx` file as a float tfjs model (server/formats/onnx/import).
 */
export async function loadModel(modelJsonPath: string): Promise<LayersModel> {
  const file = await resolveModelJsonPath(modelJsonPath);
  if (/\.onnx$/i.test(file)) {
    // Imported lazily: the importer's errors extend ModelFileError, defined in this module.
    const { importOnnx } = await import('../formats/onnx/import');
    return importOnnx(file);
  }
  if (file.endsWith('.tern')) {
    try {
      return await loadTernModel(file);
    } catch (err) {
      // The .tern reader's refusals (code badModel) name no file: this one is it.
      if (isUserError(err) && err.code === 'badModel' && err.data.file === undefined) throw new ModelFileError(err.message, file);
      throw err;
    }
  }
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
