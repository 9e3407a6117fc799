/**
 * Timings the end-to-end test reads from the page (`window.__ternaryPerf`): how long after the
 * host sent a live update it reached the chart, and how long redraws take. Bounded ring buffers.
 */
export interface PanelPerf {
  /** ms from the host posting a live message to the chart having drawn it. */
  updateLatencies: number[];
  /** ms from the host posting a live message to the webview receiving it (transport only). */
  arrivalLatencies: number[];
  /** ms from the webview receiving a live message to the chart having drawn it (our part). */
  renderLatencies: number[];
  /** ms of chart redraws (setData / zoom / pan). */
  redraws: number[];
  /** Live messages received. */
  liveMessages: number;
}

const limit = 2000;

export const perf: PanelPerf = { updateLatencies: [], arrivalLatencies: [], renderLatencies: [], redraws: [], liveMessages: 0 };
(globalThis as unknown as { __ternaryPerf: PanelPerf }).__ternaryPerf = perf;

export function record(list: number[], value: number): void {
  list.push(value);
  if (list.length > limit) list.splice(0, list.length - limit);
}

/** Record the timings of one live message once it is drawn: sentAt (host clock) and receivedAt (here). */
export function recordLiveUpdate(sentAt: number, receivedAt: number): void {
  const now = Date.now();
  record(perf.updateLatencies, now - sentAt);
  record(perf.renderLatencies, now - receivedAt);
}
