/**
 * Test side of the training server: a vscode-jsonrpc client on in-memory streams (or a spawned
 * server's stdio), an ordered log of everything the server sent, waits with timeouts instead of
 * sleeps, and a fake `Jobs` whose training runs are scripted by their config path.
 */
import { PassThrough, type Readable, type Writable } from 'node:stream';
import assert from 'node:assert/strict';
import {
  createMessageConnection,
  ResponseError,
  StreamMessageReader,
  StreamMessageWriter,
  type MessageConnection,
} from 'vscode-jsonrpc/node';
import { startServer, type TernaryServer } from '../../server/rpc/server';
import type { Jobs } from '../../server/rpc/jobs';
import { ConfigError } from '../../server/config/loadConfig';
import type { Clock } from '../../server/rpc/outbox';
import type { ServerOptions } from '../../server/rpc/server';
import type { InitializationOptions, TernaryServerInfo, TrainResult } from '../../shared/protocol';
import type { TrainListener } from '../../server/runs/trainTypes';
import type { MetricsRecord, RunSummary } from '../../shared/runRecords';
import { writeIdxSplit } from '../shared/idx';

export interface ServerEvent {
  method: string;
  params: any;
}

/** Everything the server sent (notifications, progress, log lines), in order, with waits. */
export class EventLog {
  readonly events: ServerEvent[] = [];
  private waiters: { predicate: (e: ServerEvent) => boolean; resolve: (e: ServerEvent) => void; from: number }[] = [];

  constructor(client: MessageConnection) {
    client.onNotification((method, params) => this.add({ method, params }));
    client.onUnhandledProgress((params) => this.add({ method: '$/progress', params }));
  }

  private add(event: ServerEvent): void {
    this.events.push(event);
    const index = this.events.length - 1;
    this.waiters = this.waiters.filter((w) => {
      if (index >= w.from && w.predicate(event)) {
        w.resolve(event);
        return false;
      }
      return true;
    });
  }

  /** Events of one method, in order. */
  of(method: string): any[] {
    return this.events.filter((e) => e.method === method).map((e) => e.params);
  }

  /** The first event (at index ≥ from) matching; rejects after `timeoutMs` with the log so far. */
  waitFor(method: string, predicate: (params: any) => boolean = () => true, timeoutMs = 10_000, from = 0): Promise<any> {
    const found = this.events.slice(from).find((e) => e.method === method && predicate(e.params));
    if (found) return Promise.resolve(found.params);
    return withTimeout(
      new Promise<ServerEvent>((resolve) =>
        this.waiters.push({ predicate: (e) => e.method === method && predicate(e.params), resolve, from }),
      ).then((e) => e.params),
      timeoutMs,
      () => `no ${method} within ${timeoutMs} ms; got: ${this.events.map((e) => e.method).join(', ')}`,
    );
  }
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timeout: ${what()}`)), ms);
    }),
  ]);
}

/** The error a request was answered with; fails the test when it succeeded or failed otherwise. */
export async function rejection(promise: Promise<unknown>): Promise<ResponseError<any>> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof ResponseError, `expected a ResponseError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the request to fail');
}

export interface Session {
  client: MessageConnection;
  events: EventLog;
  info: TernaryServerInfo;
  close(): void;
}

/** A client on the given server streams, initialised. */
export async function connectClient(
  fromServer: Readable,
  toServer: Writable,
  initializationOptions?: InitializationOptions,
  workDoneProgress = false,
): Promise<Omit<Session, 'close'>> {
  const client = createMessageConnection(new StreamMessageReader(fromServer), new StreamMessageWriter(toServer));
  const events = new EventLog(client);
  client.onRequest('window/workDoneProgress/create', (params: unknown) => {
    events.events.push({ method: 'window/workDoneProgress/create', params });
    return null;
  });
  client.listen();
  const result: any = await client.sendRequest('initialize', {
    processId: null,
    rootUri: null,
    capabilities: { window: { workDoneProgress } },
    initializationOptions,
  });
  await client.sendNotification('initialized', {});
  return { client, events, info: result.capabilities.experimental.ternary };
}

/** A server on in-memory streams with `jobs` (and a virtual clock or a queue limit), and a client connected to it. */
export async function startInMemory(
  jobs: Jobs,
  initializationOptions?: InitializationOptions,
  workDoneProgress = false,
  serverOptions: Pick<ServerOptions, 'clock' | 'maxQueued'> = {},
): Promise<Session & { server: TernaryServer; toServer: PassThrough; fromServer: PassThrough }> {
  const toServer = new PassThrough();
  const fromServer = new PassThrough();
  const server = startServer({ input: toServer, output: fromServer, jobs, version: '0.0.0-test', ...serverOptions });
  const session = await connectClient(fromServer, toServer, initializationOptions, workDoneProgress);
  return {
    ...session,
    server,
    toServer,
    fromServer,
    close: () => {
      session.client.dispose();
      server.dispose();
      toServer.end();
    },
  };
}

/**
 * Virtual time for the server's notification outbox: it stands still until a timer is due, and
 * a timer fires on the next turn of the event loop with the time moved on to its due time. Time
 * spent then only in the throttle's waits, whatever the machine's load.
 */
