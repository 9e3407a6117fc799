/**
 * The server's crash policy (docs/protocol.md, Notifications: window/logMessage): an exception nobody caught is logged to the client
 * (with its stack) and to stderr, and the server keeps serving; one job's bug must not take the
 * user's other runs and the extension's view of them down. The process only ends when its input
 * closes or the client sends `exit`.
 */
export function installCrashPolicy(log: (message: string) => void): void {
  const report = (kind: string, err: unknown) => {
    const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
    const message = `Training server: ${kind} (the server keeps running; please report this): ${text}`;
    process.stderr.write(message + '\n');
    try {
      log(message);
    } catch {
      // The connection itself may be what failed; stderr has it.
    }
  };
  process.on('uncaughtException', (err) => report('uncaught exception', err));
  process.on('unhandledRejection', (reason) => report('unhandled promise rejection', reason));
}
