/**
 * Environment errors of the file system (a full disk, a read-only folder, a file where a folder
 * should be) as one sentence naming the path and what to do, instead of a Node stack trace.
 */
import { rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RunFolderError } from './runErrors';
import { isUserError, type UserError } from '../../shared/userError';
import { fileSystemMessage, fileSystemRefusal } from '../../shared/fileSystemMessage';
import { makeDirs } from '../files/makeDirs';

/**
 * A `fileSystem` UserError for an errno error of the file system; a UserError already (by its
 * code, from any copy of the module) as it is; undefined for anything else.
 */
export function fileSystemError(err: unknown, fallbackPath?: string, what = 'the output'): UserError | undefined {
  if (isUserError(err)) return err;
  const refusal = fileSystemRefusal(err);
  if (!refusal) return undefined;
  const path = refusal.path ?? fallbackPath ?? 'a file being written';
  // A run that filled the disk keeps its last checkpoint: it goes on from there.
  const message = fileSystemMessage(refusal.code, path, what, 'continue the run with --resume (the last checkpoint is kept)');
  return new RunFolderError('fileSystem', path, message, { code: refusal.code });
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
