/**
 * Loading a model whatever its file: a tfjs model.json (server/core/modelIO.ts), a packed
 * model.tern (server/formats/tern/ternFile.ts), an `.onnx` file imported as a float model
 * (server/formats/onnx/import/), or a folder or run folder holding one of them.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { isUserError } from '../../shared/userError';
import { ModelFileError } from '../core/modelFileError';
import { loadModelJson, MODEL_JSON } from '../core/modelIO';
import { importOnnx, isOnnxPath } from '../formats/onnx/import';
import { loadTernModel, TERN_FILE } from '../formats/tern/ternFile';

/**
 * The one way to find a model file: `target` itself when it is a file; for a folder, its
 * `model.json`, `model/model.json` (a run folder's final model, docs/architecture.md "The run
 * folder") or `model.tern`. A run folder without a final model yet says so.
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
  for (const inside of [path.join(target, MODEL_JSON), runModel, path.join(target, TERN_FILE)]) {
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
    `No ${MODEL_JSON} in folder ${target} (looked for ${MODEL_JSON}, model/${MODEL_JSON} and ${TERN_FILE}). ` +
      'Pass a tfjs LayersModel model.json, a model.tern, or a run folder whose training has finished.',
    target,
  );
}

/** Loads the model stored at `target` (a model.json, model.tern or .onnx file, or a folder containing one). */
export async function loadModel(target: string): Promise<LayersModel> {
  const file = await resolveModelJsonPath(target);
  if (isOnnxPath(file)) return importOnnx(file);
  if (file.endsWith('.tern')) {
    try {
      return await loadTernModel(file);
    } catch (err) {
      // The .tern reader's refusals (code badModel) name no file: this one is it.
      if (isUserError(err) && err.code === 'badModel' && err.data.file === undefined) throw new ModelFileError(err.message, file);
      throw err;
    }
  }
  return loadModelJson(file);
}
