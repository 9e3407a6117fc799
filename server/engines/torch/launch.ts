/**
 * The torch engine's TypeScript half: `trainWithTorch` has the signature and the run-folder
 * contract of server/train/trainer.ts's `train`, but the epochs run in PyTorch DDP under torchrun
 * (engines/torch/ternary_torch/train.py). This side validates and resolves the experiment (one
 * schema, one set of defaults), builds the model with the zoo of server/models/ (seeded init
 * included) and saves it as the initial model.json, writes config.json and the job file, launches
 * torchrun in its own process group, and turns rank 0's `@tern {json}` progress lines into the
 * listener calls a tfjs run makes. Cancel (the signal) writes the job's cancel file and sends
 * SIGTERM to the group: every rank stops after the same batch, the last checkpoint stays.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { ConfigError } from '../../config/loadConfig';
import type { ExperimentConfig } from '../../../shared/experimentConfig';
import { loadModel, saveModel } from '../../core/modelIO';
import { openDataset } from '../../data/open';
import { NORMALIZATION_PRESETS } from '../../data/normalize';
import { buildModel, convertToTernary } from '../../models';
import { writeJsonAtomic } from '../../files/atomicFiles';
import { experimentFolder, sharedNameWarning } from '../../runs/experimentFolder';
import { newRunId } from '../../train/runId';
import { outputsProbabilities } from '../../train/step';
import { runtimeVersions } from '../../train/versions';
import type { HistogramsRecord, LayersRecord, MetricsRecord, RunConfigRecord, RunSummary } from '../../../shared/runRecords';
import type { TrainOptions, TrainResult } from '../../train/types';
import { checkTorchOptions, EngineError, type TorchOptions } from '../types';
import { findPython } from './python';
import { torchPackageDir } from './paths';

export interface TorchTrainOptions extends TrainOptions {
  torch: TorchOptions;
}

/** What the torch engine records in config.json besides the tfjs engine's fields. */
export interface TorchRunFields {
  engine: 'torch';
  device: 'cpu' | 'cuda';
  worldSize: number;
  nnodes: number;
  nprocPerNode: number;
}

const PROGRESS_PREFIX = '@tern ';
/** Lines of torchrun's stderr kept to explain a failure. */
const STDERR_TAIL = 30;
const SUPPORTED_AUGMENT = /^(crop\d+pad\d+|hflip)$/;

/** Refuses, before anything starts, what the torch engine does not implement (yet). */
function checkSupported(experiment: ExperimentConfig, configPath: string | undefined): void {
  const where = (p: string) => `experiments "${experiment.name}": ${p}`;
  if (experiment.data.format === 'image-folder') {
    throw new ConfigError(
      configPath ?? experiment.name,
      where('data.format'),
      'image-folder data is not supported by the torch engine yet (idx, cifar10-bin and cifar100-bin are); train this experiment with "engine": "tfjs".',
    );
  }
  const bad = experiment.data.augment.find((a) => !SUPPORTED_AUGMENT.test(a));
  if (bad)
    throw new ConfigError(
      configPath ?? experiment.name,
      where('data.augment'),
      `"${bad}" is not supported by the torch engine yet (crop<s>pad<p> and hflip are); train this experiment with "engine": "tfjs".`,
    );
}

/** data.normalize resolved to mean/std lists (the presets of server/data/normalize.ts). */
function normalization(experiment: ExperimentConfig): { mean: number[]; std: number[] } {
  const n = experiment.data.normalize;
  if (n === undefined) return NORMALIZATION_PRESETS.none!;
  if (typeof n === 'string') return NORMALIZATION_PRESETS[n]!;
  return n;
}

async function createModel(
  experiment: ExperimentConfig,
  baseDir: string,
  inputShape: [number, number, number],
  configPath: string | undefined,
): Promise<LayersModel> {
  const { model, quant, train } = experiment;
  if (model.from !== undefined) {
    const path = resolve(baseDir, model.from);
    if (!existsSync(path))
      throw new ConfigError(
        configPath ?? path,
        `model.from (experiment "${experiment.name}")`,
        `${path} does not exist; point "from" at a float tfjs model.json.`,
      );
    const float = await loadModel(path);
    if (quant.method === 'none') return float;
    const twin = await convertToTernary(float, quant);
    if (twin !== float) float.dispose();
    return twin;
  }
  return buildModel({ arch: model.arch!, classes: model.classes, inputShape, quant, seed: train.seed });
}

interface ProgressLine {
  type: 'start' | 'metrics' | 'layers' | 'histograms' | 'log' | 'end' | 'fatal';
  [key: string]: unknown;
}

