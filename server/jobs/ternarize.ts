/**
 * Ternarize a float model: the ternary twin of a model.json (or its folder) or an .onnx CNN, saved
 * as model.json + float32 latent weights. The one implementation behind `tern ternarize` and the
 * server's `ternary/ternarize`.
 */
import { resolve } from 'node:path';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { TernaryQuant } from '../../shared/quant';
import { loadModel, resolveModelJsonPath } from '../models/loadModel';
import { saveModel, savedModelFiles } from '../core/modelIO';
import { prepareOutputFolder, refuseSourceFolder } from '../export/outputFolder';
import { convertToTernary } from '../models';
import { modelStats, type ModelStats } from './stats';
import { throwIfCancelled } from './cancel';

export interface TernarizeJob {
  /** The float model: a model.json, a folder holding one, or an .onnx file. */
  modelPath: string;
  outDir: string;
  quant: TernaryQuant;
  /** How the caller names the output folder in messages: `--out` on the command line, `outDir` in the protocol. */
  outOption: string;
  signal?: AbortSignal;
}

export interface TernarizeOutcome extends ModelStats {
  /** The output folder, absolute. */
  outDir: string;
  /** The files written, relative to outDir, with their sizes. */
  files: { path: string; bytes: number }[];
}

/**
 * Checks the paths (the source exists, the output is not its folder and is writable) before any
 * work, converts, saves with the source and settings in model.json's metadata, and returns the
 * twin's statistics.
 */
export async function ternarizeModel(job: TernarizeJob): Promise<TernarizeOutcome> {
  const source = await resolveModelJsonPath(resolve(job.modelPath));
  const outDir = resolve(job.outDir);
  await refuseSourceFolder(source, outDir, job.outOption);
  await prepareOutputFolder(outDir, `the ternary model (${job.outOption})`);
  const float = await loadModel(source);
  let twin: LayersModel | undefined;
  try {
    twin = await convertToTernary(float, job.quant);
    throwIfCancelled(job.signal);
    await saveModel(twin, outDir, { ternarizedFrom: source, quant: job.quant });
    return { outDir, files: await savedModelFiles(outDir), ...modelStats(twin) };
  } finally {
    if (twin && twin !== float) twin.dispose();
    float.dispose();
  }
}
