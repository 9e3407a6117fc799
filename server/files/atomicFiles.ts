/**
 * Atomic, durable writes for run files and models (JSON lines: jsonLines.ts): a reader (the extension, `tern export`, a resumed run)
 * never sees half a file, and a file that was renamed into place survives a power cut. Files are
 * written under a temporary name in the same folder, flushed to disk (fsync), renamed over the
 * target (atomic in POSIX), and the folder is flushed so the rename itself is on disk.
 */
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

let counter = 0;
/** Temporary names carry this marker; `removeTempFiles` (runTemp.ts) finds what a killed run left. */
export const TEMP_MARKER = '.tmp-';
function tempName(path: string): string {
  return join(dirname(path), `.${basename(path)}${TEMP_MARKER}${process.pid}-${counter++}`);
}

/** Writes `data` to a new file `path` and flushes it to disk before closing it. */
export async function writeFileDurable(path: string, data: string | Uint8Array): Promise<void> {
  const handle = await open(path, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Flushes a file's data to disk. */
export async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Flushes a folder's entries (renames, new files) to disk. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch (err) {
    // Some file systems cannot fsync a directory (EINVAL); their renames are as durable as they get.
    if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
  } finally {
    await handle.close();
  }
}

/** Writes `data` to `path` atomically and durably (temporary file, fsync, rename, fsync of the folder). */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = tempName(path);
  try {
    await writeFileDurable(tmp, data);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
  await syncDir(dirname(path));
}

/** Writes pretty JSON atomically. */
export function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  return writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

/**
 * Replaces the directory `target` with one filled by `fill(tmpDir)`. rename cannot replace a
 * non-empty directory, so the current one is first renamed aside to `<target>.old` and removed
 * once the new one is in place and on disk. A crash between the two renames leaves only
 * `<target>.old`, the complete previous version: it is never deleted while `target` is missing
 * (a second crash at the same point would otherwise lose both), and `resolveAtomicDir` finds it.
 * The files `fill` wrote and the folder are flushed to disk before the renames.
 */
export async function replaceDirAtomic(target: string, fill: (tmpDir: string) => Promise<void>): Promise<void> {
  const tmp = `${target}${TEMP_MARKER}${process.pid}-${counter++}`;
  const old = `${target}.old`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  try {
    await fill(tmp);
    for (const name of await readdir(tmp)) await syncFile(join(tmp, name));
    await syncDir(tmp);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  if (existsSync(target)) {
    await rm(old, { recursive: true, force: true });
    await rename(target, old);
  }
  await rename(tmp, target);
  await syncDir(dirname(target));
  await rm(old, { recursive: true, force: true });
}

/** The complete version of a directory written by replaceDirAtomic (`target`, else `target.old`), or undefined. */
export function resolveAtomicDir(target: string): string | undefined {
  if (existsSync(target)) return target;
  if (existsSync(`${target}.old`)) return `${target}.old`;
  return undefined;
}

/** Whether a process with this pid runs on this host (EPERM: it runs, as another user). */
export function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes from `dir` the temporary files and folders of writeFileAtomic and replaceDirAtomic
 * (`.<name>.tmp-<pid>-<n>`, `<name>.tmp-<pid>-<n>`) whose process no longer runs: what a write
 * killed mid-way (kill -9, a power cut) left. Another live process's are kept, it may still be
 * writing them. Returns the paths removed.
 */
export async function removeStaleTempFiles(dir: string): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const pid = new RegExp(`${TEMP_MARKER.replace('.', '\\.')}(\\d+)-\\d+$`).exec(name)?.[1];
    if (pid === undefined || Number(pid) === process.pid || processRuns(Number(pid))) continue;
    await rm(join(dir, name), { recursive: true, force: true });
    removed.push(join(dir, name));
  }
  return removed;
}
