/**
 * ONNX import: an `.onnx` CNN (PyTorch's torch.onnx.export, opsets 7–18) as a float tfjs
 * LayersModel with NHWC input, which every model consumer then takes as it takes a model.json
 * (ternarization rewrites its Conv2D/Dense layers; see server/models/convert.ts).
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { convertGraph } from './graph';
import { readOnnxModel } from './read';

export { OnnxImportError } from './errors';
export { SUPPORTED_OPS } from './graph';

/** True for a path the ONNX importer reads (by extension). */
export function isOnnxPath(file: string): boolean {
  return /\.onnx$/i.test(file);
}

/** Reads `file` and returns the float tfjs model computing what the ONNX graph computes. */
export async function importOnnx(file: string): Promise<LayersModel> {
  return convertGraph(await readOnnxModel(file), file);
}
