/**
 * Following a run from its folder: whoever trains it (a `tern train` the training server started,
 * one in a terminal, another window's), what it writes (shared/runRecords.ts) is turned into the
 * same TrainListener calls the lifecycle makes in the process that trains (lifecycle.ts), so the
 * training server sends a followed run exactly the notifications of a run it trains itself.
 *
 * The run is announced (onStart) once summary.json says `running` with its batches per epoch
 * while a live process holds the lock (runLock.ts); records are passed on from then: batch and
 * epoch lines of metrics.jsonl, layers.jsonl, histograms/epoch-NNN.json. A torn last line waits
 * for its end. A file that shrinks was rewritten by a resume (runFolder.ts dropRecordsAfter): the
 * records it keeps were passed on already, so reading goes on from its new end. The run ends when
 * summary.json says so, or when the lock's holder is gone while the summary still says
 * `running` (crashed). fs.watch wakes the reader; a poll every `pollMs` covers what it misses
 * (file systems without events, a folder created after the watch began).
 */
import { watch, type FSWatcher } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import type { HistogramsRecord, LayersRecord, MetricsRecord, RunConfigRecord, RunSummary } from '../../shared/runRecords';
import { histogramsFile } from './records';
import { runPaths, type RunPaths } from './runFolder';
import { readLock } from './runLock';
import type { TrainListener } from './trainTypes';

/** How far a file's modification time may lag the clock that stamped the lock (runLock.ts). */
const MTIME_SLACK_MS = 1_000;

/** How often the folder is read again when no file event came. */
export const FOLLOW_POLL_MS = 1_000;

export interface FollowOptions {
  pollMs?: number;
  /** Stops following (the run goes on); `follow` then resolves with undefined. */
  signal?: AbortSignal;
  /** Pass on the records already in the folder when the run is announced (a new run this server started: all of them are its). */
  replay?: boolean;
  /**
   * The process that trains the run, when the follower started it: only its lock counts (a resume
   * it was refused leaves another holder's), and while it runs it may still be starting.
   */
  writer?: { pid: number; starting(): boolean };
}

/** How a followed run ended: its summary (status `crashed` when its process died while running). */
export interface FollowedEnd {
  runDir: string;
  summary: RunSummary;
  /** Whether the run was announced (onStart) before it ended. */
  started: boolean;
}

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Reads the complete lines a JSON-lines file gained since the last call. */
export class LineTail {
  private offset = 0;
  private pending = '';

  constructor(private readonly path: string) {}

  /** Skips what the file holds now (records passed on before, or not wanted). */
  async skipToEnd(): Promise<void> {
    this.offset = (await stat(this.path).catch(() => undefined))?.size ?? 0;
    this.pending = '';
  }

  async read<T>(): Promise<T[]> {
    const size = (await stat(this.path).catch(() => undefined))?.size ?? 0;
    if (size < this.offset) {
      // Rewritten shorter by a resume: what it kept was read before.
      this.offset = size;
      this.pending = '';
      return [];
    }
    if (size === this.offset) return [];
    const handle = await open(this.path, 'r');
    let text: string;
    try {
      const buffer = Buffer.alloc(size - this.offset);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, this.offset);
      this.offset += bytesRead;
      text = this.pending + buffer.subarray(0, bytesRead).toString('utf8');
    } finally {
      await handle.close();
    }
    const lines = text.split('\n');
    // The last piece has no newline yet: a line being written (or torn); kept for next time.
    this.pending = lines.pop() ?? '';
    const out: T[] = [];
    for (const line of lines) {
      if (!line.trim()) continue;
      try {
        out.push(JSON.parse(line) as T);
      } catch {
        // A corrupt line (a killed writer's, completed by the next session's append): skipped as readJsonLines does.
      }
    }
    return out;
  }
}

/** Follows the run in `runDir` until it ends; resolves with how it ended (undefined when stopped through `signal`). */
export function followRun(runDir: string, listener: TrainListener, options: FollowOptions = {}): Promise<FollowedEnd | undefined> {
  return new RunFollower(runPaths(runDir), listener, options).done;
}

