/**
 * Coalesces bursts of updates into one redraw per animation frame: at 10 metric messages a
 * second (or a history of thousands of records) the charts are rebuilt once per frame at most.
 */
export class FrameScheduler {
  private pending = false;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly render: () => void) {}

  /**
   * Ask for a redraw; `after` runs once it is drawn: uPlot draws in a microtask queued by
   * setData, so a microtask queued after render() runs after the drawing (used to time updates).
   */
  request(after?: () => void): void {
    if (after) this.waiting.push(after);
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.render();
      const done = this.waiting.splice(0);
      if (done.length) queueMicrotask(() => { for (const f of done) f(); });
    });
  }
}
