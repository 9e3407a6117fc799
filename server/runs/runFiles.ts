/**
 * Reading run folders (docs/architecture.md, The run folder) with plain `fs`: no tfjs, so the extension host may import this.
 * A run may be written while it is read: a partial last line of a .jsonl file is skipped, and a
 * missing summary.json means the run has not written one yet. A run whose summary says `running`
 * while no live process holds its lock is reported as `crashed`.
 */
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { RunHistory, RunInfo } from '../../shared/protocol';
import {
  RUN_NOTE_FILE,
  type HistogramsRecord,
  type LayersRecord,
  type MetricsRecord,
  type RunConfigRecord,
  type RunStatus,
  type RunSummary,
} from '../../shared/runRecords';
import { readJsonLines } from '../files/jsonLines';
import { hasCheckpoint } from './checkpointSlots';
import { readLock } from './runLock';

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

async function subdirs(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory() && !d.name.startsWith('.')).map((d) => d.name);
  } catch {
    return [];
  }
}

/**
 * How a run stands: its summary's status, except that a run that says it is running (or has not
 * written a summary yet) while no live process holds its lock is `crashed` (killed, crashed,
 * machine down; runLock.ts judges the holder). The one place of that judgement: the run list and
 * a run's history (and so the trees, the CLI and the panels) all take it from here.
 */
export function runStatus(runDir: string, summary: RunSummary | undefined): RunStatus {
  const status: RunStatus = summary?.status ?? 'running';
  return status === 'running' && !readLock(runDir)?.alive ? 'crashed' : status;
}

/** What a run folder says about itself, or undefined when it is not a run folder. */
export async function readRunInfo(runDir: string): Promise<RunInfo | undefined> {
  const config = await readJson<RunConfigRecord>(join(runDir, 'config.json'));
  if (!config) return undefined;
  const summary = await readJson<RunSummary>(join(runDir, 'summary.json'));
  let epoch = summary?.epochs ?? 0;
  let bestTop1 = summary && summary.epochs > 0 ? summary.best.top1 : undefined;
  if (!summary) {
    // A run that has not written its summary yet: count the epoch lines.
    const epochs = (await readJsonLines<MetricsRecord>(join(runDir, 'metrics.jsonl'))).filter((r) => r.kind === 'epoch');
    epoch = epochs.length;
    for (const r of epochs) bestTop1 = Math.max(bestTop1 ?? 0, r.valTop1 ?? r.top1);
  }
  const status = runStatus(runDir, summary);
  const epochs = config.experiment.train.epochs;
  const resumable = (status === 'crashed' || status === 'cancelled') && epoch < epochs && hasCheckpoint(runDir, config.engine);
  const note = (await readFile(join(runDir, RUN_NOTE_FILE), 'utf8').catch(() => '')).trim();
  return {
    runDir,
    runId: config.runId,
    experiment: config.experiment.name,
    status,
    epoch,
    epochs,
    ...(bestTop1 !== undefined ? { bestTop1 } : {}),
    startedAt: config.startedAt,
    ...(config.configPath ? { configPath: config.configPath } : {}),
    ...(config.engine === 'torch' ? { engine: config.engine, device: config.device, worldSize: config.worldSize } : {}),
    ...(resumable ? { resumable } : {}),
    ...(config.sweep ? { sweep: config.sweep } : {}),
    ...(note ? { note } : {}),
  };
}

/** The runs under each root (`<root>/<experiment>/<run-id>/`), newest first. Missing roots are skipped. */
export async function listRuns(runsDirs: string[]): Promise<RunInfo[]> {
  const runs: RunInfo[] = [];
  for (const root of runsDirs.map((d) => resolve(d))) {
    for (const experiment of await subdirs(root)) {
      for (const id of await subdirs(join(root, experiment))) {
        const info = await readRunInfo(join(root, experiment, id));
        if (info) runs.push(info);
      }
    }
  }
  return runs.sort((a, b) => (b.startedAt ?? '').localeCompare(a.startedAt ?? '') || b.runId.localeCompare(a.runId));
}

/** Everything recorded in a run folder; histograms only when asked (they are the bulk). */
export async function readRunHistory(runDir: string, options: { histograms?: boolean } = {}): Promise<RunHistory> {
  const [config, metrics, layers, summary] = await Promise.all([
    readJson<RunConfigRecord>(join(runDir, 'config.json')),
    readJsonLines<MetricsRecord>(join(runDir, 'metrics.jsonl')),
    readJsonLines<LayersRecord>(join(runDir, 'layers.jsonl')),
    readJson<RunSummary>(join(runDir, 'summary.json')),
  ]);
  const histograms: HistogramsRecord[] = [];
  const histDir = join(runDir, 'histograms');
  if (options.histograms && existsSync(histDir)) {
    const files = (await readdir(histDir)).filter((f) => /^epoch-\d+\.json$/.test(f)).sort();
    for (const f of files) {
      const record = await readJson<HistogramsRecord>(join(histDir, f));
      if (record) histograms.push(record);
    }
  }
  return {
    ...(config ? { config } : {}),
    metrics,
    layers,
    histograms,
    ...(summary ? { summary } : {}),
    status: runStatus(runDir, summary),
  };
}
