/**
 * Export Run: the run's model, metrics.csv, layers.csv and report.md into the workspace
 * (`ternary-export/<experiment>-<run-id>` by default), then the report opens.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { ExportRequest, type ExportResult } from '../../shared/protocol';
import { registerCommand, UserFacingError } from './errors';
import type { Services } from './services';
import { resolveRun, workspaceFolderFor } from './targets';

export function registerExportCommand(s: Services): void {
  registerCommand(s.ctx, 'ternary.exportRun', 'Export Run', (arg?: unknown) => exportRun(s, arg));
}

async function exportRun(s: Services, arg: unknown): Promise<ExportResult> {
  const run = await resolveRun(s, arg, 'Export', (r) => r.status === 'completed');
  if (run.status !== 'completed') {
    throw new UserFacingError(`${run.experiment}/${run.runId} is ${run.status}; only completed runs have a final model to export.`);
  }
  const folder = workspaceFolderFor(run.runDir);
  if (!folder) throw new UserFacingError('open a folder first: exports are written into the workspace.');
  const outDir = path.join(folder.uri.fsPath, 'ternary-export', `${run.experiment}-${run.runId}`);
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Ternary: exporting ${run.experiment}/${run.runId}`, cancellable: true },
    (_progress, token) => s.ctx.request(ExportRequest.type, { runDir: run.runDir, outDir }, token),
  );
  s.ctx.log.info(`Exported ${run.runDir} to ${result.outDir}: ${result.files.join(', ')}`);
  const report = vscode.Uri.file(path.join(result.outDir, 'report.md'));
  if (result.files.includes('report.md')) {
    // The Markdown preview is built in; fall back to the text when it is not available.
    await vscode.commands.executeCommand('markdown.showPreview', report)
      .then(undefined, () => vscode.window.showTextDocument(report));
  }
  void vscode.window.showInformationMessage(`Ternary: exported ${run.experiment}/${run.runId} to ${vscode.workspace.asRelativePath(result.outDir, false)} (${result.files.length} files).`, 'Reveal in Explorer')
    .then((choice) => { if (choice) void vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(result.outDir)); });
  return result;
}
