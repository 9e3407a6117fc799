/**
 * The training server on stdin/stdout (`node dist/server.js --stdio`, `tern serve --stdio`):
 * logs go to the client and stderr; the process exits when stdin closes (after stopping a
 * running job other than a training run, which is a process of its own and goes on:
 * detachedTrain.ts) or on `exit`.
 */
import { routeConsole } from './stdoutGuard';
import { installCrashPolicy } from './crashPolicy';
import { realJobs } from './realJobs';
import { startServer } from './server';
import pkg from '../../package.json';

/** Longest wait for a running job to stop when the client goes away. */
const STOP_TIMEOUT_MS = 10_000;

export const SERVE_USAGE = `Usage: tern serve --stdio   (or: node dist/server.js --stdio)

Starts the Ternary Studio training server: JSON-RPC with the LSP base protocol on stdin/stdout
(Content-Length framing), as the VS Code extension uses it. Log lines go to the client
(window/logMessage) and to stderr. The server exits when stdin closes. See docs/protocol.md.`;

/** Serves until stdin closes; never resolves (the process exits). */
export function serveStdio(): Promise<never> {
  const server = startServer({ input: process.stdin, output: process.stdout, jobs: realJobs(), version: pkg.version });
  routeConsole((level, message) => server.log(level, message));
  installCrashPolicy((message) => server.log('error', message));
  let closing = false;
  const onInputClosed = () => {
    if (closing) return;
    closing = true;
    setTimeout(() => process.exit(1), STOP_TIMEOUT_MS).unref();
    void server.stopAll().finally(() => process.exit(0));
  };
  process.stdin.on('end', onInputClosed);
  process.stdin.on('close', onInputClosed);
  return new Promise<never>(() => undefined);
}
