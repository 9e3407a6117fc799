/**
 * The error of a model file that cannot be used. A leaf module (it imports only shared/): the
 * model.json reader (modelIO.ts), the format readers (server/formats/) and the loader that picks
 * one by file type (server/models/loadModel.ts) all throw it, so every place that takes a model
 * (tern ternarize/stats/eval, model.from, the server's jobs) reports it as a user mistake.
 */
import { UserError } from '../../shared/userError';

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
