/**
 * Which failures are the user's to fix (a config, data, path or folder that is wrong) rather than
 * ours: those are logged as warnings with their message, never as errors with a stack trace. The
 * codes are the server's (shared/protocol.ts `USER_MISTAKE_CODES`).
 */
import { ResponseError } from 'vscode-languageclient';
import { USER_MISTAKE_CODES } from '../shared/protocol';

export function isUserMistake(error: unknown): boolean {
  return error instanceof ResponseError && USER_MISTAKE_CODES.has(error.code);
}
