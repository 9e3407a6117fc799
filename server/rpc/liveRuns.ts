/**
 * The live runs of the runs folders a client asked to follow (`ternary/followRuns`): runs that
 * processes this server did not start train (`tern train` in a terminal, another window's, one
 * this server's predecessor started before a window reload). Each is followed from its folder
 * (server/runs/runFollower.ts) and reported as a run this server trains (trainHandler.ts
 * runNotifier); while it lives it counts as the queue's running job; `ternary/cancel` with its
 * run id signals its process, which stops it gracefully (server/cli/commands/train.ts).
 */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { readRunInfo } from '../runs/runFiles';
import { followRun } from '../runs/runFollower';
import { runPaths } from '../runs/runFolder';
import { LOCK_FILE, readLock } from '../runs/runLock';
import { isOwnRun, signalRun } from './detachedTrain';
import type { CurrentRun, ServerCore } from './serverCore';
import { runNotifier } from './trainHandler';

/** How often the followed folders are searched for runs that started since. */
export const LIVE_RUN_SCAN_MS = 2_000;

async function subdirs(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory() && !d.name.startsWith('.')).map((d) => d.name);
  } catch {
    return [];
  }
}

interface Followed {
  run: CurrentRun;
  stop: AbortController;
}

export class LiveRuns {
  private readonly roots = new Set<string>();
  private readonly followed = new Map<string, Followed>();
  private timer: NodeJS.Timeout | undefined;
  private scanning: Promise<void> = Promise.resolve();

  constructor(private readonly core: ServerCore) {}

  /** Adds runs folders to watch; resolves with the run folders followed once they are searched. */
  async watch(runsDirs: string[]): Promise<string[]> {
    for (const dir of runsDirs) this.roots.add(resolve(dir));
    this.timer ??= setInterval(() => void this.scan(), LIVE_RUN_SCAN_MS);
    await this.scan();
    return [...this.followed.keys()];
  }

  /** Stops the followed run with this id (a signal to its process); false when none has it. */
  cancel(runId: string): boolean {
    for (const [runDir, f] of this.followed) if (f.run.runId === runId) return signalRun(runDir);
    return false;
  }

  /** The followed run with this id, if any. */
  has(runId: string): boolean {
    return [...this.followed.values()].some((f) => f.run.runId === runId);
  }

  /** Stops following (the runs go on). */
  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    for (const f of this.followed.values()) f.stop.abort();
  }

  private scan(): Promise<void> {
    this.scanning = this.scanning.then(async () => {
      for (const root of this.roots)
        for (const experiment of await subdirs(root))
          for (const id of await subdirs(join(root, experiment))) {
            const runDir = join(root, experiment, id);
            // The lock is taken before config.json is written: a run without it yet is found by a later scan.
            if (this.followed.has(runDir) || !existsSync(join(runDir, LOCK_FILE)) || !existsSync(runPaths(runDir).config)) continue;
            const lock = readLock(runDir);
            if (lock?.alive && lock.holder && !isOwnRun(lock.holder.pid)) await this.follow(runDir);
          }
    });
    return this.scanning;
  }

  private async follow(runDir: string): Promise<void> {
    const info = await readRunInfo(runDir);
    const run: CurrentRun = { jobId: `run:${runDir}` };
    const stop = new AbortController();
    this.followed.set(runDir, { run, stop });
    const { queue } = this.core;
    queue.hold(runDir);
    const notifier = runNotifier(this.core, info?.configPath, run);
    void followRun(runDir, notifier.listener, { signal: stop.signal })
      .then(async (end) => {
        if (end?.started) await notifier.ended(end);
      })
      .catch((err: unknown) => notifier.failed(err))
      .finally(() => {
        this.followed.delete(runDir);
        queue.release(runDir);
      });
  }
}
