/**
 * One writer per run folder. The trainer holds `<run>/.lock` (created with O_EXCL, holding its
 * pid, host and start time) from the moment the folder is created or resumed until the run
 * ends; a second `--resume` of the same run, or the CLI and the server on one run, is refused
 * with a message naming the holder. The lock's modification time is a heartbeat, refreshed while
 * the run trains.
 *
 * A process that dies (kill -9, a crash, a power cut) leaves its lock behind. On this host that
 * is seen at once (the pid is gone); a lock of another host (a shared folder) counts as abandoned
 * once its heartbeat is older than STALE_AFTER_MS. An abandoned lock is taken over by the next
 * writer, and the run listing shows such a run as `crashed` (runs/runFiles.ts).
 */
import { readFileSync, statSync } from 'node:fs';
import { open, readFile, rename, rm, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { RunFolderError } from './runErrors';
import { processRuns } from '../files/atomicFiles';

export const LOCK_FILE = '.lock';
/** How often a running trainer refreshes its heartbeat. */
export const HEARTBEAT_MS = 15_000;
/** A lock of another host whose heartbeat is older than this is abandoned. */
export const STALE_AFTER_MS = 10 * 60_000;

export interface LockHolder {
  pid: number;
  host: string;
  startedAt: string;
}

/** Whether the holder of a lock still runs: its pid on this host, else a fresh heartbeat. */
export function holderAlive(holder: LockHolder | undefined, heartbeatMs: number, now = Date.now()): boolean {
  if (!holder) return false;
  if (holder.host === hostname()) return holder.pid === process.pid || processRuns(holder.pid);
  return now - heartbeatMs < STALE_AFTER_MS;
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const h = JSON.parse(text) as LockHolder;
    return typeof h.pid === 'number' && typeof h.host === 'string' ? h : undefined;
  } catch {
    return undefined;
  }
}

/** The lock of a run folder as it is on disk now: its holder and heartbeat, or undefined when unlocked. */
export function readLock(runDir: string): { holder?: LockHolder; heartbeatMs: number; alive: boolean } | undefined {
  const path = join(runDir, LOCK_FILE);
  try {
    const heartbeatMs = statSync(path).mtimeMs;
    const holder = parseHolder(readFileSync(path, 'utf8'));
    return { holder, heartbeatMs, alive: holderAlive(holder, heartbeatMs) };
  } catch {
    return undefined;
  }
}

export interface RunLock {
  /** Refreshes the heartbeat (cheap; at most every HEARTBEAT_MS). */
  beat(): void;
  release(): Promise<void>;
}

/** Takes the run folder's lock, or throws RunFolderError('locked') naming the live holder. */
export async function acquireRunLock(runDir: string): Promise<RunLock> {
  const path = join(runDir, LOCK_FILE);
  const me: LockHolder = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(path, 'wx');
      try {
        await handle.writeFile(JSON.stringify(me) + '\n');
      } finally {
        await handle.close();
      }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const lock = readLock(runDir);
      if (lock?.alive) {
        const h = lock.holder!;
        throw new RunFolderError(
          'locked',
          runDir,
          `${runDir} is being written by process ${h.pid} on ${h.host} (since ${h.startedAt}); only one process may train a run. ` +
            `Wait for it to end or stop it; if that process is gone, delete ${path}.`,
          { pid: h.pid, host: h.host },
        );
      }
      if (attempt > 2)
        throw new RunFolderError('locked', runDir, `Could not take the lock ${path}: other processes keep taking it over. Try again.`);
      // Abandoned: move it aside (atomic), then create ours with O_EXCL (of two processes taking
      // it over, one wins). If what was moved aside is no longer the abandoned lock, another
      // process took it over in between: put theirs back and look again.
      const aside = `${path}.abandoned-${process.pid}`;
      if (
        await rename(path, aside).then(
          () => true,
          () => false,
        )
      ) {
        const moved = parseHolder(await readFile(aside, 'utf8').catch(() => ''));
        if (moved && lock?.holder && (moved.pid !== lock.holder.pid || moved.startedAt !== lock.holder.startedAt))
          await rename(aside, path).catch(() => undefined);
        else await rm(aside, { force: true });
      }
    }
  }
  let lastBeat = Date.now();
  return {
    beat() {
      const now = Date.now();
      if (now - lastBeat < HEARTBEAT_MS) return;
      lastBeat = now;
      void utimes(path, now / 1000, now / 1000).catch(() => undefined);
    },
    async release() {
      // Only our own lock: a holder that outlived STALE_AFTER_MS may have been taken over.
      const holder = parseHolder(await readFile(path, 'utf8').catch(() => ''));
      if (holder?.pid === me.pid && holder.host === me.host && holder.startedAt === me.startedAt) await rm(path, { force: true });
    },
  };
}
