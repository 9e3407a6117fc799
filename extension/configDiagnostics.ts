/**
 * The server's own config validation as Problems in the editor (`ternary/validateConfig`,
 * docs/protocol.md), so the messages `tern train` and Train would give ("did you mean …", line and
 * column) show before anything runs. The server stays the one validator; this only carries its
 * answer to the editor, and keeps it current: each `*.tern.json` is checked when it opens, as it
 * is edited (a short pause after the last keystroke) and when the file changes on disk (a git
 * checkout reloads the open editor's text), and its open siblings when a config of their folder is
 * saved, created or deleted (a shared experiment name moves runs, docs/configs.md).
 *
 * One entry per mistake: the schema VS Code validates with (dist/tern.editor.schema.json) only
 * completes and explains (scripts/editorSchema.mjs), and syntax errors are left to VS Code's own
 * JSON diagnostics, which mark the same spot.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { ValidateConfigRequest, type ConfigDiagnostic } from '../shared/protocol';
import { configGlob } from './catalog';
import type { Ctx } from './ctx';

const configSuffix = '.tern.json';
/** Pause after the last edit before the text is checked again. */
const EDIT_PAUSE_MS = 250;

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
  /** The newest check of each document, so a late answer for older text is dropped. */
  private readonly pending = new Map<string, number>();
  private checks = 0;
  /** Checks waiting for the end of a burst of edits, per document. */
  private readonly afterEdits = new Map<string, NodeJS.Timeout>();

  constructor(private readonly ctx: Ctx) {
    const watcher = vscode.workspace.createFileSystemWatcher(configGlob);
    // A config that appears, goes or changes on disk can change its siblings' warnings.
    // Files are read from disk for open editors without unsaved changes: the new text counts at
    // once, before VS Code has reloaded it into the editor.
    const onDisk = (uri: vscode.Uri) => this.checkFolder(path.dirname(uri.fsPath), { fromDisk: true });
    this.subscriptions.push(
      watcher,
      watcher.onDidCreate(onDisk),
      watcher.onDidDelete(onDisk),
      watcher.onDidChange(onDisk),
      vscode.workspace.onDidOpenTextDocument((d) => this.check(d)),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (!e.contentChanges.length) return;
        // Text that equals the file (a reload after a change on disk, an undo to the saved text) is
        // checked at once; typing, after a pause.
        if (e.document.isDirty) this.checkAfterEdits(e.document);
        else this.check(e.document);
      }),
      // Saving one config can change the warnings of its neighbours (a shared experiment name).
      vscode.workspace.onDidSaveTextDocument((d) => {
        if (isConfig(d)) this.checkFolder(path.dirname(d.fileName));
      }),
      vscode.workspace.onDidCloseTextDocument((d) => {
        this.pending.delete(d.uri.toString());
        this.cancelAfterEdits(d.uri.toString());
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

  private checkFolder(folder: string, how: { fromDisk?: boolean } = {}): void {
    for (const document of vscode.workspace.textDocuments) {
      if (isConfig(document) && path.dirname(document.fileName) === folder) this.check(document, how);
    }
  }

  private checkAfterEdits(document: vscode.TextDocument): void {
    if (!isConfig(document)) return;
    const key = document.uri.toString();
    this.cancelAfterEdits(key);
    this.afterEdits.set(
      key,
      setTimeout(() => {
        this.afterEdits.delete(key);
        this.check(document);
      }, EDIT_PAUSE_MS),
    );
  }

  private cancelAfterEdits(key: string): void {
    const timer = this.afterEdits.get(key);
    if (timer) clearTimeout(timer);
    this.afterEdits.delete(key);
  }

  /** Asks the server about one document; failures go to the log (VS Code still marks syntax errors). */
  check(document: vscode.TextDocument, how: { fromDisk?: boolean } = {}): void {
    if (!isConfig(document) || document.isClosed) return;
    const key = document.uri.toString();
    const id = ++this.checks;
    this.pending.set(key, id);
    // Without `text` the server reads the file.
    const text = how.fromDisk && !document.isDirty ? undefined : document.getText();
    this.ctx.request(ValidateConfigRequest.type, { path: document.fileName, ...(text !== undefined ? { text } : {}) }).then(
      ({ problems }) => {
        if (this.pending.get(key) !== id) return;
        this.pending.delete(key);
        this.collection.set(document.uri, problems.filter((p) => !p.syntax).map(toDiagnostic));
      },
      (error: unknown) => {
        this.ctx.log.warn(`Checking ${document.fileName}: ${error instanceof Error ? error.message : String(error)}`);
      },
    );
  }

  dispose(): void {
    for (const key of [...this.afterEdits.keys()]) this.cancelAfterEdits(key);
    for (const s of this.subscriptions) s.dispose();
  }
}