/** The torchrun command line for these options. */
export function torchrunArgs(o: TorchOptions, script: string, jobPath: string, rdzvId: string, localPort?: number): string[] {
  const args = [
    join(torchPackageDir(), 'torchrun.py'),
    '--nproc_per_node',
    String(o.nprocPerNode),
    '--max_restarts',
    String(o.maxRestarts),
  ];
  if (o.nnodes === 1 && !o.rdzvEndpoint) {
    // Not --standalone: it always puts the store on localhost:29400, so a second run on the same
    // machine joins the first one's store and fails when that run ends (seen: "The connection to
    // the C10d store has failed"). Each run gets its own free port instead.
    args.push('--nnodes', '1', '--rdzv_backend', 'c10d', '--rdzv_endpoint', `127.0.0.1:${localPort ?? 29400}`, '--rdzv_id', rdzvId);
  } else {
    // Static rendezvous: node ranks are the ones given, so node 0 (which writes the run folder and
    // prints progress) hosts global rank 0 and the store at the endpoint.
    const [host, port] = o.rdzvEndpoint!.split(':');
    args.push(
      '--nnodes',
      String(o.nnodes),
      '--node_rank',
      String(o.nodeRank),
      '--master_addr',
      host!,
      '--master_port',
      port!,
      '--rdzv_id',
      rdzvId,
    );
  }
  args.push(script, jobPath);
  return args;
}

