/**
 * Export Run: the run's model (as trained, and as model.onnx, model.tern and a stock tfjs model),
 * metrics.csv, layers.csv and report.md into the workspace (`ternary-export/<experiment>-<run-id>`),
 * checked against our inference; then the report opens and a message gives the sizes and parity.
 * Export Model: the same for a model that is not a run (a model.json, model.tern or .onnx file:
 * `ternary-export/<model>`). A parity failure (ExportFailed with the figures) still opens the
 * report that shows it.
 */
import * as path from 'node:path';
import { formatBytes, formatNumber, formatPercent, formatQuantity } from '../../shared/format';
import * as vscode from 'vscode';
import { ResponseError, WorkDoneProgress } from 'vscode-languageclient';
import { ExportRequest, TernaryErrorCodes, type ExportResult } from '../../shared/protocol';
import type { ModelExportSummary } from '../../shared/exportSummary';
import { registerCommand, UserFacingError } from './errors';
import type { Services } from './services';
import { pickModel, resolveRun, workspaceFolderFor } from './targets';
import { EXPORT_FOLDER, modelExportDir, modelExportName, runExportName } from '../../shared/exportFolder';

export function registerExportCommand(s: Services): void {
  registerCommand(s.ctx, 'ternary.exportRun', 'Export Run', (arg?: unknown) => exportRun(s, arg));
  registerCommand(s.ctx, 'ternary.exportModel', 'Export Model', (arg?: unknown) => exportModel(s, arg));
}

/** What an export is of: a run or a model file, its label and the params that name it. */
interface ExportTarget {
  label: string;
  key: string;
  params: { runDir: string } | { modelPath: string };
}

async function exportRun(s: Services, arg: unknown): Promise<ExportResult> {
  const run = await resolveRun(s, arg, 'Export', (r) => r.status === 'completed');
  if (run.status !== 'completed') {
    throw new UserFacingError(`${run.experiment}/${run.runId} is ${run.status}; only completed runs have a final model to export.`);
  }
  const folder = workspaceFor(run.runDir);
  const name = runExportName(run.runId, run.experiment);
  const outDir = path.join(folder, EXPORT_FOLDER, name);
  return exportTo(s, { label: `${run.experiment}/${run.runId}`, key: name, params: { runDir: run.runDir } }, outDir);
}

/** Export Model: the explorer's model.json / .tern / .onnx, else a pick of the workspace's models. */
async function exportModel(s: Services, arg: unknown): Promise<ExportResult> {
  const modelPath = arg instanceof vscode.Uri ? arg.fsPath : await pickModel('Export Model', 'Which model to export?');
  const label = vscode.workspace.asRelativePath(modelPath, false);
  const outDir = modelExportDir(workspaceFor(modelPath), modelPath, path);
  return exportTo(s, { label, key: modelExportName(modelPath), params: { modelPath } }, outDir);
}

/** The workspace folder exports of this path go to. */
function workspaceFor(fsPath: string): string {
  const folder = workspaceFolderFor(fsPath);
  if (!folder) throw new UserFacingError('open a folder first: exports are written into the workspace.');
  return folder.uri.fsPath;
}

async function exportTo(s: Services, target: ExportTarget, outDir: string): Promise<ExportResult> {
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Ternary: exporting ${target.label}`, cancellable: true },
    async (progress, token) => {
      const workDoneToken = `ternary-export-${target.key}-${Date.now()}`;
      const subscription = s.ctx.languageClient?.onProgress(WorkDoneProgress.type, workDoneToken, (value) => {
        if (value.kind !== 'end' && value.message) progress.report({ message: value.message });
      });
      try {
        return await s.ctx.request(ExportRequest.type, { ...target.params, ...s.ctx.config.exportParams(), outDir, workDoneToken }, token);
      } catch (err) {
        if (err instanceof ResponseError && err.code === TernaryErrorCodes.ExportFailed) await openReport(outDir);
        throw err;
      } finally {
        subscription?.dispose();
      }
    },
  );
  s.ctx.log.info(`Exported ${target.label} to ${result.outDir}: ${result.files.join(', ')}`);
  if (result.files.includes('report.md')) await openReport(result.outDir);
  const model = result.model ? ` ${modelLine(result.model)}` : '';
  void vscode.window
    .showInformationMessage(
      `Ternary: exported ${target.label} to ${vscode.workspace.asRelativePath(result.outDir, false)} (${result.files.length} files).${model}`,
      'Reveal in Explorer',
    )
    .then((choice) => {
      if (choice) void vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(result.outDir));
    });
  return result;
}

/** Opens report.md in the Markdown preview (built in), or as text when the preview is not there. */
async function openReport(outDir: string): Promise<void> {
  const report = vscode.Uri.file(path.join(outDir, 'report.md'));
  await vscode.commands
    .executeCommand('markdown.showPreview', report)
    .then(undefined, () => vscode.window.showTextDocument(report).then(undefined, () => undefined));
}

/** Sizes, parity and ONNX Runtime latency in one sentence: "model.tern 113.2 KiB, model.onnx …; parity: …; ONNX Runtime batch 1: …". */
export function modelLine(model: ModelExportSummary): string {
  const size = (prefix: string) => model.files.filter((f) => f.path.startsWith(prefix)).reduce((a, f) => a + f.bytes, 0);
  const int8File = model.files.find((f) => f.path === 'model-int8.onnx');
  const sizes = `model.tern ${formatBytes(size('model.tern'))}, model.onnx ${formatBytes(size('model.onnx'))}${int8File ? `, model-int8.onnx ${formatBytes(int8File.bytes)}` : ''}, tfjs/ ${formatBytes(size('tfjs/'))}`;
  const latency = model.latency
    ? ` ONNX Runtime batch 1: ${model.latency.results.map((r) => `${r.model} ${formatNumber(r.medianMs)} ms`).join(', ')}.`
    : '';
  if (!model.parity) return `${sizes}; parity not checked.${latency}`;
  // The int8 file has its own criterion (a few 8-bit steps, docs/formats.md); the exact files 1e-4.
  const exact = model.parity.results.filter((r) => !r.criterion);
  const int8 = model.parity.results.find((r) => r.criterion);
  const worst = Math.max(...exact.map((r) => r.maxRelDiff));
  const agree = Math.min(...exact.map((r) => r.top1Agreement));
  const int8Text = int8 ? ` model-int8.onnx: top-1 agreement ${formatPercent(int8.top1Agreement)} with 8-bit inference.` : '';
  const inputs = formatQuantity(model.parity.results[0]?.samples ?? 0, 'input');
  return `${sizes}; parity on ${inputs}: max relative Δ logit ${formatNumber(worst, 2)}, top-1 agreement ${formatPercent(agree)}.${int8Text}${latency}`;
}
