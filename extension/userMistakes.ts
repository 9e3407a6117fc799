/**
 * Which failures are the user's to fix (a config, data or path that is wrong) rather than ours:
 * those are logged as warnings with their message, never as errors with a stack trace.
 */
import { ErrorCodes, ResponseError } from 'vscode-languageclient';
import { TernaryErrorCodes } from '../shared/protocol';

const userMistakeCodes: ReadonlySet<number> = new Set([
  TernaryErrorCodes.InvalidConfig,
  TernaryErrorCodes.BadData,
  TernaryErrorCodes.NonFiniteLoss,
  TernaryErrorCodes.NotFound,
  TernaryErrorCodes.Busy,
  TernaryErrorCodes.EngineUnavailable,
  ErrorCodes.InvalidParams,
]);

export function isUserMistake(error: unknown): boolean {
  return error instanceof ResponseError && userMistakeCodes.has(error.code);
}
