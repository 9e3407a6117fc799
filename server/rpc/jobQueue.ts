/**
 * One job at a time (like vscode-eslint's `maxParallelism: 1`): tfjs keeps one global engine and
 * the machine's cores are better spent on one run than split between two. Jobs submitted while
 * another runs wait in order and are told their position whenever it changes. A running job is
 * stopped through its AbortSignal; a waiting one is simply removed.
 */
import { UserError } from '../../shared/userError';

export type JobKind = 'train' | 'evaluate' | 'ternarize' | 'stats' | 'export';

export interface JobSpec<T> {
  kind: JobKind;
  /** Runs the job; must stop soon after `signal` aborts. */
  run(signal: AbortSignal): Promise<T>;
  /** Called once with the job's id, before it starts or waits. */
  onQueued?(jobId: string): void;
  /** Called with 1 (next) … n while the job waits, each time its position changes. */
  onPosition?(position: number, jobId: string): void;
}

export interface JobHandle<T> {
  id: string;
  /** Resolves or rejects with the job's outcome; rejects with `RemovedFromQueue` when cancelled before it started. */
  promise: Promise<T>;
}

/** A waiting job was cancelled before it started (code `cancelled`: RequestCancelled). */
export class RemovedFromQueue extends UserError {
  constructor(message: string) {
    super('cancelled', message);
    this.name = 'RemovedFromQueue';
  }
}

/** The queue is full (code `busy`: `TernaryErrorCodes.Busy`). */
export class QueueFull extends UserError {
  constructor(message: string) {
    super('busy', message);
    this.name = 'QueueFull';
  }
}

interface Entry {
  id: string;
  kind: JobKind;
  start(): void;
  reject(err: Error): void;
  onPosition?(position: number, jobId: string): void;
  controller: AbortController;
}

export class JobQueue {
  private readonly waiting: Entry[] = [];
  private idleWaiters: (() => void)[] = [];
  private current: Entry | undefined;
  private readonly held = new Set<string>();
  private nextId = 1;

  /** @param maxWaiting jobs allowed to wait behind the running one before `QueueFull`. */
  constructor(private readonly maxWaiting = 16) {}

  submit<T>(spec: JobSpec<T>): JobHandle<T> {
    if (this.waiting.length >= this.maxWaiting && (this.current || this.held.size)) {
      throw new QueueFull(`${this.waiting.length} jobs are already waiting; cancel one or wait for the running job to finish.`);
    }
    const id = `job-${this.nextId++}`;
    const controller = new AbortController();
    let entry!: Entry;
    const promise = new Promise<T>((resolve, reject) => {
      entry = {
        id,
        kind: spec.kind,
        controller,
        onPosition: spec.onPosition,
        reject,
        start: () => {
          // Run in a fresh task so that a synchronous throw still rejects the promise.
          Promise.resolve()
            .then(() => spec.run(controller.signal))
            .then(resolve, reject)
            .finally(() => this.finish(entry));
        },
      };
    });
    spec.onQueued?.(id);
    this.waiting.push(entry);
    if (this.current || this.held.size) spec.onPosition?.(this.waiting.length, id);
    else this.startNext();
    return { id, promise };
  }

  /** Stops the running job or removes a waiting one; false when no job has this id. */
  cancel(id: string): boolean {
    if (this.current?.id === id) {
      this.current.controller.abort();
      return true;
    }
    const index = this.waiting.findIndex((e) => e.id === id);
    if (index < 0) return false;
    const [entry] = this.waiting.splice(index, 1);
    entry.reject(new RemovedFromQueue('Cancelled while waiting in the queue; it never started.'));
    this.announcePositions(index);
    return true;
  }

  /** Stops the running job (its signal's reason: `reason`) and empties the queue (shutdown). */
  cancelAll(reason?: unknown): void {
    for (const entry of this.waiting.splice(0)) entry.reject(new RemovedFromQueue('The server is shutting down.'));
    this.current?.controller.abort(reason);
  }

  /**
   * Work outside the queue that counts as its running job (a live training run this server did
   * not start: server/rpc/liveRuns.ts): no job starts while one is held; releasing it starts the next.
   */
  hold(key: string): void {
    this.held.add(key);
  }

  release(key: string): void {
    if (!this.held.delete(key)) return;
    this.startNext();
    this.notifyIdle();
  }

  /** The running job, if any. */
  get running(): { id: string; kind: JobKind } | undefined {
    return this.current && { id: this.current.id, kind: this.current.kind };
  }

  /** Ids of the waiting jobs, next first. */
  get queued(): string[] {
    return this.waiting.map((e) => e.id);
  }

  /** Resolves when no job runs or waits. */
  idle(): Promise<void> {
    if (!this.current && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private finish(entry: Entry): void {
    if (this.current === entry) this.current = undefined;
    this.startNext();
    this.notifyIdle();
  }

  private notifyIdle(): void {
    if (!this.current && this.waiting.length === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  private startNext(): void {
    if (this.current || this.held.size) return;
    const next = this.waiting.shift();
    if (!next) return;
    this.current = next;
    this.announcePositions(0);
    next.start();
  }

  private announcePositions(from: number): void {
    for (let i = from; i < this.waiting.length; i++) this.waiting[i].onPosition?.(i + 1, this.waiting[i].id);
  }
}
