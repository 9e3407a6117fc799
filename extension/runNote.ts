/**
 * A note on a run, kept in its folder (`note.txt`, shared/runRecords.ts RUN_NOTE_FILE) so it
 * travels with the run and every window sees it; the server lists it with the run
 * (server/runs/runFiles.ts). Written whole under a temporary name and renamed into place, as every
 * run file, so a reader never sees half a note. No vscode here: unit-tested as is.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { RUN_NOTE_FILE } from '../shared/runRecords';

/** The run's note, trimmed; '' when it has none. */
export async function readRunNote(runDir: string): Promise<string> {
  return (await fs.readFile(path.join(runDir, RUN_NOTE_FILE), 'utf8').catch(() => '')).trim();
}

/** Sets the run's note; an empty note removes the file. */
export async function writeRunNote(runDir: string, note: string): Promise<void> {
  const file = path.join(runDir, RUN_NOTE_FILE);
  const text = note.trim();
  if (!text) {
    await fs.rm(file, { force: true });
    return;
  }
  const temp = path.join(runDir, `.${RUN_NOTE_FILE}.tmp-${process.pid}-${Date.now()}`);
  try {
    await fs.writeFile(temp, `${text}\n`);
    await fs.rename(temp, file);
  } finally {
    await fs.rm(temp, { force: true });
  }
}
