/**
 * The training server: the protocol of `server/protocol/protocol.ts` on a vscode-languageserver
 * connection. It validates requests, runs one job at a time (others wait and are told their
 * position), turns the trainer's callbacks into ordered, throttled notifications and work-done
 * progress, and maps failures to JSON-RPC errors. The work itself is done by a `Jobs`
 * implementation, so the protocol mechanics can be tested with a fake one over in-memory streams.
 */
import {
  createConnection, ErrorCodes, MessageType, ResponseError, StreamMessageWriter, type CancellationToken,
  type Connection, type InitializeError, type InitializeResult, type ResponseMessage,
} from 'vscode-languageserver/node';
import {
  CancelRequest, EvaluateRequest, ExportRequest, HistogramsNotification, LayerStatsNotification, ListRunsRequest,
  MetricsNotification, QueuedNotification, RunEndedNotification, RunHistoryRequest, RunStartedNotification,
  ServerStatsRequest, StatsRequest, TernarizeRequest, TrainRequest, ternaryMethods,
  type RunStartedParams, type ServerStats, type TernaryServerInfo, type TrainResult,
} from '../protocol/protocol';
import type { MetricsRecord, TrainListener } from '../train/types';
import { toResponseError } from './errors';
import { RecoveringMessageReader, type FrameFault } from './framing';
import { JobQueue, type JobKind } from './jobQueue';
import type { Jobs, TrainJobParams } from './jobs';
import { NotificationOutbox, systemClock, type Clock } from './outbox';
import {
  validateCancelParams, validateEvaluateParams, validateExportParams, validateInitializationOptions,
  validateListRunsParams, validateRunHistoryParams, validateStatsParams, validateTernarizeParams, validateTrainParams,
} from './params';
import { ProgressRegistry, type JobProgress } from './progress';
import type { WithProgress } from './params';
import { describeTrainProgress } from './progressText';
import { lowerOwnPriority } from './priority';

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

export interface TernaryServer {
  connection: Connection;
  /** Log a line to the client (`window/logMessage`). */
  log(level: 'error' | 'warn' | 'info' | 'log', message: string): void;
  /** Stops the running job, drops the queue; resolves when the running job has ended. */
  stopAll(): Promise<void>;
  dispose(): void;
}

const logTypes = { error: MessageType.Error, warn: MessageType.Warning, info: MessageType.Info, log: MessageType.Log } as const;

