/**
 * What every request handler of the training server shares: the JSON-RPC connection (with the
 * reader that answers malformed frames), the one-job-at-a-time queue, the ordered and throttled
 * notification outbox, work-done progress, what `initialize` settled, and the train run going on.
 * The handlers live in their own modules (initialize.ts, trainHandler.ts, jobHandlers.ts,
 * controlHandlers.ts); server.ts wires them. docs/architecture.md shows where this sits.
 */
import {
  createConnection,
  ErrorCodes,
  LSPErrorCodes,
  MessageType,
  ResponseError,
  StreamMessageWriter,
  type CancellationToken,
  type Connection,
  type ResponseMessage,
} from 'vscode-languageserver/node';
import { MetricsNotification, USER_MISTAKE_CODES, type RunStartedParams, type TernaryServerInfo } from '../../shared/protocol';
import type { MetricsRecord } from '../../shared/runRecords';
import { ServerShutdown } from './detachedTrain';
import { toResponseError } from './errors';
import { RecoveringMessageReader, type FrameFault } from './framing';
import { JobQueue, type JobKind } from './jobQueue';
import type { Jobs } from './jobs';
import { NotificationOutbox, systemClock, type Clock, type RunKey } from './outbox';
import { ProgressRegistry, type JobProgress } from './progress';
import { describeTrainProgress } from './progressText';

/** Metrics notifications a second per run, unless `initialize` asks for another rate. */
export const DEFAULT_METRICS_RATE = 10;

export interface ServerOptions {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  jobs: Jobs;
  /** Version of the server reported in `initialize`. */
  version: string;
  clock?: Clock;
  /** Jobs allowed to wait behind the running one. */
  maxQueued?: number;
}

export type LogLevel = 'error' | 'warn' | 'info' | 'log';

const logTypes: Record<LogLevel, MessageType> = {
  error: MessageType.Error,
  warn: MessageType.Warning,
  info: MessageType.Info,
  log: MessageType.Log,
};

/** The train job running now and its run, once the trainer announced it. */
export interface CurrentRun {
  jobId: string;
  runId?: string;
  progress?: JobProgress;
  started?: RunStartedParams;
}

/** Called as a queued job learns its id and its place in the queue. */
export interface QueueListener {
  onQueued?(jobId: string): void;
  onPosition?(jobId: string, position: number): void;
}

export class ServerCore {
  readonly connection: Connection;
  readonly queue: JobQueue;
  readonly outbox: NotificationOutbox;
  readonly progress: ProgressRegistry;
  /** Set by `initialize`; requests before it are refused. */
  info: TernaryServerInfo | undefined;
  currentRun: CurrentRun | undefined;
  /** Live runs this server follows without having started them (liveRuns.ts); set by server.ts. */
  liveRuns: { cancel(runId: string): boolean; dispose(): void } | undefined;
  private readonly writer: StreamMessageWriter;

  constructor(readonly options: ServerOptions) {
    this.writer = new StreamMessageWriter(options.output);
    const reader = new RecoveringMessageReader(options.input, (fault) => this.answerFault(fault));
    this.connection = createConnection(reader, this.writer);
    this.queue = new JobQueue(options.maxQueued);
    this.outbox = new NotificationOutbox(
      (run, records) => this.sendMetrics(run, records),
      DEFAULT_METRICS_RATE,
      options.clock ?? systemClock,
    );
    this.progress = new ProgressRegistry(this.connection);
  }

  get jobs(): Jobs {
    return this.options.jobs;
  }

  /** Log a line to the client (`window/logMessage`). */
  log(level: LogLevel, message: string): void {
    void this.connection.sendNotification('window/logMessage', { type: logTypes[level], message }).catch(() => undefined);
  }

  requireInitialized(method: string): void {
    if (!this.info)
      throw new ResponseError(ErrorCodes.InvalidRequest, `${method}: the server is not initialized; send 'initialize' first.`);
  }

  /** Runs a job through the queue and answers with its result or a protocol error. */
  async runQueued<T>(
    kind: JobKind,
    token: CancellationToken,
    run: (signal: AbortSignal) => Promise<T>,
    listener: QueueListener = {},
  ): Promise<T> {
    let handle;
    try {
      handle = this.queue.submit({
        kind,
        run,
        onQueued: listener.onQueued,
        onPosition: (position, jobId) => listener.onPosition?.(jobId, position),
      });
    } catch (err) {
      // QueueFull: the documented Busy code, not the InternalError a raw throw becomes.
      throw toResponseError(err);
    }
    const subscription = token.onCancellationRequested(() => this.queue.cancel(handle.id));
    try {
      return await handle.promise;
    } catch (err) {
      const error = toResponseError(err);
      // A user's mistake goes back to the client, which shows it; anything else is logged with its stack.
      if (!USER_MISTAKE_CODES.has(error.code) && error.code !== LSPErrorCodes.RequestCancelled) {
        this.log('error', `${kind} failed: ${(err as Error)?.stack ?? String(err)}`);
      }
      throw error;
    } finally {
      subscription.dispose();
    }
  }

  /**
   * Drops the queue and stops the running job; resolves when it has ended. A training run is a
   * process of its own (detachedTrain.ts): it goes on, only following it stops.
   */
  async stopAll(): Promise<void> {
    this.liveRuns?.dispose();
    this.queue.cancelAll(new ServerShutdown('The server is shutting down.'));
    await this.queue.idle();
    await this.outbox.drained();
  }

  dispose(): void {
    this.liveRuns?.dispose();
    this.queue.cancelAll(new ServerShutdown('The server is shutting down.'));
    this.outbox.dispose();
    this.connection.dispose();
  }

  /** A frame that is not JSON-RPC gets an error response (with its id when it had one), and the stream goes on. */
  private answerFault(fault: FrameFault): void {
    this.log('warn', `Protocol error: ${fault.message}`);
    const response: ResponseMessage = { jsonrpc: '2.0', id: fault.id, error: { code: fault.code, message: fault.message } };
    this.writer.write(response).catch(() => undefined);
  }

  /** The outbox's throttled metrics: one notification, and the run's progress line follows the newest record. */
  private sendMetrics({ runId, runDir }: RunKey, records: MetricsRecord[]): void {
    void this.connection.sendNotification(MetricsNotification.type, { runId, runDir, records });
    const run = this.currentRun?.runId === runId ? this.currentRun : undefined;
    if (run?.progress && run.started) {
      const { message, percentage } = describeTrainProgress(records[records.length - 1], run.started);
      run.progress.report(message, percentage);
    }
  }
}
