/**
 * Creates the language client that runs the bundled training server (`dist/server.js --stdio`)
 * on Node: the `ternary.server.nodePath` setting, else the runtime VS Code's extension host runs on
 * (in desktop VS Code that is Electron, so ELECTRON_RUN_AS_NODE makes it behave as plain Node).
 */
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import {
  CloseAction,
  ErrorAction,
  LanguageClient,
  RevealOutputChannelOn,
  type CloseHandlerResult,
  type ErrorHandler,
  type ErrorHandlerResult,
  type LanguageClientOptions,
  type ServerOptions,
} from 'vscode-languageclient/node';
import type { TernaryConfig } from './config';
import { isUserMistake } from './userMistakes';

export interface CrashPolicy {
  /** The server process went away without being asked to. Returns nothing: the caller decides. */
  onUnexpectedClose(): void;
}

/** How many consecutive read/write errors on the connection we tolerate before giving up. */
const maxConnectionErrors = 3;

export function createServerClient(
  extensionUri: vscode.Uri,
  config: TernaryConfig,
  log: vscode.LogOutputChannel,
  policy: CrashPolicy,
): LanguageClient {
  const serverJs = vscode.Uri.joinPath(extensionUri, 'dist', 'server.js').fsPath;
  if (!fs.existsSync(serverJs)) {
    throw new Error(`The training server bundle is missing (${serverJs}). Rebuild the extension with \`npm run build\`.`);
  }
  const nodePath = config.serverNodePath;
  if (nodePath !== undefined && !fs.existsSync(nodePath)) {
    throw new Error(
      `The setting ternary.server.nodePath points to "${nodePath}", which does not exist. Fix the path or clear the setting to use the Node that runs VS Code.`,
    );
  }
  const executable = {
    command: nodePath ?? process.execPath,
    args: [serverJs, '--stdio'],
    options: { env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } },
  };
  const serverOptions: ServerOptions = { run: executable, debug: executable };

  // Wraps the default behaviour with a deliberate policy (docs/extension.md, "Lifetimes, crashes,
  // trust"): connection hiccups are logged and tolerated a few times; a closed connection never
  // restarts silently, the user is told and offered a restart (see Ctx.onUnexpectedClose).
  const errorHandler: ErrorHandler = {
    error(error, _message, count): ErrorHandlerResult {
      log.error(`Connection to the training server failed (${count ?? 1}×): ${error.stack ?? error.message}`);
      return { action: (count ?? 1) <= maxConnectionErrors ? ErrorAction.Continue : ErrorAction.Shutdown, handled: true };
    },
    closed(): CloseHandlerResult {
      log.error('The training server process exited unexpectedly.');
      policy.onUnexpectedClose();
      return { action: CloseAction.DoNotRestart, handled: true };
    },
  };

  const clientOptions: LanguageClientOptions = {
    // The server works on run folders and config paths given in requests, not on open documents.
    documentSelector: [],
    outputChannel: log,
    revealOutputChannelOn: RevealOutputChannelOn.Never, // errors are shown as messages instead
    initializationOptions: config.initializationOptions(),
    errorHandler,
    initializationFailedHandler: (error) => {
      log.error(`The training server failed to initialize: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      return false;
    },
  };
  return new TernaryLanguageClient('ternary', 'Ternary training server', serverOptions, clientOptions);
}

/**
 * The client logs every failed request as an error with the error's data; a request refused for
 * a user's mistake (a bad config) is not one: the command that sent it shows the message and
 * logs it as a warning (extension/commands/errors.ts).
 */
class TernaryLanguageClient extends LanguageClient {
  override error(message: string, data?: unknown, showNotification?: boolean | 'force'): void {
    if (isUserMistake(data)) return;
    super.error(message, data, showNotification);
  }
}
