/**
 * A training run as a process of its own (docs/architecture.md, Processes): the training server
 * starts `tern train` detached (its own process group, stdin ignored, output to a log file, never a
 * pipe, so it outlives the server, the extension host and the window) and follows the run from its
 * folder (server/runs/runFollower.ts) as it follows any other live run. The run inherits the
 * server's lowered CPU priority. Stopping it is a signal to its process: `tern train` turns SIGTERM
 * into a graceful cancel (the run ends `cancelled` with its checkpoint).
 *
 * The process's output goes to `<tmp>/ternary-train-logs/<pid>.log` (the run folder does not
 * exist yet when it starts). What the run says is in its folder, so the log matters only when the
 * process fails before its run starts: the error names the log, kept as `<pid>.failed.log` (the
 * newest few). Every other log is removed once its process has ended: by the server following it
 * to its end, else by the sweep at the next training start.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, renameSync } from 'node:fs';
import { readdir, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import type { TrainResult } from '../../shared/protocol';
import { UserError, type UserErrorCode, type UserErrorData } from '../../shared/userError';
import { FOLLOW_POLL_MS, followRun, LineTail } from '../runs/runFollower';
import { readLock } from '../runs/runLock';
import type { TrainListener } from '../runs/trainTypes';
import type { TrainJobParams } from './jobs';

/** The job was stopped because the server shuts down: the run goes on, only following it ends. */
export class ServerShutdown extends Error {
  override readonly name = 'ServerShutdown';
}

/** Where the processes' output goes (module comment). */
export function trainLogsDir(): string {
  return join(tmpdir(), 'ternary-train-logs');
}

/** How many logs of processes that failed before their run started are kept. */
const FAILED_LOGS_KEPT = 5;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, as another user's process.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the logs of processes that have ended, and failed logs beyond the newest few. */
export async function sweepTrainLogs(dir = trainLogsDir()): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const failed: { path: string; mtime: number }[] = [];
  for (const name of names) {
    const path = join(dir, name);
    const live = /^(\d+)\.log$/.exec(name);
    if (live) {
      if (!processAlive(Number(live[1]))) await rm(path, { force: true });
    } else if (/^\d+\.failed\.log$/.test(name)) {
      const info = await stat(path).catch(() => undefined);
      if (info) failed.push({ path, mtime: info.mtimeMs });
    }
  }
  failed.sort((a, b) => b.mtime - a.mtime);
  for (const old of failed.slice(FAILED_LOGS_KEPT)) await rm(old.path, { force: true });
}

/** Pids of the runs this server started and still follows (the live-run scan leaves them to their job). */
const ownRuns = new Set<number>();

export function isOwnRun(pid: number): boolean {
  return ownRuns.has(pid);
}

/** How to start `tern`: the bundle next to this one (dist/cli.js), or the sources under tsx (tests). */
function ternCommand(): string[] {
  const bundled = join(__dirname, 'cli.js');
  if (existsSync(bundled)) return [bundled];
  const source = resolve(__dirname, '..', 'cli', 'main.ts');
  // The loader by its absolute URL: the run's working folder is the config's, where tsx is not found.
  if (existsSync(source)) return ['--import', pathToFileURL(createRequire(__filename).resolve('tsx')).href, source];
  throw new Error(`The tern command line (dist/cli.js) was not found next to ${__dirname}; the installation is incomplete.`);
}

/** `tern train` arguments for a train request, on the backend the server runs. */
export function trainArgs(params: TrainJobParams, runsDir: string, backend: { name: string; threads: number } | undefined): string[] {
  // A resume continues the run's own recorded experiment (its config.json), as `tern train --resume` does.
  const args = params.resumeDir
    ? ['train', '--resume', resolve(params.resumeDir)]
    : ['train', resolve(params.configPath), '--runs-dir', resolve(runsDir)];
  if (params.experiment !== undefined && !params.resumeDir) args.push('--experiment', params.experiment);
  if (params.epochs !== undefined) args.push('--epochs', String(params.epochs));
  if (params.sweepIndex !== undefined && !params.resumeDir) args.push('--sweep-point', String(params.sweepIndex));
  if (backend) args.push('--backend', backend.name, '--threads', String(backend.threads));
  const options: [string, string | number | undefined][] = [
    ['--engine', params.engine],
    ['--device', params.device],
    ['--nproc-per-node', params.nprocPerNode],
    ['--nnodes', params.nnodes],
    ['--node-rank', params.nodeRank],
    ['--rdzv-endpoint', params.rdzvEndpoint],
    ['--max-restarts', params.maxRestarts],
    ['--python', params.python],
  ];
  for (const [flag, value] of options) if (value !== undefined) args.push(flag, String(value));
  args.push('--json');
  return args;
}

