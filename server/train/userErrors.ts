/**
 * Errors that are the user's to fix (a bad config, bad data, a missing model or backend): printed
 * as one message without a stack. Anything else is a bug and keeps its stack.
 */
import { ConfigError } from '../config/loadConfig';
import { isDataError } from '../data/errors';

const USER_ERROR_NAMES = new Set(['ConfigError', 'DataError', 'ModelFileError', 'BackendUnavailableError', 'BackendArgsError', 'ExportError']);

/** The message to print for a user error, or undefined when `err` is a bug. */
export function userErrorMessage(err: unknown): string | undefined {
  if (err instanceof ConfigError || isDataError(err)) return err.message;
  if (err instanceof Error && (USER_ERROR_NAMES.has(err.name) || USER_ERROR_NAMES.has(err.constructor.name))) return err.message;
  return undefined;
}