export function startServer(options: ServerOptions): TernaryServer {
  const { jobs } = options;
  const writer = new StreamMessageWriter(options.output);
  const reader = new RecoveringMessageReader(options.input, (fault) => answerFault(fault));
  const connection = createConnection(reader, writer);
  const queue = new JobQueue(options.maxQueued);
  const outbox = new NotificationOutbox(sendMetrics, DEFAULT_METRICS_RATE, options.clock ?? systemClock);
  const progressRegistry = new ProgressRegistry(connection);
  let info: TernaryServerInfo | undefined;
  /** The train job running now and its run, once the trainer announced it. */
  let currentRun: { jobId: string; runId?: string; progress?: JobProgress; started?: RunStartedParams } | undefined;

  function log(level: keyof typeof logTypes, message: string): void {
    void connection.sendNotification('window/logMessage', { type: logTypes[level], message }).catch(() => undefined);
  }

  function answerFault(fault: FrameFault): void {
    log('warn', `Protocol error: ${fault.message}`);
    const response: ResponseMessage = { jsonrpc: '2.0', id: fault.id, error: { code: fault.code, message: fault.message } };
    writer.write(response).catch(() => undefined);
  }

  function sendMetrics(runId: string, records: MetricsRecord[]): void {
    void connection.sendNotification(MetricsNotification.type, { runId, records });
    const run = currentRun?.runId === runId ? currentRun : undefined;
    if (run?.progress && run.started) {
      const { message, percentage } = describeTrainProgress(records[records.length - 1], run.started);
      run.progress.report(message, percentage);
    }
  }

  function requireInitialized(method: string): void {
    if (!info) throw new ResponseError(ErrorCodes.InvalidRequest, `${method}: the server is not initialized; send 'initialize' first.`);
  }

  /** Runs a job through the queue and answers with its result or a protocol error. */
  async function runQueued<T>(kind: JobKind, token: CancellationToken, run: (signal: AbortSignal) => Promise<T>, extra?: {
    onPosition?(jobId: string, position: number): void;
    onQueued?(jobId: string): void;
  }): Promise<T> {
    let handle;
    try {
      handle = queue.submit({ kind, run, onQueued: extra?.onQueued, onPosition: (position, jobId) => extra?.onPosition?.(jobId, position) });
    } catch (err) {
      // QueueFull: the documented Busy code, not the InternalError a raw throw becomes.
      throw toResponseError(err);
    }
    const subscription = token.onCancellationRequested(() => queue.cancel(handle.id));
    try {
      return await handle.promise;
    } catch (err) {
      const error = toResponseError(err);
      if (error.code === ErrorCodes.InternalError) log('error', `${kind} failed: ${(err as Error)?.stack ?? String(err)}`);
      throw error;
    } finally {
      subscription.dispose();
    }
  }

  connection.onInitialize(async (params): Promise<InitializeResult | ResponseError<InitializeError>> => {
    const refuse = (code: number, message: string) => new ResponseError<InitializeError>(code, message, { retry: false });
    if (info) return refuse(ErrorCodes.InvalidRequest, 'initialize: the server is already initialized.');
    let initOptions;
    try {
      initOptions = validateInitializationOptions(params?.initializationOptions);
    } catch (err) {
      return refuse(ErrorCodes.InvalidParams, (err as Error).message);
    }
    progressRegistry.clientSupportsCreate = params?.capabilities?.window?.workDoneProgress === true;
    progressRegistry.listen();
    outbox.setRate(initOptions.metricsRate ?? DEFAULT_METRICS_RATE);
    // Before the backend starts: its compute threads inherit the main thread's priority.
    const priority = initOptions.lowPriority ? lowerOwnPriority() : undefined;
    let backend;
    try {
      backend = await jobs.initialize({ backend: initOptions.backend, threads: initOptions.threads });
    } catch (err) {
      return refuse(ErrorCodes.InvalidParams, `initialize: the backend could not be started: ${(err as Error)?.message ?? String(err)}`);
    }
    info = {
      backend: backend.backend,
      threads: backend.threads,
      versions: { ternaryStudio: options.version, node: process.versions.node, ...backend.versions },
      methods: [...ternaryMethods],
    };
    log('info', `Ternary training server ${options.version}: backend ${info.backend}, ${info.threads} thread(s).`);
    if (priority && 'error' in priority) log('warn', `Could not lower the server's CPU priority (${priority.error}); training may slow the editor down.`);
    else if (priority) log('info', `CPU priority: nice ${priority.priority}, so the editor stays responsive while training.`);
    return { capabilities: { experimental: { ternary: info } }, serverInfo: { name: 'ternary-studio', version: options.version } };
  });

  connection.onRequest(TrainRequest.method, async (raw: unknown, token: CancellationToken): Promise<TrainResult> => {
    requireInitialized(TrainRequest.method);
    const params = validateTrainParams(raw);
    const { workDoneToken, ...trainParams } = params;
    let jobId = '';
    const experimentLabel = params.experiment ?? params.configPath;
    const { progress, close } = await progressRegistry.open(`Training ${experimentLabel}`, workDoneToken, () => queue.cancel(jobId));
    try {
      return await runQueued('train', token, async (signal) => {
        const run: NonNullable<typeof currentRun> = { jobId, progress };
        currentRun = run;
        progress.report('starting', 0);
        try {
          return await train(trainParams, signal, run);
        } finally {
          if (currentRun === run) currentRun = undefined;
        }
      }, {
        onQueued: (id) => { jobId = id; },
        onPosition: (id, position) => {
          outbox.push(() => void connection.sendNotification(QueuedNotification.type, { configPath: params.configPath, experiment: params.experiment, position, jobId: id }));
          progress.report(`waiting in the queue: position ${position}`);
        },
      });
    } finally {
      close();
    }
  });

  /** One training run: trainer callbacks → notifications, in order, metrics throttled. */
  async function train(params: TrainJobParams, signal: AbortSignal, run: NonNullable<typeof currentRun>): Promise<TrainResult> {
    const listener: TrainListener = {
      onStart: (start) => {
        run.runId = start.runId;
        run.started = { ...start, configPath: params.configPath };
        const started = run.started;
        outbox.push(() => void connection.sendNotification(RunStartedNotification.type, started));
      },
      onMetrics: (record) => {
        if (run.runId) outbox.pushMetrics(run.runId, record);
      },
      onLayers: (record) => {
        const runId = run.runId!;
        outbox.push(() => void connection.sendNotification(LayerStatsNotification.type, { runId, record }));
      },
      onHistograms: (record) => {
        const runId = run.runId!;
        outbox.push(() => void connection.sendNotification(HistogramsNotification.type, { runId, record }));
      },
      onLog: (level, message) => outbox.push(() => log(level, message)),
    };
    try {
      const result = await jobs.train(params, listener, signal);
      const { summary } = result;
      const status = summary.status === 'running' ? 'failed' : summary.status;
      outbox.push(() => void connection.sendNotification(RunEndedNotification.type, {
        runId: summary.runId, runDir: result.runDir, experiment: summary.experiment, status, reason: summary.reason, summary,
      }));
      await outbox.drained();
      run.progress?.done(`${status}: top-1 ${(summary.final.top1 * 100).toFixed(2)} %`);
      return result;
    } catch (err) {
      // A run that had started must still end for the client, even when the trainer threw.
      const started = run.started;
      if (started) {
        const reason = (err as Error)?.message ?? String(err);
        outbox.push(() => void connection.sendNotification(RunEndedNotification.type, {
          runId: started.runId, runDir: started.runDir, experiment: started.experiment, status: 'failed', reason,
        }));
        await outbox.drained();
      }
      throw err;
    }
  }

  /** A tfjs job through the queue; a client's `workDoneToken` gets begin (waiting/running) and end. */
  function exclusive<P extends WithProgress, R>(method: string, kind: JobKind, title: string, validate: (raw: unknown) => P, work: (params: Omit<P, 'workDoneToken'>, signal: AbortSignal) => Promise<R>): void {
    connection.onRequest(method, async (raw: unknown, token: CancellationToken) => {
      requireInitialized(method);
      const { workDoneToken, ...params } = validate(raw);
      let jobId = '';
      // Short jobs only report on a token the client gave; they do not ask for one.
      const { progress, close } = await progressRegistry.open(title, workDoneToken, () => queue.cancel(jobId), false);
      try {
        return await runQueued(kind, token, (signal) => {
          progress.report('running');
          return work(params, signal);
        }, {
          onQueued: (id) => { jobId = id; },
          onPosition: (_id, position) => progress.report(`waiting in the queue: position ${position}`),
        });
      } finally {
        close();
      }
    });
  }
  exclusive(EvaluateRequest.method, 'evaluate', 'Evaluating', validateEvaluateParams, (p, s) => jobs.evaluate(p, s));
  exclusive(TernarizeRequest.method, 'ternarize', 'Ternarizing', validateTernarizeParams, (p, s) => jobs.ternarize(p, s));
  exclusive(StatsRequest.method, 'stats', 'Computing layer statistics', validateStatsParams, (p, s) => jobs.stats(p, s));

  /** File work without tfjs (run folders, export): never queued, so it works while a run trains. */
  function immediate<P, R>(method: string, validate: (raw: unknown) => P, work: (params: P) => Promise<R>): void {
    connection.onRequest(method, async (raw: unknown) => {
      requireInitialized(method);
      const params = validate(raw);
      try {
        return await work(params);
      } catch (err) {
        throw toResponseError(err);
      }
    });
  }
  immediate(ListRunsRequest.method, validateListRunsParams, (p) => jobs.listRuns(p));
  immediate(RunHistoryRequest.method, validateRunHistoryParams, (p) => jobs.runHistory(p));
  immediate(ExportRequest.method, validateExportParams, ({ workDoneToken: _token, ...p }) => jobs.export(p, new AbortController().signal));

  connection.onRequest(CancelRequest.method, (raw: unknown) => {
    const params = validateCancelParams(raw);
    if (params.jobId !== undefined) return { cancelled: queue.cancel(params.jobId) };
    const running = queue.running;
    if (!running) return { cancelled: false };
    if (params.runId !== undefined && currentRun?.runId !== params.runId) return { cancelled: false };
    return { cancelled: queue.cancel(running.id) };
  });

  connection.onRequest(ServerStatsRequest.method, (raw: unknown): ServerStats => {
    const wantGc = typeof raw === 'object' && raw !== null && (raw as { gc?: unknown }).gc === true;
    const gc = (globalThis as { gc?: () => void }).gc;
    if (wantGc && gc) gc();
    const memory = process.memoryUsage();
    const tensors = jobs.memory();
    const running = queue.running;
    return {
      rss: memory.rss,
      heapUsed: memory.heapUsed,
      numTensors: tensors.numTensors,
      numBytes: tensors.numBytes,
      gcRan: wantGc && gc !== undefined,
      running: running && { jobId: running.id, kind: running.kind, runId: currentRun?.jobId === running.id ? currentRun.runId : undefined },
      queued: queue.queued.length,
    };
  });

  async function stopAll(): Promise<void> {
    queue.cancelAll();
    await queue.idle();
    await outbox.drained();
  }

  connection.onShutdown(() => stopAll());
  connection.listen();

  return {
    connection,
    log,
    stopAll,
    dispose: () => {
      queue.cancelAll();
      outbox.dispose();
      connection.dispose();
    },
  };
}
