/**
 * The HTML shell of a panel webview: a strict Content-Security-Policy with a per-load nonce, one
 * bundled script, the panel stylesheet. Kept free of `vscode` so it is unit-tested in plain Node.
 */
import { randomBytes } from 'node:crypto';

/** A fresh nonce for one load of a webview (128 random bits, base64). */
export function makeNonce(): string {
  return randomBytes(16).toString('base64');
}

/**
 * The policy: nothing by default; scripts only with the nonce; styles and images only from the
 * extension's own resources (`cspSource`) — no `'unsafe-inline'`: the controls (Lit) and uPlot
 * style themselves through constructed stylesheets and the CSSOM, which the policy allows.
 * `data:` images are the PNG export's snapshots.
 */
export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${cspSource}`,
    `img-src ${cspSource} data:`,
    `font-src ${cspSource}`,
  ].join('; ');
}

export interface PanelHtmlOptions {
  title: string;
  /** `webview.cspSource`. */
  cspSource: string;
  nonce: string;
  /** `webview.asWebviewUri(...)` of the bundle and the stylesheet, as strings. */
  scriptUri: string;
  styleUri: string;
  /** State for a webview that has none of its own yet (JSON, read by the script from data-state). */
  initialState?: unknown;
}

function escapeAttribute(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The whole document of a panel; the script builds the UI inside `<main id="app">`. */
export function panelHtml(o: PanelHtmlOptions): string {
  const csp = contentSecurityPolicy(o.cspSource, o.nonce);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeAttribute(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escapeAttribute(o.styleUri)}">
<title>${escapeAttribute(o.title)}</title>
</head>
<body>
<main id="app" aria-busy="true"${o.initialState !== undefined ? ` data-state="${escapeAttribute(JSON.stringify(o.initialState))}"` : ''}></main>
<script nonce="${escapeAttribute(o.nonce)}" src="${escapeAttribute(o.scriptUri)}"></script>
</body>
</html>`;
}
