/**
 * How failures of a job travel back to the client: as JSON-RPC errors with the protocol's codes
 * (`TernaryErrorCodes`) and data a client can act on (the config file and property at fault, the
 * data file, the missing path). A user's mistake is a UserError (shared/userError.ts), mapped
 * by its code; anything else is a bug and is answered as InternalError with its stack.
 */
import { ErrorCodes, ResponseError } from 'vscode-languageserver/node';
import { TernaryErrorCodes, USER_ERROR_PROTOCOL_CODES } from '../../shared/protocol';
import { isUserError, type UserError } from '../../shared/userError';
import { fileSystemError } from '../runs/fsErrors';

/** The data documented for each code in shared/protocol.ts (`path` for a config, `file` for data). */
function protocolData(err: UserError): Record<string, unknown> | undefined {
  const { file, property, line, column, path, layer } = err.data;
  const data: Record<string, unknown> = {};
  if (err.code === 'invalidConfig') data.path = file;
  else if (err.code === 'notFound') data.path = path ?? file;
  else if (file !== undefined) data.file = file;
  if (property !== undefined) data.property = property;
  if (line !== undefined) data.line = line;
  if (column !== undefined) data.column = column;
  if (layer !== undefined) data.layer = layer;
  if (err.code !== 'notFound' && path !== undefined) data.path = path;
  if (err.data.pid !== undefined) data.pid = err.data.pid;
  if (err.data.host !== undefined) data.host = err.data.host;
  if (err.data.errno !== undefined) data.code = err.data.errno;
  if (err.data.engine !== undefined) data.engine = err.data.engine;
  if (err.data.setting !== undefined) data.setting = err.data.setting;
  if (err.data.outDir !== undefined) data.outDir = err.data.outDir;
  if (err.data.model !== undefined) data.model = err.data.model;
  return Object.keys(data).length ? data : undefined;
}

interface ErrnoError extends Error {
  code?: unknown;
  path?: unknown;
}

/** Longest message a client gets back; what a request echoes (a path, a name) can be megabytes. */
export const MAX_ERROR_MESSAGE = 2000;
/** Longest string in an error's data: longer than any real path (PATH_MAX is 4096). */
export const MAX_ERROR_DATA_STRING = 4096;

/** `text` cut to `max` characters, saying how much was left out. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}

/** The JSON-RPC error for anything a job threw, with echoed values cut to a readable size. */
export function toResponseError(err: unknown): ResponseError<unknown> {
  const error = toUnclippedResponseError(err);
  const data = error.data;
  const longData =
    data !== null &&
    typeof data === 'object' &&
    !Array.isArray(data) &&
    Object.entries(data as Record<string, unknown>).some(
      ([k, v]) => k !== 'stack' && typeof v === 'string' && v.length > MAX_ERROR_DATA_STRING,
    );
  if (error.message.length <= MAX_ERROR_MESSAGE && !longData) return error;
  const clippedData = longData
    ? Object.fromEntries(
        Object.entries(data as Record<string, unknown>).map(([k, v]) => [
          k,
          typeof v === 'string' && k !== 'stack' ? clip(v, MAX_ERROR_DATA_STRING) : v,
        ]),
      )
    : data;
  return new ResponseError(error.code, clip(error.message, MAX_ERROR_MESSAGE), clippedData);
}

function toUnclippedResponseError(err: unknown): ResponseError<unknown> {
  if (err instanceof ResponseError) return err;
  if (!(err instanceof Error)) return new ResponseError(ErrorCodes.InternalError, `Unexpected failure: ${String(err)}`);
  if (isUserError(err))
    return new ResponseError(USER_ERROR_PROTOCOL_CODES[err.code] ?? ErrorCodes.InternalError, err.message, protocolData(err));
  // The disk refused (full, read-only, a file where a folder should be): the environment, not a bug.
  const refused = fileSystemError(err);
  if (refused) return toUnclippedResponseError(refused);
  const e = err as ErrnoError;
  if (e.code === 'ENOENT' && typeof e.path === 'string') {
    return new ResponseError(TernaryErrorCodes.NotFound, `Not found: ${e.path}. Check the path.`, { path: e.path });
  }
  // A bug rather than a user mistake: keep the stack for the log (the message goes to the client).
  return new ResponseError(ErrorCodes.InternalError, e.message, { stack: e.stack });
}
