/**
 * Coalesces bursts of updates into one redraw per animation frame: at 10 metric messages a
 * second (or a history of thousands of records) the charts are rebuilt once per frame at most.
 */
export class FrameScheduler {
  private pending = false;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly render: () => void) {}

  /** Ask for a redraw; `after` runs right after it (e.g. to time the update). */
  request(after?: () => void): void {
    if (after) this.waiting.push(after);
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.render();
      for (const f of this.waiting.splice(0)) f();
    });
  }
}
