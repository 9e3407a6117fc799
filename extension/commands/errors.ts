/**
 * Turns what a command throws into a message the user can act on (what, where, what to do), with
 * the buttons that help: open the config at fault, restart the server, show the log.
 */
import * as vscode from 'vscode';
import { LSPErrorCodes, ResponseError } from 'vscode-languageclient';
import { TernaryErrorCodes } from '../../shared/protocol';
import { ServerNotRunningError, type Ctx } from '../ctx';
import { errorText } from '../format';
import { isUserMistake } from '../userMistakes';

/** Thrown when the user dismissed a prompt: the command ends without a message. */
export class UserCancelled extends Error {
  constructor() {
    super('cancelled by the user');
  }
}

/** A precondition the user can fix (wrong selection, nothing to act on); shown as a warning. */
export class UserFacingError extends Error {}

/** Failures whose fix is in the config that was acted on (data.path, model.from, train.lr). */
const FIXED_IN_CONFIG: ReadonlySet<number> = new Set([
  TernaryErrorCodes.BadData,
  TernaryErrorCodes.NotFound,
  TernaryErrorCodes.NonFiniteLoss,
]);

/** The config a failed command was about (a Train of one of its experiments), for the message's Open Config. */
const configOfError = new WeakMap<object, string>();

/** Remembers that `error` came from acting on `configPath`; returns it, to rethrow. */
export function aboutConfig(error: unknown, configPath: string): unknown {
  if (typeof error === 'object' && error !== null && !configOfError.has(error)) configOfError.set(error, configPath);
  return error;
}

async function openConfig(configPath: string): Promise<void> {
  await vscode.window.showTextDocument(vscode.Uri.file(configPath));
}

export function isCancellation(error: unknown): boolean {
  return error instanceof UserCancelled || (error instanceof ResponseError && error.code === LSPErrorCodes.RequestCancelled);
}

/**
 * A user's mistake is a warning with its message; only a failure of ours is an error with the
 * stack trace (which is what a bug report needs).
 */
export function logCommandError(ctx: Ctx, what: string, error: unknown): void {
  if (error instanceof ServerNotRunningError || isUserMistake(error)) {
    ctx.log.warn(`${what} failed: ${errorText(error)}`);
    return;
  }
  ctx.log.error(`${what} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
}

export async function reportCommandError(ctx: Ctx, what: string, error: unknown): Promise<void> {
  if (isCancellation(error)) return;
  if (error instanceof UserFacingError) {
    void vscode.window.showWarningMessage(`Ternary: ${error.message}`);
    return;
  }
  logCommandError(ctx, what, error);
  if (error instanceof ServerNotRunningError) {
    const choice = await vscode.window.showErrorMessage(`Ternary: ${what} failed. ${error.message}.`, 'Restart Server', 'Show Server Log');
    if (choice === 'Restart Server') await vscode.commands.executeCommand('ternary.restartServer');
    if (choice === 'Show Server Log') ctx.log.show();
    return;
  }
  if (error instanceof ResponseError && error.code === TernaryErrorCodes.InvalidConfig) {
    const data = error.data as { path?: string; property?: string } | undefined;
    // The message already names the file, line and property (`/abs/x.tern.json:12:5: experiments[0]…`):
    // say the file as the workspace does, and nothing twice.
    const message = data?.path ? error.message.split(data.path).join(vscode.workspace.asRelativePath(data.path, false)) : error.message;
    const choice = await vscode.window.showErrorMessage(`Ternary: invalid config: ${message}`, ...(data?.path ? ['Open Config'] : []));
    if (choice === 'Open Config' && data?.path) await openConfig(data.path);
    return;
  }
  if (error instanceof ResponseError && error.code === TernaryErrorCodes.EngineUnavailable) {
    // No Python, no or too old PyTorch, no CUDA: the message says what to install; the button
    // opens the setting that changes it (ternary.torch.python, ternary.torch.device, ternary.engine).
    const setting = (error.data as { setting?: string } | undefined)?.setting ?? 'ternary.engine';
    const choice = await vscode.window.showErrorMessage(`Ternary: ${what} failed: ${error.message}`, `Open Setting ${setting}`);
    if (choice) await vscode.commands.executeCommand('workbench.action.openSettings', setting);
    return;
  }
  const configPath = typeof error === 'object' && error !== null ? configOfError.get(error) : undefined;
  if (configPath && error instanceof ResponseError && FIXED_IN_CONFIG.has(error.code)) {
    // Missing or bad data, a missing model.from, a loss that ran away: the fix is in the config.
    const choice = await vscode.window.showErrorMessage(`Ternary: ${what} failed: ${errorText(error)}`, 'Open Config');
    if (choice === 'Open Config') await openConfig(configPath);
    return;
  }
  const choice = await vscode.window.showErrorMessage(`Ternary: ${what} failed: ${errorText(error)}`, 'Show Server Log');
  if (choice === 'Show Server Log') ctx.log.show();
}

/** Registers a command whose failures become messages instead of silent rejections. */
// Commands take whatever VS Code passes (a Uri, a tree item); each handler types its own parameters.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function registerCommand(ctx: Ctx, id: string, what: string, run: (...args: any[]) => unknown): void {
  ctx.pushExtCleanup(
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        return await run(...args);
      } catch (error) {
        await reportCommandError(ctx, what, error);
        return undefined;
      }
    }),
  );
}
