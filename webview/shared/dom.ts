/** Small DOM helpers shared by the panels. */
import uplotCss from 'uplot/dist/uPlot.min.css';

/** uPlot's stylesheet, adopted as a constructed sheet: the CSP allows no inline <style>. */
export function adoptUplotStyles(): void {
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(uplotCss);
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
}

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: { className?: string; text?: string; id?: string } = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (props.className) e.className = props.className;
  if (props.id) e.id = props.id;
  if (props.text !== undefined) e.textContent = props.text;
  e.append(...children);
  return e;
}

/** A custom element (vscode-elements) with attributes. */
export function custom<T extends HTMLElement>(
  tag: string,
  attrs: Record<string, string | boolean> = {},
  ...children: (Node | string)[]
): T {
  const e = document.createElement(tag) as T;
  for (const [k, v] of Object.entries(attrs)) {
    if (v === true) e.setAttribute(k, '');
    else if (v !== false) e.setAttribute(k, v);
  }
  e.append(...children);
  return e;
}

/** A banner for errors (role=alert) and notices (role=status) at the top of the panel. */
export class Notice {
  readonly element = el('div', { className: 'notice' });
  constructor() {
    this.element.hidden = true;
  }
  show(text: string, kind: 'error' | 'info'): void {
    this.element.textContent = text;
    this.element.className = `notice notice-${kind}`;
    this.element.setAttribute('role', kind === 'error' ? 'alert' : 'status');
    this.element.hidden = false;
  }
  clear(): void {
    this.element.hidden = true;
  }
}

/** Rebuild a picker's options only when they changed (rebuilding closes an open dropdown). */
export function setOptions(select: HTMLElement, options: readonly { value: string; label: string }[], selected: readonly string[]): void {
  const key = JSON.stringify([options, selected]);
  if (select.dataset.options === key) return;
  select.dataset.options = key;
  select.replaceChildren(
    ...options.map((o) =>
      custom<HTMLElement>('vscode-option', { value: o.value, ...(selected.includes(o.value) ? { selected: true } : {}) }, o.label),
    ),
  );
}
