/**
 * Coalesces bursts of updates into one redraw per animation frame: at 10 metric messages a
 * second (or a history of thousands of records) the charts are rebuilt once per frame at most.
 */
export class FrameScheduler {
  private pending = false;
  /** The panel is hidden: requests are remembered, and drawn once when it is shown. */
  private hidden = false;
  private deferred = false;
  private readonly waiting: (() => void)[] = [];
  /** How long the last render took and when it ended (ms, performance.now()). */
  private lastCost = 0;
  private lastEnd = -Infinity;

  constructor(private readonly render: () => void) {}

  /**
   * Ask for a redraw; `after` runs once it is drawn: uPlot draws in a microtask queued by
   * setData, so a microtask queued after render() runs after the drawing (used to time updates).
   */
  request(after?: () => void): void {
    if (after) this.waiting.push(after);
    if (this.hidden) {
      this.deferred = true;
      return;
    }
    if (this.pending) return;
    this.pending = true;
    // When renders get expensive (many long runs), leave at least as much idle time as the last
    // render took, so incoming messages are drained and merged into one render, not queued
    // behind one render each.
    const wait = this.lastEnd + this.lastCost - performance.now();
    const frame = (): void => {
      requestAnimationFrame(() => {
        this.pending = false;
        const started = performance.now();
        this.render();
        this.lastEnd = performance.now();
        this.lastCost = this.lastEnd - started;
        const done = this.waiting.splice(0);
        if (done.length) queueMicrotask(() => { for (const f of done) f(); });
      });
    };
    if (wait > 1) setTimeout(frame, wait);
    else frame();
  }

  /** Hidden panels draw nothing (a hidden webview still gets animation frames); shown, they catch up in one render. */
  setVisible(visible: boolean): void {
    this.hidden = !visible;
    if (visible && this.deferred) {
      this.deferred = false;
      this.request();
    }
  }
}
