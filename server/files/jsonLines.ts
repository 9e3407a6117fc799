/**
 * JSON-lines files (metrics.jsonl, layers.jsonl of a run folder; docs/architecture.md, "The run
 * folder"): one reader and the two ways they are written. A run may be written while it is read,
 * and a killed run may leave a torn last line: readers skip it.
 */
import { appendFile, open, readFile } from 'node:fs/promises';
import { writeFileAtomic } from './atomicFiles';

/** The complete lines of a JSON-lines file ([] when there is none); a torn or corrupt line is skipped. */
export async function readJsonLines<T>(path: string): Promise<T[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return [];
  }
  const out: T[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      // Incomplete line: written next time, or left by a killed run.
    }
  }
  return out;
}

/**
 * Appends one JSON line. A single `write` of a complete line with O_APPEND: readers see either
 * nothing or the whole line (they also tolerate a partial last line after a crash).
 */
export function appendJsonLine(path: string, value: unknown): Promise<void> {
  return appendFile(path, JSON.stringify(value) + '\n');
}

/** Appends one JSON line as appendJsonLine does, and flushes it to disk (fsync) before resolving. */
export async function appendJsonLineDurable(path: string, value: unknown): Promise<void> {
  const handle = await open(path, 'a');
  try {
    await handle.write(JSON.stringify(value) + '\n');
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Rewrites a JSON-lines file atomically with `values`. */
export function writeJsonLinesAtomic(path: string, values: unknown[]): Promise<void> {
  return writeFileAtomic(path, values.map((v) => JSON.stringify(v) + '\n').join(''));
}
