/**
 * A run folder (`runs/<experiment>/<run-id>/`, shared/runRecords.ts): its paths, the identity of a new
 * run or of the one to resume, and the housekeeping of a resume (temporary files a killed
 * session left, records it wrote after its last checkpoint).
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ConfigError } from '../config/loadConfig';
import type { ExperimentConfig } from '../../shared/experimentConfig';
import { TEMP_MARKER, writeJsonAtomic } from '../files/atomicFiles';
import { readJsonLines, writeJsonLinesAtomic } from '../files/jsonLines';
import { experimentFolder, sharedNameWarning } from '../config/experimentFolder';
import { RunFolderError } from './runErrors';
import { newRunId } from './runId';
import type { LayersRecord, MetricsRecord, RunConfigRecord } from '../../shared/runRecords';

export interface RunPaths {
  dir: string;
  config: string;
  metrics: string;
  layers: string;
  histograms: string;
  checkpoints: string;
  model: string;
  summary: string;
}

export function runPaths(runDir: string): RunPaths {
  return {
    dir: runDir,
    config: join(runDir, 'config.json'),
    metrics: join(runDir, 'metrics.jsonl'),
    layers: join(runDir, 'layers.jsonl'),
    histograms: join(runDir, 'histograms'),
    checkpoints: join(runDir, 'checkpoints'),
    model: join(runDir, 'model'),
    summary: join(runDir, 'summary.json'),
  };
}

/** Who a run is: its id, folder, the experiment it trains and, when resumed, its config.json record. */
export interface RunIdentity {
  runId: string;
  runDir: string;
  experiment: ExperimentConfig;
  /** The config file (absolute), as config.json records it. */
  configPath: string | undefined;
  /** The resumed run's config.json; a new run's is written once its engine is prepared. */
  configRecord?: RunConfigRecord;
}

/** A new run of `experiment` under `runsDir` (nothing is written yet). */
export async function newRunIdentity(
  experiment: ExperimentConfig,
  runsDir: string,
  configPath: string | undefined,
  epochs: number | undefined,
  warn: (message: string) => void,
): Promise<RunIdentity> {
  const resolved = structuredClone(experiment);
  if (epochs !== undefined) resolved.train.epochs = epochs;
  const runId = newRunId();
  // Another config of this folder with an experiment of the same name: separate folders.
  const folder = configPath ? await experimentFolder(configPath, resolved.name) : { folder: resolved.name, sharedWith: [] };
  if (folder.sharedWith.length) warn(sharedNameWarning(configPath!, resolved.name, folder));
  return {
    runId,
    runDir: resolve(runsDir, folder.folder, runId),
    experiment: resolved,
    configPath: configPath ? resolve(configPath) : undefined,
  };
}

/** The run in `resumeDir`, continuing with the experiment it was started with (only the epoch count may grow). */
export async function resumedRunIdentity(resumeDir: string, epochs: number | undefined): Promise<RunIdentity> {
  const runDir = resolve(resumeDir);
  const recordPath = join(runDir, 'config.json');
  if (!existsSync(recordPath))
    throw new ConfigError(
      recordPath,
      undefined,
      `is missing: ${runDir} is not a run folder (expected runs/<experiment>/<run-id>/ with config.json).`,
    );
  let configRecord: RunConfigRecord;
  try {
    configRecord = JSON.parse(await readFile(recordPath, 'utf8')) as RunConfigRecord;
  } catch (err) {
    throw new RunFolderError(
      'damaged',
      recordPath,
      `${recordPath} is damaged (${(err as Error).message}); the run cannot be resumed without it: start a new run.`,
    );
  }
  if (!configRecord?.experiment?.train || typeof configRecord.runId !== 'string') {
    throw new RunFolderError(
      'damaged',
      recordPath,
      `${recordPath} is not a run's config record (no runId or experiment); the run cannot be resumed: start a new run.`,
    );
  }
  const experiment = structuredClone(configRecord.experiment);
  if (epochs !== undefined) experiment.train.epochs = epochs;
  return { runId: configRecord.runId, runDir, experiment, configPath: configRecord.configPath, configRecord };
}

/** Creates the folders of a new run and writes its config.json. */
export async function createRunFolder(paths: RunPaths, configRecord: RunConfigRecord): Promise<void> {
  await mkdir(paths.histograms, { recursive: true });
  await mkdir(paths.checkpoints, { recursive: true });
  await writeJsonAtomic(paths.config, configRecord);
}

/** Removes the temporary files and folders a killed session left (names with `.tmp-`). Call with the lock held. */
export async function removeTempFiles(paths: RunPaths): Promise<string[]> {
  const removed: string[] = [];
  for (const dir of [paths.dir, paths.checkpoints, paths.histograms]) {
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names) {
      if (!name.includes(TEMP_MARKER)) continue;
      await rm(join(dir, name), { recursive: true, force: true });
      removed.push(join(dir, name));
    }
  }
  return removed;
}

/** Drops what a killed session wrote after its last checkpoint (epoch `epoch`), so the files read as one run. */
export async function dropRecordsAfter(paths: RunPaths, epoch: number): Promise<void> {
  const keep = (r: { epoch: number }) => r.epoch <= epoch;
  await writeJsonLinesAtomic(paths.metrics, (await readJsonLines<MetricsRecord>(paths.metrics)).filter(keep));
  await writeJsonLinesAtomic(paths.layers, (await readJsonLines<LayersRecord>(paths.layers)).filter(keep));
  for (const file of existsSync(paths.histograms) ? await readdir(paths.histograms) : []) {
    const m = /^epoch-(\d+)\.json$/.exec(file);
    if (m && Number(m[1]) > epoch) await rm(join(paths.histograms, file), { force: true });
  }
}

/** Epoch lines in metrics.jsonl: how far the run got by its own record. */
export async function recordedEpochs(paths: RunPaths): Promise<number> {
  return (await readJsonLines<MetricsRecord>(paths.metrics)).filter((r) => r.kind === 'epoch').length;
}
