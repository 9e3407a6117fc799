/**
 * Run folders a command names that are no longer on disk. A notification outlives what it is
 * about: the "Finished" toast (extension/commands/training.ts) still offers Show Dashboard and
 * Export Run after Delete Run (extension/commands/runManagement.ts) sent that run to the trash.
 * The commands then say the folder is gone instead of failing on the missing files. No `vscode`
 * here: unit-tested.
 */
import { promises as fs } from 'node:fs';

/** Whether `dir` is a folder on disk (a file of that name is not a run). */
export async function folderExists(dir: string): Promise<boolean> {
  try {
    return (await fs.stat(dir)).isDirectory();
  } catch {
    return false;
  }
}

/** The folders of `runDirs` that do not exist, in order. */
export async function goneRunDirs(runDirs: readonly string[], exists: (dir: string) => Promise<boolean>): Promise<string[]> {
  const present = await Promise.all(runDirs.map(exists));
  return runDirs.filter((_, i) => !present[i]);
}

/** "the run folder runs/x/2026… no longer exists (deleted or moved): nothing to export." */
export function goneRunsMessage(gone: readonly string[], nothingTo: string, label: (dir: string) => string = (d) => d): string {
  const folders = gone.map(label).join(', ');
  const subject = gone.length === 1 ? `the run folder ${folders} no longer exists` : `the run folders ${folders} no longer exist`;
  return `${subject} (deleted or moved): nothing to ${nothingTo}.`;
}
