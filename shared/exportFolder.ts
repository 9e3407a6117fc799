/**
 * Where an export goes by default, one rule for `tern export`, the server's callers and the
 * extension: `<base>/ternary-export/<name>`, named after the run (`<experiment>-<run-id>`) or the
 * model (a model.json's folder, else the file without its extension: resnet18.onnx → resnet18).
 */

/** The folder of exports inside a workspace or the current directory. */
export const EXPORT_FOLDER = 'ternary-export';

const MODEL_FILE = /\.(json|tern|onnx)$/i;

/** The export's folder name for a run. */
export function runExportName(runId: string, experiment?: string): string {
  return experiment ? `${experiment}-${runId}` : runId;
}

/** The export's folder name for a model file or a folder holding a model.json. */
export function modelExportName(modelPath: string): string {
  const parts = modelPath.split(/[\\/]+/).filter((p) => p !== '' && p !== '.');
  const file = parts.at(-1) ?? 'model';
  const stem = file.replace(MODEL_FILE, '');
  // model.json, model.tern, model.onnx: the folder says which model it is.
  return stem === 'model' && parts.length > 1 ? parts.at(-2)! : stem;
}

/** The path functions of the platform (node:path), passed in: this module runs everywhere. */
interface PathOps {
  resolve(...parts: string[]): string;
  dirname(path: string): string;
}

/**
 * The default export folder of a model. A model that already sits in its export folder (an
 * exported model.tern exported again) gets `<name>-export` instead, so the files it came with
 * (a run's report.md, metrics.csv) are kept.
 */
export function modelExportDir(base: string, modelPath: string, path: PathOps): string {
  const dir = path.resolve(base, EXPORT_FOLDER, modelExportName(modelPath));
  const own = MODEL_FILE.test(modelPath) ? path.dirname(path.resolve(modelPath)) : path.resolve(modelPath);
  return dir === own ? `${dir}-export` : dir;
}
