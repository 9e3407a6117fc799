/**
 * The HTML shell of every webview of the extension (the panels, the model page of
 * extension/modelFile/modelPage.ts): a strict Content-Security-Policy with a per-load nonce, one
 * script, the stylesheet. Kept free of `vscode` so it is unit-tested in plain Node.
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

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export interface WebviewDocumentOptions {
  title: string;
  /** `webview.cspSource`. */
  cspSource: string;
  nonce: string;
  /** `webview.asWebviewUri(...)` of the stylesheet, as a string. */
  styleUri: string;
  /** The body's HTML (already escaped). */
  body: string;
  /** The one script: a bundle's URI, or inline code; it runs with the nonce. */
  script: { src: string } | { inline: string };
}

/** Every webview document of the extension (the panels, the model page): the head with its policy, the body, the script. */
export function webviewDocument(o: WebviewDocumentOptions): string {
  const csp = contentSecurityPolicy(o.cspSource, o.nonce);
  const nonce = escapeHtml(o.nonce);
  const script =
    'src' in o.script
      ? `<script nonce="${nonce}" src="${escapeHtml(o.script.src)}"></script>`
      : `<script nonce="${nonce}">\n${o.script.inline}\n</script>`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escapeHtml(o.styleUri)}">
<title>${escapeHtml(o.title)}</title>
</head>
<body>
${o.body}
${script}
</body>
</html>`;
}

/** The whole document of a panel; the script builds the UI inside `<main id="app">`. */
export function panelHtml(o: PanelHtmlOptions): string {
  const state = o.initialState !== undefined ? ` data-state="${escapeHtml(JSON.stringify(o.initialState))}"` : '';
  return webviewDocument({ ...o, body: `<main id="app" aria-busy="true"${state}></main>`, script: { src: o.scriptUri } });
}