/** Trains `opts.experiment` with PyTorch; resolves when the run ends (its summary says how). */
export async function trainWithTorch(opts: TorchTrainOptions): Promise<TrainResult> {
  const torch = checkTorchOptions({ ...opts.torch });
  const listener = opts.listener ?? {};
  const log = (level: 'info' | 'warn' | 'error', message: string) => listener.onLog?.(level, message);
  const worker = torch.nodeRank > 0;

  // ---- The run: a new one or the one to resume (same rules as the tfjs trainer).
  let experiment: ExperimentConfig;
  let runId: string;
  let runDir: string;
  let configRecord: RunConfigRecord;
  if (opts.resumeDir) {
    runDir = resolve(opts.resumeDir);
    const recordPath = join(runDir, 'config.json');
    if (!existsSync(recordPath))
      throw new ConfigError(
        recordPath,
        undefined,
        `is missing: ${runDir} is not a run folder (expected runs/<experiment>/<run-id>/ with config.json).`,
      );
    configRecord = JSON.parse(await readFile(recordPath, 'utf8')) as RunConfigRecord;
    if (configRecord.engine !== 'torch')
      throw new EngineError(
        `${runDir} was trained by the ${configRecord.engine ?? 'tfjs'} engine; resume it with that engine (its checkpoints are in that engine's format).`,
      );
    if (
      !existsSync(join(runDir, 'checkpoints', 'last', 'checkpoint.pt')) &&
      !existsSync(join(runDir, 'checkpoints', 'last.old', 'checkpoint.pt'))
    ) {
      throw new ConfigError(
        join(runDir, 'checkpoints', 'last'),
        undefined,
        'holds no checkpoint (the run stopped before its first epoch ended); start a new run instead of resuming.',
      );
    }
    experiment = structuredClone(configRecord.experiment);
    if (opts.epochs !== undefined) experiment.train.epochs = opts.epochs;
    configRecord.experiment = experiment;
    runId = configRecord.runId;
  } else {
    experiment = structuredClone(opts.experiment);
    if (opts.epochs !== undefined) experiment.train.epochs = opts.epochs;
    runId = newRunId();
    // Same folder rule as the tfjs trainer: another config of this folder with an experiment of the same name → separate folders.
    const folder = opts.configPath ? await experimentFolder(opts.configPath, experiment.name) : { folder: experiment.name, sharedWith: [] };
    if (folder.sharedWith.length) log('warn', sharedNameWarning(opts.configPath!, experiment.name, folder));
    runDir = resolve(opts.runsDir, folder.folder, runId);
    configRecord = {} as RunConfigRecord;
  }
  experiment.engine = 'torch';
  const configPath = configRecord.configPath ?? (opts.configPath ? resolve(opts.configPath) : undefined);
  checkSupported(experiment, configPath);
  const baseDir = configPath ? dirname(configPath) : process.cwd();
  const python = await findPython(torch.python, torch.device);

  // ---- Data (opened by our readers: same errors as a tfjs run) and the initial model.
  const trainSet = await openDataset(experiment.data, 'train', baseDir);
  await openDataset(experiment.data, 'test', baseDir);
  const classes = experiment.model.classes;
  if (trainSet.numClasses > classes) {
    throw new ConfigError(
      configPath ?? runDir,
      `model.classes (experiment "${experiment.name}")`,
      `is ${classes} but the training data has labels up to ${trainSet.numClasses - 1}; set "classes" to at least ${trainSet.numClasses}.`,
    );
  }
  const worldSize = torch.nnodes * torch.nprocPerNode;
  if (experiment.train.batchSize % worldSize !== 0) {
    throw new ConfigError(
      configPath ?? runDir,
      `train.batchSize (experiment "${experiment.name}")`,
      `is ${experiment.train.batchSize}, not a multiple of the ${worldSize} processes (nnodes × nproc-per-node); each process takes batchSize / ${worldSize} examples of every batch.`,
    );
  }
  // Workers on other nodes keep their job files out of the run folder (node 0 owns it).
  const jobDir = worker ? mkdtempSync(join(tmpdir(), 'tern-torch-')) : join(runDir, 'engine');
  const initDir = join(jobDir, 'init-model');
  await mkdir(jobDir, { recursive: true });
  let probabilities: boolean;
  if (!existsSync(join(initDir, 'model.json'))) {
    const model = await createModel(experiment, baseDir, trainSet.inputShape, configPath);
    probabilities = outputsProbabilities(model);
    await saveModel(model, initDir, { runId, experiment: experiment.name, initial: true });
    model.dispose();
  } else {
    const model = await loadModel(join(initDir, 'model.json'));
    probabilities = outputsProbabilities(model);
    model.dispose();
  }

  const fields: TorchRunFields = {
    engine: 'torch',
    device: torch.device,
    worldSize,
    nnodes: torch.nnodes,
    nprocPerNode: torch.nprocPerNode,
  };
  if (!worker) {
    if (!opts.resumeDir) {
      configRecord = {
        runId,
        experiment,
        configPath,
        backend: `torch-${torch.device}`,
        threads: 1,
        versions: { ...runtimeVersions(), torch: python.torch ?? '', python: python.python },
        seed: experiment.train.seed,
        startedAt: new Date().toISOString(),
        ...fields,
      };
    } else {
      Object.assign(configRecord, fields);
    }
    await mkdir(join(runDir, 'histograms'), { recursive: true });
    await writeJsonAtomic(join(runDir, 'config.json'), configRecord);
  }
  const cancelFile = join(jobDir, 'cancel');
  await rm(cancelFile, { force: true });
  const norm = normalization(experiment);
  const job = {
    runId,
    runDir,
    initModel: join(initDir, 'model.json'),
    device: torch.device,
    cancelFile,
    outputsProbabilities: probabilities,
    experiment,
    data: { ...experiment.data, path: resolve(baseDir, experiment.data.path), mean: norm.mean, std: norm.std },
  };
  const jobPath = join(jobDir, 'job.json');
  await writeFile(jobPath, JSON.stringify(job, null, 1) + '\n');

  // ---- torchrun, in its own process group.
  // Every node must name the same rendezvous: the experiment, not this node's run id.
  const localPort = torch.nnodes === 1 && !torch.rdzvEndpoint ? await freePort() : undefined;
  const args = torchrunArgs(torch, join(torchPackageDir(), 'run_experiment.py'), jobPath, `tern-${experiment.name}`, localPort);
  log('info', `torch engine: ${python.executable} ${args.join(' ')}`);
  const child = spawn(python.path, args, {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
  });
  const killGroup = (sig: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, sig);
    } catch {
      // already gone
    }
  };
  const onExit = () => killGroup('SIGKILL');
  process.on('exit', onExit);
  const onAbort = () => {
    void writeFile(cancelFile, 'cancel\n').then(
      () => killGroup('SIGTERM'),
      () => killGroup('SIGTERM'),
    );
  };
  if (opts.signal?.aborted) onAbort();
  opts.signal?.addEventListener('abort', onAbort);

  let started = false;
  let lastSummary: RunSummary | undefined;
  let fatal: string | undefined;
  const stderrTail: string[] = [];
  const onProgress = (line: ProgressLine) => {
    switch (line.type) {
      case 'start':
        if (!started) {
          started = true;
          listener.onStart?.({
            runId,
            runDir,
            experiment: experiment.name,
            epochs: Number(line.epochs),
            stepsPerEpoch: Number(line.stepsPerEpoch),
            backend: String(line.backend),
          });
        }
        break;
      case 'metrics':
        listener.onMetrics?.(line.record as MetricsRecord);
        break;
      case 'layers':
        listener.onLayers?.(line.record as LayersRecord);
        break;
      case 'histograms':
        listener.onHistograms?.(line.record as HistogramsRecord);
        break;
      case 'log':
        log(line.level as 'info' | 'warn' | 'error', String(line.message));
        break;
      case 'end':
        lastSummary = line.summary as RunSummary;
        break;
      case 'fatal':
        fatal ??= String(line.message);
        break;
    }
  };
  const lines = (stream: NodeJS.ReadableStream, onLine: (line: string) => void) => {
    let buffer = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buffer += chunk;
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        onLine(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
      }
    });
    stream.on('end', () => buffer && onLine(buffer));
  };
  lines(child.stdout!, (line) => {
    if (!line.startsWith(PROGRESS_PREFIX)) {
      if (line.trim()) log('info', line);
      return;
    }
    try {
      onProgress(JSON.parse(line.slice(PROGRESS_PREFIX.length)) as ProgressLine);
    } catch {
      log('warn', `unreadable progress line from the torch engine: ${line.slice(0, 200)}`);
    }
  });
  lines(child.stderr!, (line) => {
    if (!line.trim()) return;
    stderrTail.push(line);
    if (stderrTail.length > STDERR_TAIL) stderrTail.shift();
    // torchrun's own notices (restarts, OMP threads) are useful in the log; tracebacks come at the end.
    if (/torch\.distributed\.elastic|OMP_NUM_THREADS|WARNING|ERROR/.test(line)) log('warn', line);
  });
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise({ code, signal }));
  });
  process.off('exit', onExit);
  opts.signal?.removeEventListener('abort', onAbort);
  if (worker) await rm(jobDir, { recursive: true, force: true });

  // ---- The result: rank 0's summary.json; a crash before it wrote one is a failed run. A worker
  // node has no run folder: its result is its torchrun's exit status.
  if (worker) {
    const ok = exit.code === 0;
    const reason = ok
      ? undefined
      : opts.signal?.aborted
        ? 'Cancelled.'
        : `The torch engine stopped (${exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`}): ${fatal ?? explain(stderrTail)}`;
    return {
      runDir,
      summary: {
        ...emptySummary(runId, experiment.name, `torch-${torch.device}`),
        status: ok ? 'completed' : opts.signal?.aborted ? 'cancelled' : 'failed',
        ...(reason ? { reason } : {}),
        epochs: ok ? experiment.train.epochs : 0,
        ...fields,
      },
    };
  }
  let summary: RunSummary | undefined;
  if (!worker && existsSync(join(runDir, 'summary.json')))
    summary = JSON.parse(await readFile(join(runDir, 'summary.json'), 'utf8')) as RunSummary;
  summary ??= lastSummary;
  const crashed = summary === undefined || summary.status === 'running';
  if (crashed || (exit.code !== 0 && summary?.status !== 'cancelled' && summary?.status !== 'failed' && summary?.status !== 'completed')) {
    const reason = `The torch engine stopped (${exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`}) before the run ended: ${fatal ?? explain(stderrTail)}`;
    const failed: RunSummary = {
      ...(summary ?? emptySummary(runId, experiment.name, `torch-${torch.device}`)),
      status: opts.signal?.aborted ? 'cancelled' : 'failed',
      reason: opts.signal?.aborted ? 'Cancelled before the first batch finished.' : reason,
    };
    if (fatal && !opts.signal?.aborted) failed.reason = fatal;
    if (!worker) await writeJsonAtomic(join(runDir, 'summary.json'), failed);
    log(failed.status === 'failed' ? 'error' : 'info', failed.reason!);
    return { runDir, summary: failed };
  }
  return { runDir, summary: summary! };
}

/** A TCP port nobody listens on now (for a single-node run's rendezvous store). */
function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolvePort(port));
    });
  });
}

function emptySummary(runId: string, experiment: string, backend: string): RunSummary {
  return {
    runId,
    experiment,
    status: 'failed',
    epochs: 0,
    final: { top1: 0, top5: 0, loss: NaN },
    best: { top1: 0, top5: 0, loss: NaN, epoch: 0 },
    backend,
    fp32Bytes: 0,
    ternaryBytes: 0,
    compression: 1,
    wallSeconds: 0,
  };
}

/** The useful part of torchrun's stderr: the last exception line of the traceback, or the tail. */
function explain(tail: string[]): string {
  const exception = [...tail]
    .reverse()
    .find((l) => /^(\w+\.)*\w*(Error|Exception|Exit)\b.*:/.test(l.trim()) || /^SystemExit: /.test(l.trim()));
  if (exception) return exception.trim().replace(/^SystemExit: /, '');
  return tail.slice(-5).join(' | ') || 'no output (see the log)';
}
