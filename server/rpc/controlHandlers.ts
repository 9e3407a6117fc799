/**
 * Requests about the server itself, answered at once: `ternary/cancel` (a queued job by id, or
 * the running one, optionally only if it is a given run, or a followed live run),
 * `ternary/followRuns` (liveRuns.ts) and `ternary/serverStats` (memory,
 * tensors, the running job and the queue's length; the leak checks of the tests use it).
 */
import { CancelRequest, FollowRunsRequest, ServerStatsRequest, type ServerStats } from '../../shared/protocol';
import type { LiveRuns } from './liveRuns';
import { validateCancelParams, validateFollowRunsParams } from './params';
import type { ServerCore } from './serverCore';

export function registerControl(core: ServerCore, liveRuns: LiveRuns): void {
  const { connection, queue } = core;
  connection.onRequest(CancelRequest.method, (raw: unknown) => {
    const params = validateCancelParams(raw);
    if (params.jobId !== undefined) return { cancelled: queue.cancel(params.jobId) };
    // A live run this server follows but did not start: a signal to its process.
    if (params.runId !== undefined && liveRuns.has(params.runId)) return { cancelled: liveRuns.cancel(params.runId) };
    const running = queue.running;
    if (!running) return { cancelled: false };
    if (params.runId !== undefined && core.currentRun?.runId !== params.runId) return { cancelled: false };
    return { cancelled: queue.cancel(running.id) };
  });

  connection.onRequest(FollowRunsRequest.method, async (raw: unknown) => {
    core.requireInitialized(FollowRunsRequest.method);
    const params = validateFollowRunsParams(raw);
    return { following: await liveRuns.watch(params.runsDirs) };
  });

  connection.onRequest(ServerStatsRequest.method, (raw: unknown): ServerStats => {
    const wantGc = typeof raw === 'object' && raw !== null && (raw as { gc?: unknown }).gc === true;
    const gc = (globalThis as { gc?: () => void }).gc;
    if (wantGc && gc) gc();
    const memory = process.memoryUsage();
    const tensors = core.jobs.memory();
    const running = queue.running;
    const run = core.currentRun;
    return {
      rss: memory.rss,
      heapUsed: memory.heapUsed,
      numTensors: tensors.numTensors,
      numBytes: tensors.numBytes,
      gcRan: wantGc && gc !== undefined,
      running: running && { jobId: running.id, kind: running.kind, runId: run?.jobId === running.id ? run.runId : undefined },
      queued: queue.queued.length,
    };
  });
}