export class SteppingClock implements Clock {
  private time = 0;
  now(): number {
    return this.time;
  }
  setTimeout(callback: () => void, ms: number): unknown {
    const due = this.time + ms;
    const handle = { cancelled: false };
    setImmediate(() => {
      if (handle.cancelled) return;
      this.time = Math.max(this.time, due);
      callback();
    });
    return handle;
  }
  clearTimeout(handle: unknown): void {
    (handle as { cancelled: boolean }).cancelled = true;
  }
}

/** One LSP frame. */
export function frame(body: string | Buffer): Buffer {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return Buffer.concat([Buffer.from(`Content-Length: ${bytes.length}\r\n\r\n`, 'ascii'), bytes]);
}

/** Reads frames off a stream with an independent, minimal parser (not the server's). */
export class RawFrames {
  readonly messages: any[] = [];
  private buffer = Buffer.alloc(0);
  private waiters: (() => void)[] = [];

  constructor(stream: Readable) {
    stream.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      for (;;) {
        const end = this.buffer.indexOf('\r\n\r\n');
        if (end < 0) break;
        const length = Number(/Content-Length: (\d+)/.exec(this.buffer.subarray(0, end).toString())![1]);
        if (this.buffer.length < end + 4 + length) break;
        this.messages.push(JSON.parse(this.buffer.subarray(end + 4, end + 4 + length).toString('utf8')));
        this.buffer = this.buffer.subarray(end + 4 + length);
      }
      for (const w of this.waiters.splice(0)) w();
    });
  }

  /** The first message (after index `from`) matching; times out with what arrived. */
  async waitFor(predicate: (m: any) => boolean, from = 0, timeoutMs = 10_000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.slice(from).find(predicate);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timeout; got ${JSON.stringify(this.messages.map((m) => m.method ?? m.id))}`);
      await withTimeout(
        new Promise<void>((resolve) => this.waiters.push(resolve)),
        left,
        () => `no matching frame; got ${JSON.stringify(this.messages.slice(from))}`,
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------
// A fake Jobs: training scripted by the config path's file name.
//   quick-E-S.tern.json   E epochs of S batches
//   endless.tern.json     runs until cancelled
//   bad.tern.json         throws a ConfigError naming experiments[0].train.lr
//   crash-after-start…    throws after onStart (a trainer bug)

function summaryOf(runId: string, status: RunSummary['status'], epochs: number, loss: number, reason?: string): RunSummary {
  return {
    runId,
    experiment: 'fake',
    status,
    epochs,
    reason,
    final: { top1: 0.5, top5: 0.9, loss },
    best: { top1: 0.5, top5: 0.9, loss, epoch: epochs },
    backend: 'fake',
    fp32Bytes: 400,
    ternaryBytes: 29,
    compression: 400 / 29,
    wallSeconds: 0.01,
  };
}

let runCounter = 0;

/** Yields to the event loop like a real training step does between batches. */
const nextTick = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function fakeTrain(
  configPath: string,
  listener: TrainListener,
  signal: AbortSignal,
  epochsOverride?: number,
): Promise<TrainResult> {
  const name = configPath.split('/').pop()!;
  if (name === 'bad.tern.json') throw new ConfigError(configPath, 'experiments[0].train.lr', 'must be > 0.');
  const quick = /^quick-(\d+)-(\d+)\.tern\.json$/.exec(name);
  const endless = name === 'endless.tern.json';
  const crash = name === 'crash-after-start.tern.json';
  if (!quick && !endless && !crash) throw new ConfigError(configPath, undefined, 'unknown fake config');
  const epochs = epochsOverride ?? (quick ? Number(quick[1]) : 1_000_000);
  const steps = quick ? Number(quick[2]) : 10;
  const runId = `fake-${++runCounter}`;
  const runDir = `/fake/runs/fake/${runId}`;
  listener.onStart?.({ runId, runDir, experiment: 'fake', epochs, epoch: 0, stepsPerEpoch: steps, backend: 'fake' });
  if (crash) {
    await nextTick();
    throw new Error('the fake trainer broke');
  }
  let step = 0;
  let loss = 0;
  for (let epoch = 1; epoch <= epochs; epoch++) {
    for (let b = 1; b <= steps; b++) {
      await nextTick();
      if (signal.aborted) return { runDir, summary: summaryOf(runId, 'cancelled', epoch - 1, loss, 'cancelled by the client') };
      step++;
      loss = 2 / step;
      const record: MetricsRecord = { kind: 'batch', epoch, step, progress: b / steps, lr: 0.1, loss, top1: 0.5, time: step / 100 };
      listener.onMetrics?.(record);
    }
    listener.onMetrics?.({ kind: 'epoch', epoch, step, lr: 0.1, loss, top1: 0.5, valLoss: loss, valTop1: 0.5, time: step / 100 });
    listener.onLayers?.({
      epoch,
      layers: [],
      summary: { layers: 1, ternaryLayers: 1, params: 100, ternaryParams: 100, fp32Bytes: 400, ternaryBytes: 29, compression: 400 / 29 },
    });
    listener.onHistograms?.({ epoch, histograms: [] });
    listener.onLog?.('info', `epoch ${epoch} done`);
  }
  return { runDir, summary: summaryOf(runId, 'completed', epochs, loss) };
}

/** Fake jobs: scripted training, simple echoes for the rest. */
export function fakeJobs(overrides: Partial<Jobs> = {}): Jobs {
  return {
    initialize: async (o) => ({
      backend: o.backend === 'auto' || !o.backend ? 'fake' : o.backend,
      threads: o.threads ?? 1,
      versions: { fake: '1' },
    }),
    train: (p, listener, signal) => fakeTrain(p.configPath, listener, signal, p.epochs),
    evaluate: async () => ({ loss: 0.5, top1: 0.8, top5: 0.99, examples: 32 }),
    ternarize: async (p) => ({
      outDir: p.outDir,
      files: [],
      layers: [],
      histograms: [],
      summary: { layers: 0, ternaryLayers: 0, params: 0, ternaryParams: 0, fp32Bytes: 0, ternaryBytes: 0, compression: 1 },
    }),
    stats: async () => ({
      layers: [],
      histograms: [],
      summary: { layers: 0, ternaryLayers: 0, params: 0, ternaryParams: 0, fp32Bytes: 0, ternaryBytes: 0, compression: 1 },
    }),
    export: async (p) => ({ outDir: p.outDir, files: ['report.md'] }),
    listRuns: async () => [],
    validateConfig: async () => ({ problems: [] }),
    sweepPlan: async () => ({ sweepId: 'fake~0', experiment: 'fake', points: [] }),
    runHistory: async () => ({ metrics: [], layers: [], histograms: [], status: 'crashed' }),
    memory: () => ({ numTensors: 0, numBytes: 0 }),
    ...overrides,
  };
}

// ---------------------------------------------------------------------------------------------
// A tiny real workspace: synthetic IDX data (8×8 gray images whose class is a bright quadrant, so
// the net can learn something) and a config training fmnist-cnn on it.

function syntheticImages(count: number, seed: number): { images: Uint8Array; labels: Uint8Array } {
  const images = new Uint8Array(count * 64);
  const labels = new Uint8Array(count);
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) >>> 0) >>> 8) / 2 ** 24;
  for (let n = 0; n < count; n++) {
    const label = n % 4;
    labels[n] = label;
    for (let y = 0; y < 8; y++) {
      for (let x = 0; x < 8; x++) {
        const quadrant = (y < 4 ? 0 : 2) + (x < 4 ? 0 : 1);
        images[n * 64 + y * 8 + x] = Math.floor((quadrant === label ? 160 : 30) + rand() * 60);
      }
    }
  }
  return { images, labels };
}

export interface TinyWorkspace {
  dir: string;
  configPath: string;
  /** A config whose train.lr is invalid. */
  badConfigPath: string;
  /** A config whose data folder does not exist. */
  missingDataConfigPath: string;
  /** The same experiment as a float model (quant.method none). */
  floatConfigPath: string;
  /** A learning rate so large that the loss becomes NaN/Infinity. */
  divergingConfigPath: string;
}

/** Writes the data (64 train / 32 test images) and configs into `dir`. */
export async function writeTinyWorkspace(dir: string, epochs = 2): Promise<TinyWorkspace> {
  const { mkdir, writeFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  await mkdir(join(dir, 'data'), { recursive: true });
  for (const [prefix, count, seed] of [
    ['train', 64, 1],
    ['t10k', 32, 2],
  ] as const) {
    const { images, labels } = syntheticImages(count, seed);
    writeIdxSplit(join(dir, 'data'), prefix, images, labels, 8);
  }
  const experiment = (name: string, lr: number, path: string, method = 'he2019') => ({
    name,
    model: { arch: 'fmnist-cnn', classes: 4 },
    quant: { method, thresholdFactor: 0.05, tex: 1 },
    data: { format: 'idx', path, augment: [] },
    train: { epochs, batchSize: 16, optimizer: 'sgd', lr, momentum: 0.9, seed: 7 },
  });
  const write = async (file: string, body: unknown) => {
    await writeFile(join(dir, file), `// written by the protocol tests\n${JSON.stringify(body, null, 2)}\n`);
    return join(dir, file);
  };
  // Each config its own experiment names: configs of one folder sharing a name would put their
  // runs in runs/<name>@<config>/ (server/config/experimentFolder.ts).
  return {
    dir,
    configPath: await write('tiny.tern.json', { experiments: [experiment('tiny', 0.05, 'data')] }),
    badConfigPath: await write('bad.tern.json', { experiments: [experiment('tiny-bad', -1, 'data')] }),
    missingDataConfigPath: await write('nodata.tern.json', { experiments: [experiment('tiny-nodata', 0.05, 'no-such-folder')] }),
    floatConfigPath: await write('float.tern.json', { experiments: [experiment('tiny-float', 0.05, 'data', 'none')] }),
    divergingConfigPath: await write('diverging.tern.json', { experiments: [experiment('tiny-diverging', 1e30, 'data', 'none')] }),
  };
}
