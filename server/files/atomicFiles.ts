/**
 * Atomic writes, for run files and models (docs/architecture.md, "The run folder"): a reader (the
 * extension, `tern export`, a resumed run) never sees half a file. Files are written under a
 * temporary name in the same folder, then renamed over the target, which POSIX makes atomic.
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

let counter = 0;
function tempName(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${counter++}`);
}

/** Writes `data` to `path` atomically (temporary file + rename); a failed write leaves no temporary file. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = tempName(path);
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Writes pretty JSON atomically. */
export function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  return writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

/**
 * Replaces the directory `target` with one filled by `fill(tmpDir)`, atomically as far as POSIX
 * allows: rename cannot replace a non-empty directory, so the old one is first renamed aside
 * (`<target>.old`) and removed after. If a crash happens between the two renames, `<target>.old`
 * is the complete previous version; `resolveAtomicDir` finds it.
 */
export async function replaceDirAtomic(target: string, fill: (tmpDir: string) => Promise<void>): Promise<void> {
  const tmp = `${target}.tmp-${process.pid}-${counter++}`;
  const old = `${target}.old`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  try {
    await fill(tmp);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  await rm(old, { recursive: true, force: true });
  if (existsSync(target)) await rename(target, old);
  await rename(tmp, target);
  await rm(old, { recursive: true, force: true });
}

/** The complete version of a directory written by replaceDirAtomic (`target`, else `target.old`), or undefined. */
export function resolveAtomicDir(target: string): string | undefined {
  if (existsSync(target)) return target;
  if (existsSync(`${target}.old`)) return `${target}.old`;
  return undefined;
}
