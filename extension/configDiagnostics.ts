/**
 * The server's own config validation as Problems in the editor: each `*.tern.json` is checked
 * when it opens and each time it is saved (`ternary/validateConfig`, docs/protocol.md), so the
 * messages `tern train` and Train would give ("did you mean …", line and column) show before
 * anything runs. The server stays the one validator; this only carries its answer to the editor.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { ValidateConfigRequest, type ConfigDiagnostic } from '../shared/protocol';
import type { Ctx } from './ctx';

const configSuffix = '.tern.json';

function isConfig(document: vscode.TextDocument): boolean {
  return document.uri.scheme === 'file' && document.fileName.endsWith(configSuffix);
}

function toDiagnostic(problem: ConfigDiagnostic): vscode.Diagnostic {
  const { start, end } = problem.range;
  const diagnostic = new vscode.Diagnostic(
    new vscode.Range(start.line, start.character, end.line, end.character),
    problem.message,
    problem.severity === 'warning' ? vscode.DiagnosticSeverity.Warning : vscode.DiagnosticSeverity.Error,
  );
  diagnostic.source = 'ternary';
  return diagnostic;
}

export class ConfigDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('ternary');
  private readonly subscriptions: vscode.Disposable[] = [this.collection];
  /** The version of each document whose check is in flight, so a late answer for old text is dropped. */
  private readonly pending = new Map<string, number>();

  constructor(private readonly ctx: Ctx) {
    this.subscriptions.push(
      vscode.workspace.onDidOpenTextDocument((d) => this.check(d)),
      // Saving one config can change the warnings of its neighbours (a shared experiment name).
      vscode.workspace.onDidSaveTextDocument((d) => {
        if (isConfig(d)) this.checkFolder(path.dirname(d.fileName));
      }),
      vscode.workspace.onDidCloseTextDocument((d) => {
        this.pending.delete(d.uri.toString());
        this.collection.delete(d.uri);
      }),
      ctx.onDidChangeServerRunning((running) => {
        if (running) this.checkOpen();
      }),
    );
    this.checkOpen();
  }

  private checkOpen(): void {
    for (const document of vscode.workspace.textDocuments) this.check(document);
  }

  private checkFolder(folder: string): void {
    for (const document of vscode.workspace.textDocuments) {
      if (isConfig(document) && path.dirname(document.fileName) === folder) this.check(document);
    }
  }

  /** Asks the server about one document; failures go to the log (the schema still underlines). */
  check(document: vscode.TextDocument): void {
    if (!isConfig(document)) return;
    const key = document.uri.toString();
    const version = document.version;
    this.pending.set(key, version);
    this.ctx.request(ValidateConfigRequest.type, { path: document.fileName, text: document.getText() }).then(
      ({ problems }) => {
        if (this.pending.get(key) !== version) return;
        this.pending.delete(key);
        this.collection.set(document.uri, problems.map(toDiagnostic));
      },
      (error: unknown) => {
        this.ctx.log.warn(`Checking ${document.fileName}: ${error instanceof Error ? error.message : String(error)}`);
      },
    );
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
  }
}
