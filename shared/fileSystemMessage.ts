/**
 * What to tell the user when the disk refuses a write (a full disk, a read-only folder, a file
 * where a folder should be): one sentence naming the path and what to do, for the server, the CLI
 * and the extension alike. Pure: takes the errno code and path of Node's error.
 */

/** The errno codes of the file system's refusals; anything else is not the user's to fix. */
export const FILE_SYSTEM_REFUSALS: ReadonlySet<string> = new Set([
  'ENOSPC',
  'EDQUOT',
  'EROFS',
  'EACCES',
  'EPERM',
  'ENOTDIR',
  'EEXIST',
  'EISDIR',
  'ENAMETOOLONG',
  'EMFILE',
]);

/** The errno code and path of a file-system refusal, or undefined for any other error. */
export function fileSystemRefusal(err: unknown): { code: string; path?: string } | undefined {
  const e = err as { code?: unknown; path?: unknown };
  if (!(err instanceof Error) || typeof e.code !== 'string' || !FILE_SYSTEM_REFUSALS.has(e.code)) return undefined;
  return { code: e.code, path: typeof e.path === 'string' ? e.path : undefined };
}

/**
 * The sentence for `code` at `path`; `what` says what the path is for ("the export (tern export
 * --out)"), `onFull` what to do once space is freed.
 */
export function fileSystemMessage(code: string, path: string, what: string, onFull = 'try again'): string {
  const other = `or choose another folder for ${what}`;
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return `The disk holding ${path} is full (${code}); free some space, then ${onFull}.`;
    case 'EROFS':
      return `${path} is on a read-only file system (EROFS); choose another folder for ${what}.`;
    case 'EACCES':
    case 'EPERM':
      return `${path} cannot be written (${code}: permission denied); fix its permissions ${other}.`;
    case 'ENOTDIR':
    case 'EEXIST':
      return `${path} is a file where a folder is needed (${code}); move the file away ${other}.`;
    case 'EISDIR':
      return `${path} is a folder where a file is needed (EISDIR); move it away ${other}.`;
    default:
      return `${path} cannot be written (${code}); choose another folder for ${what}.`;
  }
}
