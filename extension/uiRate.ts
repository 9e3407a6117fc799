/**
 * How often training progress may repaint the workbench. A run sends a metrics record every couple
 * of batches (server/train/epochLoop.ts: about 50 per epoch), 15–30 a second on a small model;
 * each status-bar text or progress-notification change is a message to the workbench and a repaint
 * there. In code-server on a machine without a GPU those repaints take CPU from the training they
 * report on (docs/extension.md, "Training from the editor"), and nobody reads a percentage that
 * changes more than a few times a second.
 */
export const UI_UPDATE_INTERVAL_MS = 250;

export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: Timers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * Runs `update` at most once per interval: the first request at once, requests during the
 * interval after it as one call at its end (so the last state is always shown).
 */
export class UpdateThrottle {
  private cooling: unknown;
  private pending = false;
  private disposed = false;

  constructor(
    private readonly update: () => void,
    private readonly intervalMs = UI_UPDATE_INTERVAL_MS,
    private readonly timers: Timers = realTimers,
  ) {}

  request(): void {
    if (this.disposed) return;
    if (this.cooling !== undefined) {
      this.pending = true;
      return;
    }
    this.run();
  }

  dispose(): void {
    this.disposed = true;
    this.pending = false;
    if (this.cooling !== undefined) this.timers.clearTimeout(this.cooling);
    this.cooling = undefined;
  }

  private run(): void {
    this.pending = false;
    this.update();
    this.cooling = this.timers.setTimeout(() => {
      this.cooling = undefined;
      if (this.pending) this.run();
    }, this.intervalMs);
  }
}
