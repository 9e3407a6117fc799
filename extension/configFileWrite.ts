/**
 * Writing a new `*.tern.json` (New Experiment Config), apart from the vscode API so it is tested
 * as is: never over a file that appeared since its name was checked, and a refusal of the disk
 * (read-only, full, no permission) told as one sentence naming the file (shared/fileSystemMessage.ts).
 */
import { promises as fs } from 'node:fs';
import { fileSystemMessage, fileSystemRefusal } from '../shared/fileSystemMessage';

/** Writes `text` to the new file `file`; resolves to undefined when written, else to what the user should be told. */
export async function writeNewConfigFile(file: string, text: string): Promise<string | undefined> {
  try {
    // 'wx': a file that appeared since the name was checked is kept.
    await fs.writeFile(file, text, { flag: 'wx' });
    return undefined;
  } catch (err) {
    const refusal = fileSystemRefusal(err);
    if (!refusal) throw err;
    if (refusal.code === 'EEXIST' && refusal.path === file)
      return `${file} exists already (it appeared since the name was checked); run New Experiment Config again with another name.`;
    return fileSystemMessage(refusal.code, refusal.path ?? file, 'the new config');
  }
}
