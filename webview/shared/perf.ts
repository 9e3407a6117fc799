/**
 * Timings the panels' end-to-end tests read from the page (`window.__ternaryPerf`): how long after
 * the host sent a live update it reached the chart, and how long redraws take. Bounded ring buffers.
 *
 * Test builds only: every call site is guarded by `TERNARY_TEST_HOOKS`, which esbuild.mjs defines
 * as `false` unless built with `--test-hooks` (as `npm run test:e2e:panels` does), so a shipped
 * bundle drops the calls and, with them, this module (test/unit/bundles.test.ts checks it).
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
  /** What the host last said about the panel's visibility (a hidden panel draws nothing). */
  visible: boolean;
}

const limit = 2000;

let perf: PanelPerf | undefined;

function panelPerf(): PanelPerf {
  if (!perf) {
    perf = { updateLatencies: [], arrivalLatencies: [], renderLatencies: [], redraws: [], liveMessages: 0, visible: true };
    (globalThis as unknown as { __ternaryPerf: PanelPerf }).__ternaryPerf = perf;
  }
  return perf;
}

function record(list: number[], value: number): void {
  list.push(value);
  if (list.length > limit) list.splice(0, list.length - limit);
}

/** Publish the (empty) timings at start, so a test can read them before the first update. */
export function installPanelPerf(): void {
  panelPerf();
}

/**
 * A live message arrived: count it and its transport time (the host stamps `sentAt` in test
 * builds, extension/panels/singletonPanel.ts). Returns what to run once the chart has drawn it.
 */
export function timeLiveMessage(message: object): () => void {
  const p = panelPerf();
  const receivedAt = Date.now();
  const sentAt = (message as { sentAt?: number }).sentAt;
  p.liveMessages++;
  if (sentAt !== undefined) record(p.arrivalLatencies, receivedAt - sentAt);
  return () => {
    const now = Date.now();
    if (sentAt !== undefined) record(p.updateLatencies, now - sentAt);
    record(p.renderLatencies, now - receivedAt);
  };
}

/** A chart redraw took `ms`. */
export function timeRedraw(ms: number): void {
  record(panelPerf().redraws, ms);
}

/** The host said the panel was hidden or shown (tests wait for it instead of sleeping). */
export function noteVisibility(visible: boolean): void {
  panelPerf().visible = visible;
}
