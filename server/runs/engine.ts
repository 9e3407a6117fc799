/**
 * What the run lifecycle (lifecycle.ts) asks of an engine, and what it offers one. An engine
 * computes: it opens the data, builds the model, trains epochs, saves and restores its own
 * checkpoint files and the final model, and tells the lifecycle what happened through
 * EngineEvents. It never writes config.json, the records, summary.json or the lock: the
 * lifecycle does, the same way for every engine (server/engines/tfjs/, server/engines/torch/).
 */
import type { ExperimentConfig } from '../../shared/experimentConfig';
import type { EngineResumePoint } from '../../shared/engineProtocol';
import type { HistogramsRecord, LayersRecord, MetricsRecord, RunConfigRecord } from '../../shared/runRecords';
import type { RunPaths } from './runFolder';

export type { EngineResumePoint };

/** What an engine gets to prepare a run. */
export interface EngineContext {
  /** The resolved experiment (the resumed run's own when resuming; epochs overridden). */
  experiment: ExperimentConfig;
  /** The config file, when there is one (relative paths resolve against its folder). */
  configPath: string | undefined;
  /** Folder relative data and model paths resolve against. */
  baseDir: string;
  /** The run folder (not created yet for a new run: prepare must not write into it). */
  paths: RunPaths;
  runId: string;
  /** The run's config.json when resuming. */
  resumed?: RunConfigRecord;
  signal?: AbortSignal;
  log(level: 'info' | 'warn' | 'error', message: string): void;
}

/** config.json's fields that say where a run computes. */
export type EngineRecordFields = Pick<RunConfigRecord, 'backend' | 'threads' | 'versions'> &
  Partial<Pick<RunConfigRecord, 'engine' | 'device' | 'worldSize' | 'nnodes' | 'nprocPerNode'>>;

/** What the lifecycle does with an engine's news; each call resolves once the records are on disk. */
export interface EngineEvents {
  /** Training starts (again, after a restart of the worker group): records after `resumed.epoch` are dropped. */
  started(info: { stepsPerEpoch: number; resumed: EngineResumePoint | null; restart?: number }): Promise<void>;
  batch(record: MetricsRecord): Promise<void>;
  /** An epoch's records; the engine saves its checkpoint only after this resolves. */
  epoch(records: { metrics: MetricsRecord; layers: LayersRecord; histograms: HistogramsRecord }): Promise<void>;
  /** checkpoints/last holds the checkpoint of `epoch`, durable. */
  checkpoint(epoch: number): Promise<void>;
  log(level: 'info' | 'warn' | 'error', message: string): void;
  /** Called often while training (the lock's heartbeat). */
  alive(): void;
  /** Seconds of training in all sessions so far. */
  elapsed(): number;
}

/** How an engine's training ended. */
export type EngineOutcome =
  /** Every epoch trained; the final model is in paths.model. */
  | { kind: 'completed' }
  | { kind: 'cancelled'; epoch: number; during?: 'validation' }
  /** The loss of a batch was NaN or infinite (`lr`: the learning rate of that epoch). */
  | { kind: 'nonFinite'; loss: number; epoch: number; batch: number; step: number; lr: number }
  /** The engine stopped without saying how (a crashed process), or reported an error. */
  | { kind: 'failed'; reason: string };

/** A prepared run on one engine. */
export interface EngineSession {
  /** What config.json records about where the run computes. */
  readonly record: EngineRecordFields;
  /** Model sizes for summary.json. */
  readonly sizes: { fp32Bytes: number; ternaryBytes: number; compression: number };
  /** Trains from the resume point (or the start) to the end, telling `events` as it goes. */
  train(events: EngineEvents): Promise<EngineOutcome>;
  /** Frees what prepare took (models, tensors); called once, whatever happened. */
  dispose(): void;
}

export interface TrainingEngine {
  /** Checks, opens the data, builds the model: what can fail before the run folder exists. */
  prepare(ctx: EngineContext): Promise<EngineSession>;
}
