import * as vscode from 'vscode';
import type { SaveFileMessage } from '../../shared/webviewProtocol';
import { exportBytes, safeFileName } from './exportFile';

/** Ask where to save a panel export (PNG or CSV) and write it; undefined when the user cancels. */
export async function saveExport(message: SaveFileMessage): Promise<vscode.Uri | undefined> {
  const bytes = exportBytes(message.format, message.content);
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const fileName = safeFileName(message.fileName);
  const target = await vscode.window.showSaveDialog({
    defaultUri: folder ? vscode.Uri.joinPath(folder, fileName) : undefined,
    filters: message.format === 'png' ? { 'PNG image': ['png'] } : { 'CSV (comma-separated values)': ['csv'] },
    saveLabel: 'Export',
    title: message.format === 'png' ? 'Export chart as PNG' : 'Export data as CSV',
  });
  if (!target) return undefined;
  try {
    await vscode.workspace.fs.writeFile(target, bytes);
  } catch (err) {
    throw new Error(
      `Could not write ${target.fsPath}: ${err instanceof Error ? err.message : String(err)}. Choose a folder you can write to.`,
      { cause: err },
    );
  }
  return target;
}
