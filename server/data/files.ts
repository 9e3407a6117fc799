/** File access for the readers: every failure becomes a DataError naming the file. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { DataError } from './errors';

/** True when `buf` starts with the gzip magic number 1f 8b. */
export function isGzip(buf: Uint8Array): boolean {
  return buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b;
}

function ioError(file: string, err: unknown): DataError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new DataError(`${file}: file not found.`, file);
  if (code === 'EACCES' || code === 'EPERM') return new DataError(`${file}: permission denied; check the file's permissions.`, file);
  if (code === 'EISDIR') return new DataError(`${file}: is a folder, expected a file.`, file);
  return new DataError(`${file}: cannot be read (${(err as Error).message}).`, file);
}

/** Reads a whole file, gunzipping it when it is gzip-compressed (detected by content, not name). */
export function readMaybeGzip(file: string): Uint8Array {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (err) {
    throw ioError(file, err);
  }
  if (!isGzip(buf)) return buf;
  try {
    return gunzipSync(buf);
  } catch (err) {
    throw new DataError(
      `${file}: the gzip data is corrupt or truncated (${(err as Error).message}). Download the file again, or unpack it with gunzip to see what is wrong.`,
      file,
    );
  }
}

/** Reads a whole file (async, for streamed image folders). */
export async function readFileAsync(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw ioError(file, err);
  }
}

/** The first of `candidates` that exists as a file, or undefined. */
export function firstExisting(candidates: readonly string[]): string | undefined {
  return candidates.find((f) => existsSync(f) && statSync(f).isFile());
}

export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
