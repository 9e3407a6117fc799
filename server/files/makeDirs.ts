/**
 * `mkdir -p` whose failure names the real cause. Node's recursive mkdir reports ENOENT for a
 * folder it cannot create on a read-only file system (a plain mkdir there says EROFS), which reads
 * as "the path does not exist" and is answered as NotFound; the folder nearest to the missing one
 * is created plainly to get the true error.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

/** Creates `dir` and its missing parents; a refusal is the file system's own error (EROFS, EACCES, ENOTDIR, …) for the folder it refused. */
export async function makeDirs(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    // The first missing folder below an existing one: creating it alone gives the real error.
    let missing = resolve(dir);
    while (dirname(missing) !== missing && !existsSync(dirname(missing))) missing = dirname(missing);
    await mkdir(missing).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw e;
    });
    await mkdir(dir, { recursive: true });
  }
}
