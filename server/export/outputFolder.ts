/**
 * Where a derived model may be written: never into the folder of the model it is made from,
 * where its model.json and weights.bin would replace the source's. Folders are compared by
 * their real paths, so a symlink (or `..`) to the source folder is refused too. Used by
 * `tern ternarize` and the server's `ternary/ternarize` alike.
 */
import { realpath } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { UserError } from '../../shared/userError';
import { removeStaleTempFiles } from '../files/atomicFiles';
import { ensureWritableDir } from '../runs/fsErrors';

/** The real path of `path` (symlinks resolved), also when it does not exist yet: its nearest existing ancestor's, plus the rest. */
export async function realPathOf(path: string): Promise<string> {
  const abs = resolve(path);
  try {
    return await realpath(abs);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    const parent = dirname(abs);
    return parent === abs ? abs : join(await realPathOf(parent), basename(abs));
  }
}

/**
 * Throws a UserError (`invalidArgument`, naming `property`) when `outDir` is the folder of
 * `sourceFile` (a model.json or an .onnx file).
 */
export async function refuseSourceFolder(sourceFile: string, outDir: string, property: string): Promise<void> {
  const [source, out] = await Promise.all([realPathOf(dirname(sourceFile)), realPathOf(outDir)]);
  if (source !== out) return;
  const via = resolve(outDir) === out ? '' : ` (it leads to ${out})`;
  throw new UserError(
    'invalidArgument',
    `${property} ${outDir} is the input model's folder${via}; choose another folder so the source model is kept.`,
    { property, path: outDir },
  );
}

/**
 * Makes `dir` ready for a command's output (`tern export`, `tern ternarize` and their server jobs):
 * created with its parents, proved writable before any long work, and cleared of the temporary
 * files a killed write of ours left there (server/files/atomicFiles.ts). A refusal of the file
 * system (read-only, no permission, a file in the way) is a `fileSystem` UserError naming the
 * folder; `what` says in it what the folder is for ("the export (--out)").
 */
export async function prepareOutputFolder(dir: string, what: string): Promise<void> {
  await ensureWritableDir(dir, what);
  await removeStaleTempFiles(dir);
}
