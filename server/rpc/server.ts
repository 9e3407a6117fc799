/**
 * The training server: the protocol of `shared/protocol.ts` on a vscode-languageserver
 * connection. It validates requests, runs one job at a time (others wait and are told their
 * position), turns the trainer's callbacks into ordered, throttled notifications and work-done
 * progress, and maps failures to JSON-RPC errors. The work itself is done by a `Jobs`
 * implementation, so the protocol mechanics can be tested with a fake one over in-memory streams.
 *
 * This module only wires the parts: serverCore.ts (connection, queue, outbox, progress),
 * initialize.ts, trainHandler.ts, jobHandlers.ts, controlHandlers.ts and liveRuns.ts.
 */
import type { Connection } from 'vscode-languageserver/node';
import { registerControl } from './controlHandlers';
import { registerInitialize } from './initialize';
import { registerJobs } from './jobHandlers';
import { LiveRuns } from './liveRuns';
import { ServerCore, type LogLevel, type ServerOptions } from './serverCore';
import { registerTrain } from './trainHandler';

export { DEFAULT_METRICS_RATE, type ServerOptions } from './serverCore';

export interface TernaryServer {
  connection: Connection;
  /** Log a line to the client (`window/logMessage`). */
  log(level: LogLevel, message: string): void;
  /** Stops the running job, drops the queue; resolves when the running job has ended. */
  stopAll(): Promise<void>;
  dispose(): void;
}

export function startServer(options: ServerOptions): TernaryServer {
  const core = new ServerCore(options);
  const liveRuns = new LiveRuns(core);
  core.liveRuns = liveRuns;
  registerInitialize(core);
  registerTrain(core);
  registerJobs(core);
  registerControl(core, liveRuns);
  core.connection.onShutdown(() => core.stopAll());
  core.connection.listen();
  return {
    connection: core.connection,
    log: (level, message) => core.log(level, message),
    stopAll: () => core.stopAll(),
    dispose: () => core.dispose(),
  };
}
