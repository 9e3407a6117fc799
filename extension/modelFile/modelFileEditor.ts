/**
 * `.tern` and `.onnx` files open as something readable: a read-only custom editor that shows the
 * model's layers, sizes and the report next to it (extension/modelFile/modelPage.ts), with Export
 * and Show in Layers. The statistics come from the server (`ternary/stats`), the one reader of
 * every model format, so the page says what `tern stats` says.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { StatsRequest } from '../../shared/protocol';
import type { Ctx } from '../ctx';
import { errorText } from '../format';
import { makeNonce } from '../panels/html';
import { asModelPageMessage, modelPageHtml } from './modelPage';

export const MODEL_FILE_VIEW_TYPE = 'ternary.modelFile';

/** What the e2e suite reads of an open model page (extension/testApi.ts). */
export interface ModelPageView {
  file: string;
  html: string;
}

export class ModelFileEditorProvider implements vscode.CustomReadonlyEditorProvider {
  /** The pages open now, by file, for the e2e suite. */
  readonly open = new Map<string, ModelPageView>();

  constructor(private readonly ctx: Ctx) {}

  static register(ctx: Ctx): ModelFileEditorProvider {
    const provider = new ModelFileEditorProvider(ctx);
    ctx.pushExtCleanup(
      vscode.window.registerCustomEditorProvider(MODEL_FILE_VIEW_TYPE, provider, {
        webviewOptions: { retainContextWhenHidden: false },
        supportsMultipleEditorsPerDocument: true,
      }),
    );
    return provider;
  }

  openCustomDocument(uri: vscode.Uri): vscode.CustomDocument {
    return { uri, dispose: () => this.open.delete(uri.fsPath) };
  }

  async resolveCustomEditor(document: vscode.CustomDocument, panel: vscode.WebviewPanel): Promise<void> {
    const file = document.uri.fsPath;
    const media = vscode.Uri.joinPath(this.ctx.extension.extensionUri, 'media', 'webview');
    panel.webview.options = { enableScripts: true, localResourceRoots: [media] };
    const title = vscode.workspace.asRelativePath(file, false);
    panel.webview.html = `<!DOCTYPE html><html><body><p>Reading ${title}…</p></body></html>`;
    const report = path.join(path.dirname(file), 'report.md');
    panel.webview.onDidReceiveMessage((raw: unknown) => {
      const message = asModelPageMessage(raw);
      if (message?.type === 'export') void vscode.commands.executeCommand('ternary.exportModel', document.uri);
      if (message?.type === 'showLayers') void vscode.commands.executeCommand('ternary.showLayerStats', document.uri);
      if (message?.type === 'openReport') void vscode.commands.executeCommand('markdown.showPreview', vscode.Uri.file(report));
    });
    try {
      const [stats, stat] = await Promise.all([this.ctx.request(StatsRequest.type, { target: file }), fs.promises.stat(file)]);
      const html = modelPageHtml(
        {
          title,
          fileBytes: stat.size,
          layers: stats.layers,
          summary: stats.summary,
          ...(fs.existsSync(report) ? { report: 'report.md' } : {}),
        },
        {
          cspSource: panel.webview.cspSource,
          nonce: makeNonce(),
          styleUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(media, 'panels.css')).toString(),
        },
      );
      panel.webview.html = html;
      this.open.set(file, { file, html });
    } catch (error) {
      const why = errorText(error).replace(/&/g, '&amp;').replace(/</g, '&lt;');
      panel.webview.html = `<!DOCTYPE html><html><body><p>Ternary Studio could not read ${title}: ${why}</p></body></html>`;
      this.open.set(file, { file, html: panel.webview.html });
      this.ctx.log.warn(`Opening ${file}: ${errorText(error)}`);
    }
  }
}
