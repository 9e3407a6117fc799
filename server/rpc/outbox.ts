/**
 * The one ordered path of server → client notifications. Metrics are throttled to at most `rate`
 * notifications a second: records arriving between two sends are coalesced into one notification
 * (`records[]`), none is dropped. Everything else (run started, layer stats, histograms, run ended,
 * log lines) is sent as soon as the metrics queued before it have gone, so a client always sees
 * started → metrics → layer stats → … → ended in the order the trainer produced them.
 */
import type { MetricsRecord } from '../../shared/runRecords';

/** Time source, injectable so tests can step time instead of sleeping. */
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** The run a metrics notification is about (its notifications carry both). */
export interface RunKey {
  runId: string;
  runDir: string;
}

type Item = { kind: 'metrics'; run: RunKey; records: MetricsRecord[] } | { kind: 'other'; send: () => void };

export class NotificationOutbox {
  private readonly queue: Item[] = [];
  private lastMetricsAt = Number.NEGATIVE_INFINITY;
  private timer: unknown;
  private waiters: (() => void)[] = [];
  private intervalMs: number;

  constructor(
    private readonly sendMetrics: (run: RunKey, records: MetricsRecord[]) => void,
    rate: number,
    private readonly clock: Clock = systemClock,
  ) {
    this.intervalMs = 1000 / rate;
  }

  /** Changes the maximum number of metrics notifications per second. */
  setRate(rate: number): void {
    this.intervalMs = 1000 / rate;
  }

  /** Queues one metrics record; joins the metrics notification already waiting when there is one. */
  pushMetrics(run: RunKey, record: MetricsRecord): void {
    const last = this.queue[this.queue.length - 1];
    if (last?.kind === 'metrics' && last.run.runId === run.runId) last.records.push(record);
    else this.queue.push({ kind: 'metrics', run, records: [record] });
    this.pump();
  }

  /** Queues a notification (or any send) to go out after everything queued before it. */
  push(send: () => void): void {
    this.queue.push({ kind: 'other', send });
    this.pump();
  }

  /** Resolves once everything queued so far has been sent. */
  drained(): Promise<void> {
    if (this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Number of notifications waiting. */
  get pending(): number {
    return this.queue.length;
  }

  dispose(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
    this.wakeWaiters();
  }

  private pump(): void {
    if (this.timer !== undefined) return; // a send is already scheduled; it will continue the queue
    while (this.queue.length) {
      const head = this.queue[0];
      if (head.kind === 'metrics') {
        const wait = this.lastMetricsAt + this.intervalMs - this.clock.now();
        if (wait > 0) {
          this.timer = this.clock.setTimeout(() => {
            this.timer = undefined;
            this.pump();
          }, wait);
          return;
        }
        this.queue.shift();
        this.lastMetricsAt = this.clock.now();
        this.sendSafely(() => this.sendMetrics(head.run, head.records));
      } else {
        this.queue.shift();
        this.sendSafely(head.send);
      }
    }
    this.wakeWaiters();
  }

  /** A failing send (closed connection) must not stall the notifications behind it. */
  private sendSafely(send: () => void): void {
    try {
      send();
    } catch {
      // The connection reports write errors itself; nothing more to do per message.
    }
  }

  private wakeWaiters(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}
