/**
 * How failures of a job travel back to the client: as JSON-RPC errors with the protocol's codes
 * (`TernaryErrorCodes`) and data a client can act on (the config file and property at fault, the
 * data file, the missing path). Errors are recognised by name, not `instanceof`, because the
 * bundled server and the tests may hold two copies of a module.
 */
import { ErrorCodes, LSPErrorCodes, ResponseError } from 'vscode-languageserver/node';
import { TernaryErrorCodes } from '../../shared/protocol';

/** An error a job raises on purpose, with its protocol code and data. */
export class JobError extends Error {
  override readonly name = 'JobError';
  constructor(
    readonly code: number,
    message: string,
    readonly data?: Record<string, unknown>,
  ) {
    super(message);
  }
}

/** A path that does not exist (a run folder, a model). */
export function notFound(what: string, path: string): JobError {
  return new JobError(TernaryErrorCodes.NotFound, `${what} not found: ${path}. Check the path (runs live in <runsDir>/<experiment>/<run-id>/).`, { path });
}

interface NamedError extends Error {
  file?: unknown;
  property?: unknown;
  line?: unknown;
  column?: unknown;
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
  const longData = data !== null && typeof data === 'object' && !Array.isArray(data) &&
    Object.entries(data as Record<string, unknown>).some(([k, v]) => k !== 'stack' && typeof v === 'string' && v.length > MAX_ERROR_DATA_STRING);
  if (error.message.length <= MAX_ERROR_MESSAGE && !longData) return error;
  const clippedData = longData
    ? Object.fromEntries(Object.entries(data as Record<string, unknown>).map(([k, v]) => [k, typeof v === 'string' && k !== 'stack' ? clip(v, MAX_ERROR_DATA_STRING) : v]))
    : data;
  return new ResponseError(error.code, clip(error.message, MAX_ERROR_MESSAGE), clippedData);
}

function toUnclippedResponseError(err: unknown): ResponseError<unknown> {
  if (err instanceof ResponseError) return err;
  if (!(err instanceof Error)) return new ResponseError(ErrorCodes.InternalError, `Unexpected failure: ${String(err)}`);
  const e = err as NamedError;
  switch (e.name) {
    case 'JobError':
      return new ResponseError((err as JobError).code, e.message, (err as JobError).data);
    case 'ConfigError': {
      const data: Record<string, unknown> = { path: e.file };
      if (typeof e.property === 'string') data.property = e.property;
      if (typeof e.line === 'number') data.line = e.line;
      if (typeof e.column === 'number') data.column = e.column;
      return new ResponseError(TernaryErrorCodes.InvalidConfig, e.message, data);
    }
    case 'DataError':
      return new ResponseError(TernaryErrorCodes.BadData, e.message, typeof e.file === 'string' ? { file: e.file } : undefined);
    case 'RemovedFromQueue':
      return new ResponseError(LSPErrorCodes.RequestCancelled, e.message);
    case 'QueueFull':
      return new ResponseError(TernaryErrorCodes.Busy, e.message);
  }
  if (e.code === 'ENOENT' && typeof e.path === 'string') {
    return new ResponseError(TernaryErrorCodes.NotFound, `Not found: ${e.path}. Check the path.`, { path: e.path });
  }
  // A bug rather than a user mistake: keep the stack for the log (the message goes to the client).
  return new ResponseError(ErrorCodes.InternalError, e.message, { stack: e.stack });
}