class RunFollower {
  readonly done: Promise<FollowedEnd | undefined>;
  private resolveDone!: (end: FollowedEnd | undefined) => void;
  private readonly metrics: LineTail;
  private readonly layers: LineTail;
  private started = false;
  private finished = false;
  private reading = false;
  private again = false;
  /** Epochs whose metrics line was passed on and whose histograms file was not yet. */
  private readonly histogramsDue = new Set<number>();
  private readonly watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly paths: RunPaths,
    private readonly listener: TrainListener,
    private readonly options: FollowOptions,
  ) {
    this.metrics = new LineTail(paths.metrics);
    this.layers = new LineTail(paths.layers);
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    if (options.signal?.aborted) {
      this.finish(undefined);
      return;
    }
    options.signal?.addEventListener('abort', () => this.finish(undefined), { once: true });
    this.watch(paths.dir);
    this.timer = setInterval(() => this.wake(), options.pollMs ?? FOLLOW_POLL_MS);
    this.wake();
  }

  private watch(dir: string): void {
    try {
      const watcher = watch(dir, () => this.wake());
      watcher.on('error', () => undefined);
      this.watchers.push(watcher);
    } catch {
      // Not there yet (or no events on this file system): the poll reads it.
    }
  }

  /** Reads what is new; a wake during a read reads again after it. */
  private wake(): void {
    if (this.finished) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = true;
    void this.read()
      .catch((err: unknown) => this.listener.onLog?.('warn', `following ${this.paths.dir}: ${(err as Error)?.message ?? String(err)}`))
      .finally(() => {
        this.reading = false;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  private async read(): Promise<void> {
    const summary = await readJson<RunSummary>(this.paths.summary);
    const lock = this.lock();
    if (!this.started) {
      if (summary?.status === 'running' && summary.stepsPerEpoch !== undefined && lock && (await this.writtenBy(lock.startedAt))) {
        await this.announce(summary);
      } else if (this.options.replay && summary && summary.status !== 'running' && summary.stepsPerEpoch !== undefined) {
        // A new run of ours that ended between two reads: announced and passed on in full all the same.
        await this.announce(summary);
        if (!this.started) return;
      } else if (!this.writerAlive()) {
        // Its process ended before the run trained (or was not ours to wait for) — or it trained
        // the whole run, wrote its final summary and let go of the lock between the summary read
        // above and the lock check (a short run on a busy machine): read the summary again now
        // that the writer is gone.
        const last = (await readJson<RunSummary>(this.paths.summary)) ?? summary;
        if (this.options.replay && last && last.status !== 'running' && last.stepsPerEpoch !== undefined) await this.announce(last);
        if (!this.started) {
          this.finish(last && last.status !== 'running' ? { runDir: this.paths.dir, summary: last, started: false } : undefined);
          return;
        }
      } else return;
    }
    await this.passRecords();
    const final = await readJson<RunSummary>(this.paths.summary);
    if (final && final.status !== 'running') {
      // The summary is written after the last records: read them once more before ending.
      await this.passRecords();
      this.finish({ runDir: this.paths.dir, summary: final, started: true });
    } else if (!this.writerAlive()) {
      await this.passRecords();
      // The writer may have written its final summary and let go of the lock between the read
      // above and the lock check (lifecycle.ts writes the summary before releasing the lock): read
      // once more now that it is gone; only a summary still `running` means it died.
      const last = (await readJson<RunSummary>(this.paths.summary)) ?? final ?? summary;
      if (last)
        this.finish({ runDir: this.paths.dir, summary: last.status === 'running' ? { ...last, status: 'crashed' } : last, started: true });
      else this.finish(undefined);
    }
  }

  /** The run's live lock holder (the writer's, when one is given). */
  private lock(): { startedAt: string } | undefined {
    const lock = readLock(this.paths.dir);
    if (!lock?.alive || !lock.holder) return undefined;
    const writer = this.options.writer;
    return !writer || lock.holder.pid === writer.pid ? lock.holder : undefined;
  }

  private writerAlive(): boolean {
    return this.lock() !== undefined || (this.options.writer?.starting() ?? false);
  }

  /** Whether summary.json was written by the lock's holder (not left by a session before it, whose run it resumes). */
  private async writtenBy(lockedAt: string): Promise<boolean> {
    const mtime = (await stat(this.paths.summary).catch(() => undefined))?.mtimeMs;
    // The kernel stamps files with a coarse clock (a few ms behind Date.now()): a second of slack.
    return mtime !== undefined && mtime >= Date.parse(lockedAt) - MTIME_SLACK_MS;
  }

  private async announce(summary: RunSummary): Promise<void> {
    const config = await readJson<RunConfigRecord>(this.paths.config);
    if (!config) return;
    this.started = true;
    // Records written before the run was announced belong to its history (runHistory reads them);
    // where the run stands is passed on, though: its last epoch line and the batch line after it.
    let standing: MetricsRecord[] = [];
    if (!this.options.replay) {
      standing = await this.metrics.read<MetricsRecord>();
      await this.layers.skipToEnd();
      const lastEpoch = standing.map((r) => r.kind).lastIndexOf('epoch');
      const lastBatch = standing[standing.length - 1];
      standing = [...(lastEpoch >= 0 ? [standing[lastEpoch]!] : []), ...(lastBatch?.kind === 'batch' ? [lastBatch] : [])];
    }
    this.watch(this.paths.histograms);
    this.listener.onStart?.({
      runId: config.runId,
      runDir: this.paths.dir,
      experiment: config.experiment.name,
      epochs: config.experiment.train.epochs,
      epoch: summary.epochs,
      stepsPerEpoch: summary.stepsPerEpoch ?? 0,
      backend: config.backend,
    });
    for (const record of standing) this.listener.onMetrics?.(record);
  }

  /**
   * Metrics lines in order, then the layers records and histograms of finished epochs, as the
   * lifecycle reports them. An epoch's three records are written one after the other: what is
   * not there yet is passed on by a later read.
   */
  private async passRecords(): Promise<void> {
    for (const record of await this.metrics.read<MetricsRecord>()) {
      this.listener.onMetrics?.(record);
      if (record.kind === 'epoch') this.histogramsDue.add(record.epoch);
    }
    for (const record of await this.layers.read<LayersRecord>()) this.listener.onLayers?.(record);
    for (const epoch of [...this.histogramsDue]) {
      const histograms = await readJson<HistogramsRecord>(histogramsFile(this.paths, epoch));
      if (!histograms) continue;
      this.histogramsDue.delete(epoch);
      this.listener.onHistograms?.(histograms);
    }
  }

  private finish(end: FollowedEnd | undefined): void {
    if (this.finished) return;
    this.finished = true;
    if (this.timer) clearInterval(this.timer);
    for (const w of this.watchers) w.close();
    this.resolveDone(end);
  }
}
