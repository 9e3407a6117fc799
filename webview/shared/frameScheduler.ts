/**
 * Coalesces bursts of updates into one redraw per animation frame: at 10 metric messages a
 * second (or a history of thousands of records) the charts are rebuilt once per frame at most.
 */

/** The browser's frame and time sources; tests pass fakes (test/unit/webview-frame-scheduler.test.ts). */
export interface FrameClock {
  requestFrame(callback: () => void): void;
  /** Run `callback` after `ms` milliseconds. */
  delay(callback: () => void, ms: number): void;
  /** Milliseconds, monotonic. */
  now(): number;
}

const browserClock: FrameClock = {
  requestFrame: (callback) => {
    requestAnimationFrame(() => callback());
  },
  delay: (callback, ms) => {
    setTimeout(callback, ms);
  },
  now: () => performance.now(),
};

export class FrameScheduler {
  private pending = false;
  /** The panel is hidden: requests are remembered, and drawn once when it is shown. */
  private hidden = false;
  private deferred = false;
  private readonly waiting: (() => void)[] = [];
  /** How long the last render took and when it ended (ms, performance.now()). */
  private lastCost = 0;
  private lastEnd = -Infinity;

  constructor(
    private readonly render: () => void,
    private readonly clock: FrameClock = browserClock,
  ) {}

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
    const wait = this.lastEnd + this.lastCost - this.clock.now();
    const frame = (): void => {
      this.clock.requestFrame(() => {
        this.pending = false;
        const started = this.clock.now();
        this.render();
        this.lastEnd = this.clock.now();
        this.lastCost = this.lastEnd - started;
        const done = this.waiting.splice(0);
        if (done.length)
          queueMicrotask(() => {
            for (const f of done) f();
          });
      });
    };
    if (wait > 1) this.clock.delay(frame, wait);
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
