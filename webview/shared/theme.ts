/**
 * Chart colours from the editor theme. VS Code sets `--vscode-*` CSS variables on the webview's
 * root and a `vscode-light` / `vscode-dark` / `vscode-high-contrast` class on <body>; canvases
 * cannot use CSS variables, so they are read here and read again when the class changes.
 */
export interface ChartTheme {
  kind: 'light' | 'dark' | 'high-contrast' | 'high-contrast-light';
  foreground: string;
  muted: string;
  grid: string;
  background: string;
  fontFamily: string;
  fontSize: number;
  /** Colours for series, in order (one per run). */
  palette: string[];
  /** Marks on the histogram (±Δ). */
  accent: string;
}

function cssVar(style: CSSStyleDeclaration, name: string, fallback: string): string {
  const v = style.getPropertyValue(name).trim();
  return v || fallback;
}

export function themeKind(): ChartTheme['kind'] {
  const c = document.body.classList;
  if (c.contains('vscode-high-contrast-light')) return 'high-contrast-light';
  if (c.contains('vscode-high-contrast')) return 'high-contrast';
  return c.contains('vscode-light') ? 'light' : 'dark';
}

export function readChartTheme(): ChartTheme {
  const style = getComputedStyle(document.documentElement);
  const kind = themeKind();
  const light = kind === 'light' || kind === 'high-contrast-light';
  const foreground = cssVar(style, '--vscode-editor-foreground', cssVar(style, '--vscode-foreground', light ? '#333333' : '#cccccc'));
  const highContrast = kind.startsWith('high-contrast');
  return {
    kind,
    foreground,
    muted: cssVar(style, '--vscode-descriptionForeground', foreground),
    grid: highContrast
      ? cssVar(style, '--vscode-contrastBorder', foreground)
      : cssVar(style, '--vscode-editorWidget-border', light ? 'rgba(0,0,0,0.12)' : 'rgba(255,255,255,0.12)'),
    background: cssVar(style, '--vscode-editor-background', light ? '#ffffff' : '#1e1e1e'),
    fontFamily: cssVar(style, '--vscode-font-family', 'sans-serif'),
    fontSize: Number.parseFloat(cssVar(style, '--vscode-font-size', '13px')) || 13,
    palette: [
      cssVar(style, '--vscode-charts-blue', '#3794ff'),
      cssVar(style, '--vscode-charts-orange', '#d18616'),
      cssVar(style, '--vscode-charts-green', '#89d185'),
      cssVar(style, '--vscode-charts-purple', '#b180d7'),
      cssVar(style, '--vscode-charts-red', '#f14c4c'),
      cssVar(style, '--vscode-charts-yellow', '#cca700'),
      cssVar(style, '--vscode-terminal-ansiCyan', '#11a8cd'),
      cssVar(style, '--vscode-terminal-ansiMagenta', '#bc3fbc'),
    ],
    accent: cssVar(style, '--vscode-charts-red', '#f14c4c'),
  };
}

/** Calls `onChange` with the new theme whenever VS Code switches themes. */
export function watchTheme(onChange: (theme: ChartTheme) => void): MutationObserver {
  let last = '';
  const observer = new MutationObserver(() => {
    const key = document.body.className + getComputedStyle(document.documentElement).getPropertyValue('--vscode-editor-background');
    if (key === last) return;
    last = key;
    onChange(readChartTheme());
  });
  observer.observe(document.body, { attributes: true, attributeFilter: ['class'] });
  // VS Code may update the variables (in the root's style attribute) without changing the class.
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ['style'] });
  return observer;
}
