/**
 * The PNG export: the charts' canvases stacked on the theme's background, each with its title
 * and a legend (uPlot's legend is HTML, so it is redrawn here as text and colour swatches).
 */
import type { Chart } from './chart';
import type { ChartTheme } from './theme';

export function chartsToPngDataUrl(charts: readonly Chart[], theme: ChartTheme, heading: string): string {
  const dpr = window.devicePixelRatio || 1;
  const pad = 12 * dpr;
  const titleH = 22 * dpr;
  const legendRowH = 18 * dpr;
  const canvases = charts.flatMap((c) => (c.uplot ? [{ chart: c, canvas: c.uplot.ctx.canvas }] : []));
  const width = Math.max(320 * dpr, ...canvases.map((p) => p.canvas.width)) + 2 * pad;
  const legendRows = (c: Chart): number => Math.ceil(c.seriesSpecs.length / 3);
  const height = titleH + pad + canvases.reduce((h, p) => h + titleH + p.canvas.height + legendRows(p.chart) * legendRowH + pad, 0);

  const out = document.createElement('canvas');
  out.width = width;
  out.height = height;
  const ctx = out.getContext('2d');
  if (!ctx) throw new Error('This webview cannot draw on a canvas, so the chart cannot be exported as PNG.');
  ctx.fillStyle = theme.background;
  ctx.fillRect(0, 0, width, height);
  ctx.fillStyle = theme.foreground;
  ctx.textBaseline = 'middle';
  ctx.font = `bold ${14 * dpr}px ${theme.fontFamily}`;
  ctx.fillText(heading, pad, titleH / 2 + pad / 2, width - 2 * pad);

  let y = titleH + pad;
  for (const { chart, canvas } of canvases) {
    ctx.fillStyle = theme.foreground;
    ctx.font = `bold ${12 * dpr}px ${theme.fontFamily}`;
    ctx.fillText(chart.title, pad, y + titleH / 2);
    y += titleH;
    ctx.drawImage(canvas, pad, y);
    y += canvas.height;
    ctx.font = `${11 * dpr}px ${theme.fontFamily}`;
    const colWidth = (width - 2 * pad) / 3;
    chart.seriesSpecs.forEach((s, i) => {
      const x0 = pad + (i % 3) * colWidth;
      const yMid = y + Math.floor(i / 3) * legendRowH + legendRowH / 2;
      ctx.strokeStyle = s.color;
      ctx.lineWidth = 2 * dpr;
      ctx.setLineDash((s.dash ?? []).map((d) => d * dpr));
      ctx.beginPath();
      ctx.moveTo(x0, yMid);
      ctx.lineTo(x0 + 18 * dpr, yMid);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = theme.foreground;
      ctx.fillText(s.label, x0 + 24 * dpr, yMid, colWidth - 30 * dpr);
    });
    y += legendRows(chart) * legendRowH + pad;
  }
  return out.toDataURL('image/png');
}
