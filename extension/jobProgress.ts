/**
 * Where a training job stands, from what the server reports of its run (extension/jobs.ts keeps
 * one per job): its run, the epochs completed, the overall fraction done. A run joined part-way
 * (a resume, or a run followed after a window reload) starts from the epochs it had completed,
 * not from zero.
 */
import { epochPosition, observePace, type RunPace } from '../shared/progressText';
import type { MetricsRecord } from '../shared/runRecords';

export interface JobStanding {
  /** Known once the server reported `runStarted` for the job's run (or from the start, for a resume). */
  runId?: string;
  runDir?: string;
  /** The epoch of the latest record (the one in progress, or the one just ended). */
  epoch: number;
  /** Epochs completed. */
  completed: number;
  epochs: number;
  /** Overall fraction done, 0..1. */
  fraction: number;
  /** Images a second and time left (shared/progressText.ts). */
  pace: RunPace;
}

/** The job's run: its id, folder, length and the epochs it had completed when it was joined. */
export function joinRun(job: JobStanding, run: { runId: string; runDir: string; epochs: number; epoch: number }): void {
  job.runId = run.runId;
  job.runDir = run.runDir;
  job.epochs = run.epochs;
  job.completed = Math.max(job.completed, run.epoch);
  job.epoch = Math.max(job.epoch, run.epoch);
  if (run.epochs > 0) job.fraction = Math.max(job.fraction, Math.min(1, run.epoch / run.epochs));
}

/** Moves the standing on with the run's new metrics records. */
export function advanceJob(job: JobStanding, records: readonly MetricsRecord[]): void {
  const last = records[records.length - 1];
  if (!last) return;
  job.epoch = last.epoch;
  job.completed = Math.max(job.completed, ...records.filter((r) => r.kind === 'epoch').map((r) => r.epoch));
  if (job.epochs > 0) job.fraction = Math.min(1, Math.max(job.fraction, epochPosition(last) / job.epochs));
  observePace(job.pace, records, job.epochs);
}
