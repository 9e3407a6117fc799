/**
 * The one error type for mistakes a user can fix: a bad config, unreadable data, a model that
 * cannot be loaded or converted, a bad argument. Its message is written for the user (what is
 * wrong, where, what to do) and is shown as is, without a stack trace. `code` says what kind of
 * mistake it is; the training server maps it to a JSON-RPC error code (server/rpc/errors.ts),
 * the CLI to a message and an exit code (server/cli/main.ts). Anything else that is thrown is a
 * bug and keeps its stack.
 */
import type { ModelExportSummary } from './exportSummary';

export type UserErrorCode =
  /** A `*.tern.json` file or one of its properties is invalid (data: file, property, line, column). */
  | 'invalidConfig'
  /** A request parameter or command-line option is invalid (data: property). */
  | 'invalidArgument'
  /** Training or test data cannot be read or used (data: file). */
  | 'badData'
  /** A model file cannot be read, or a model cannot be ternarized (data: file, layer). */
  | 'badModel'
  /** A file, folder, run or experiment does not exist (data: path). */
  | 'notFound'
  /** Something this machine lacks: a compute backend that cannot start, a missing runtime. */
  | 'unavailable'
  /**
   * The engine a run asked for cannot run here: no Python, no or too old PyTorch, CUDA asked for
   * but absent (data: engine, setting — the VS Code setting that changes it).
   */
  | 'engineUnavailable'
  /** Another live process is training the run (data: path, pid, host). */
  | 'runLocked'
  /** The disk refused: full, read-only, a file where a folder should be (data: path, errno). */
  | 'fileSystem'
  /**
   * An exported model cannot be written or shipped: a layer export does not handle, weights that
   * are not the ternary levels, an exported file that ONNX Runtime refuses or that disagrees with our
   * inference (parity) (data: outDir, model).
   */
  | 'exportFailed'
  /** The user stopped a job before it finished ($/cancelRequest, Ctrl-C). */
  | 'cancelled'
  /** The server's job queue is full; try again when a job has ended. */
  | 'busy';

export interface UserErrorData {
  /** The file at fault (a config, a data file, a model.json). */
  file?: string;
  /** The property or parameter at fault: `experiments[0].quant.tex`, `thresholdFactor`, `--out`. */
  property?: string;
  /** 1-based position in `file`. */
  line?: number;
  column?: number;
  /** A path that does not exist or must not be used. */
  path?: string;
  /** The model layer at fault. */
  layer?: string;
  /** The process holding a run's lock (runLocked). */
  pid?: number;
  host?: string;
  /** The file system's error code (fileSystem): ENOSPC, EROFS, … */
  errno?: string;
  /** The training engine that cannot run (engineUnavailable): `torch`. */
  engine?: string;
  /** The VS Code setting that fixes it (engineUnavailable): `ternary.torch.python`, `ternary.torch.device`, `ternary.engine`. */
  setting?: string;
  /** The export's folder (exportFailed). */
  outDir?: string;
  /** The sizes and parity figures of the files an export wrote before it failed (exportFailed: parity). */
  model?: ModelExportSummary;
}

export class UserError extends Error {
  override name = 'UserError';
  /** Marks a UserError where `instanceof` cannot (see isUserError); subclasses may rename themselves. */
  readonly userError = true;

  constructor(
    readonly code: UserErrorCode,
    message: string,
    readonly data: UserErrorData = {},
  ) {
    super(message);
  }
}

/**
 * True for a UserError, also one from another copy of this module (the bundled server and the
 * tests may each hold one), where `instanceof` fails.
 */
export function isUserError(err: unknown): err is UserError {
  if (err instanceof UserError) return true;
  const e = err as { userError?: unknown; code?: unknown };
  return err instanceof Error && e.userError === true && typeof e.code === 'string';
}