/** What `tern train --json` prints besides metrics: its start, log lines, a user's error. */
type CliLine =
  | { kind: 'start'; runDir: string }
  | { kind: 'log'; level: 'info' | 'warn' | 'error'; message: string }
  | { kind: 'error'; code: UserErrorCode; message: string; data?: UserErrorData }
  | { kind: 'summary' | 'batch' | 'epoch' };

/** Signals the process holding a run's lock on this host; false when there is none. */
export function signalRun(runDir: string, signal: NodeJS.Signals = 'SIGTERM'): boolean {
  const lock = readLock(runDir);
  if (!lock?.alive || !lock.holder) return false;
  try {
    process.kill(lock.holder.pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Trains in a process of its own and follows it; resolves with the summary when the run ends. */
export async function trainDetached(
  params: TrainJobParams,
  runsDir: string,
  backend: { name: string; threads: number } | undefined,
  listener: TrainListener,
  signal: AbortSignal,
): Promise<TrainResult> {
  const logsDir = trainLogsDir();
  await sweepTrainLogs(logsDir);
  mkdirSync(logsDir, { recursive: true });
  let logPath = join(logsDir, `starting-${randomUUID()}.log`);
  const fd = openSync(logPath, 'w');
  let child;
  try {
    const [first, ...rest] = [...ternCommand(), ...trainArgs(params, runsDir, backend)];
    child = spawn(process.execPath, [first!, ...rest], {
      cwd: dirname(resolve(params.configPath)),
      detached: true,
      stdio: ['ignore', fd, fd],
    });
  } finally {
    closeSync(fd);
  }
  child.unref();
  const pid = child.pid;
  if (pid === undefined) {
    await rm(logPath, { force: true });
    throw new Error(`tern train could not be started (${process.execPath}).`);
  }
  // Named after its process, so that the sweep can tell when it has ended (the open file follows the rename).
  const named = join(logsDir, `${pid}.log`);
  renameSync(logPath, named);
  logPath = named;
  ownRuns.add(pid);
  let exited = false;
  const exit = new Promise<number | null>((resolveExit) =>
    child.on('exit', (code) => {
      exited = true;
      resolveExit(code);
    }),
  );
  const log = new LineTail(logPath);
  let runDir = params.resumeDir ? resolve(params.resumeDir) : undefined;
  let error: (CliLine & { kind: 'error' }) | undefined;
  // One read of the log at a time (the timer and the waits below both read it).
  let reading: Promise<void> = Promise.resolve();
  const readLog = (): Promise<void> =>
    (reading = reading.then(async () => {
      for (const line of await log.read<CliLine>()) {
        if (line.kind === 'start') runDir ??= line.runDir;
        else if (line.kind === 'log') listener.onLog?.(line.level, line.message);
        else if (line.kind === 'error') error = line;
      }
    }));
  let stopping = false;
  const onAbort = () => {
    if (signal.reason instanceof ServerShutdown || stopping) return;
    stopping = true;
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // Already gone: the follower sees how it ended.
    }
  };
  signal.addEventListener('abort', onAbort, { once: true });
  const following = new AbortController();
  const logTimer = setInterval(() => void readLog(), FOLLOW_POLL_MS);
  try {
    // The run folder: named by the process's first line (a new run), or the one resumed.
    while (!runDir) {
      await Promise.race([exit, new Promise((r) => setTimeout(r, FOLLOW_POLL_MS))]);
      await readLog();
      if (exited && !runDir) break;
    }
    if (!runDir) throw await failure(error, await exit, logPath);
    if (signal.reason instanceof ServerShutdown) throw signal.reason;
    signal.addEventListener('abort', () => signal.reason instanceof ServerShutdown && following.abort(), { once: true });
    const end = await followRun(runDir, listener, {
      replay: !params.resumeDir,
      signal: following.signal,
      writer: { pid, starting: () => !exited },
    });
    await readLog();
    if (!end?.started) throw signal.reason instanceof ServerShutdown ? signal.reason : await failure(error, await exit, logPath);
    return { runDir: end.runDir, summary: end.summary };
  } finally {
    clearInterval(logTimer);
    signal.removeEventListener('abort', onAbort);
    ownRuns.delete(pid);
    // A failure's log was renamed (kept); a run still going (the server shuts down) keeps its log until the sweep.
    if (exited) await rm(logPath, { force: true });
  }
}

/**
 * Why the process ended without a run: its error line (a user's mistake, with code and data), else
 * its output, kept for the user as `<pid>.failed.log`.
 */
async function failure(error: (CliLine & { kind: 'error' }) | undefined, code: number | null, logPath: string): Promise<Error> {
  if (error) return new UserError(error.code, error.message, error.data ?? {});
  const kept = logPath.replace(/\.log$/, '.failed.log');
  await rename(logPath, kept).catch(() => undefined);
  return new Error(`tern train ended with exit code ${code} before its run started; its output is in ${kept}.`);
}
