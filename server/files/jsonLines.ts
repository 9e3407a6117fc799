/**
 * JSON-lines files (metrics.jsonl, layers.jsonl of a run folder; docs/architecture.md, "The run
 * folder"): one reader and the two ways they are written. A run may be written while it is read,
 * and a killed run may leave a torn last line: readers skip it.
 */
import { appendFile, readFile } from 'node:fs/promises';
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

/** Rewrites a JSON-lines file atomically with `values`. */
export function writeJsonLinesAtomic(path: string, values: unknown[]): Promise<void> {
  return writeFileAtomic(path, values.map((v) => JSON.stringify(v) + '\n').join(''));
}
