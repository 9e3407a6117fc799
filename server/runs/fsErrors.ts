/**
 * Environment errors of the file system (a full disk, a read-only folder, a file where a folder
 * should be) as one sentence naming the path and what to do, instead of a Node stack trace.
 */
import { rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RunFolderError, isRunFolderError } from './runErrors';
import { makeDirs } from '../files/makeDirs';

const FS_CODES = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EACCES', 'EPERM', 'ENOTDIR', 'EEXIST', 'EISDIR', 'ENAMETOOLONG', 'EMFILE']);

/** The RunFolderError for an errno error of the file system, or undefined for anything else. */
export function fileSystemError(err: unknown, fallbackPath?: string, what = 'the output'): RunFolderError | undefined {
  if (isRunFolderError(err)) return err;
  const e = err as NodeJS.ErrnoException;
  if (!(err instanceof Error) || typeof e.code !== 'string' || !FS_CODES.has(e.code)) return undefined;
  const path = typeof e.path === 'string' ? e.path : (fallbackPath ?? 'a file being written');
  const other = `or choose another folder for ${what}`;
  const message = ((): string => {
    switch (e.code) {
      case 'ENOSPC':
      case 'EDQUOT':
        return `The disk holding ${path} is full (${e.code}); free some space, then continue the run with --resume (the last checkpoint is kept).`;
      case 'EROFS':
        return `${path} is on a read-only file system (EROFS); choose another folder for ${what}.`;
      case 'EACCES':
      case 'EPERM':
        return `${path} cannot be written (${e.code}: permission denied); fix its permissions ${other}.`;
      case 'ENOTDIR':
      case 'EEXIST':
        return `${path} is a file where a folder is needed (${e.code}); move the file away ${other}.`;
      case 'EISDIR':
        return `${path} is a folder where a file is needed (EISDIR); move it away ${other}.`;
      default:
        return `${path} cannot be written (${e.code}); ${other.replace(/^or /, '')}.`;
    }
  })();
  return new RunFolderError('fileSystem', path, message, { code: e.code });
}

/** Creates `dir` if needed and proves it writable with a probe file; throws a RunFolderError otherwise. */
export async function ensureWritableDir(dir: string, what: string): Promise<void> {
  try {
    const existing = await stat(dir).catch(() => undefined);
    if (existing && !existing.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR', path: dir });
    await makeDirs(dir);
    const probe = join(dir, `.tern-write-check-${process.pid}`);
    await writeFile(probe, '');
    await rm(probe, { force: true });
  } catch (err) {
    // Name the folder, not the probe file inside it.
    const e = err as NodeJS.ErrnoException;
    if (typeof e.path === 'string' && e.path.includes('.tern-write-check-')) e.path = dir;
    throw fileSystemError(err, dir, what) ?? err;
  }
}
