/**
 * The training server's CPU priority. Training keeps every core busy (the oneDNN backend's
 * OpenMP threads spin between primitives), and the editor's processes started with it (the
 * extension host, code-server) share the scheduler's group with it. A lower priority lets them
 * run first when they need the CPU; when the editor is idle, training loses little (3 epochs of
 * the demo: 13.3 s at nice 0, 13.9 s at nice 10, means of 5 noisy runs on 2 cores).
 */
import { readdirSync } from 'node:fs';
import * as os from 'node:os';

/** Niceness on Unix (Windows: BELOW_NORMAL_PRIORITY_CLASS). */
export const LOW_PRIORITY = os.constants.priority.PRIORITY_BELOW_NORMAL;

/** Linux thread ids of this process, or just the process itself where /proc is missing. */
function ownThreads(): number[] {
  try {
    return readdirSync('/proc/self/task').map(Number).filter(Number.isInteger);
  } catch {
    return [0];
  }
}

/**
 * Lowers this process's priority; returns the priority in force, or why it could not be
 * changed. Linux keeps a niceness per thread: the threads that exist now (V8's workers) are
 * lowered one by one, and the ones started later inherit it from the main thread — so this runs
 * before the backend starts its compute threads. Never raises a priority already lower.
 */
export function lowerOwnPriority(): { priority: number } | { error: string } {
  try {
    if (os.getPriority() < LOW_PRIORITY) os.setPriority(LOW_PRIORITY);
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
  for (const tid of ownThreads()) {
    try {
      if (os.getPriority(tid) < LOW_PRIORITY) os.setPriority(tid, LOW_PRIORITY);
    } catch {
      // The thread ended between listing and renicing.
    }
  }
  return { priority: os.getPriority() };
}
