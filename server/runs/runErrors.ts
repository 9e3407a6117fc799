import { UserError } from '../../shared/userError';

/**
 * Errors about a run folder or the disk under it that the user can act on: a damaged checkpoint,
 * a run another process is writing, a runs folder that cannot be written. A UserError: printed as
 * one line by the CLI (server/cli/command.ts) and mapped to protocol codes by its code (server/rpc/errors.ts).
 */
export type RunFolderProblem =
  /** A checkpoint or run file is missing or damaged; `path` names it. */
  | 'damaged'
  /** Another live process holds the run's lock. */
  | 'locked'
  /** The disk refused: full, read-only, or a file where a folder should be. */
  | 'fileSystem';

export class RunFolderError extends UserError {
  override name = 'RunFolderError';
  constructor(
    readonly problem: RunFolderProblem,
    /** The file or folder at fault. */
    readonly path: string,
    message: string,
    /** More for a client to act on (the lock holder's pid and host, the errno code). */
    readonly details?: { pid?: number; host?: string; code?: string },
  ) {
    super(
      problem === 'locked' ? 'runLocked' : problem === 'fileSystem' ? 'fileSystem' : 'badData',
      message,
      problem === 'damaged' ? { file: path } : { path, pid: details?.pid, host: details?.host, errno: details?.code },
    );
  }
}
