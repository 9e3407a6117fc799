/** Training an experiment of a config, or resuming a run: `tern train` and the server's `ternary/train`. */
import { resolve } from 'node:path';
import { loadConfigFile, resolveExperiment } from '../config/loadConfig';
import { trainWithEngine, type EngineTrainOptions } from '../engines/dispatch';
import { defaultRunsDir } from '../runs';
import { sweepPointRun } from '../runs/sweep';
import type { TrainResult } from '../runs/trainTypes';

export interface TrainJob extends Omit<EngineTrainOptions, 'experiment' | 'runsDir'> {
  /** The experiment to train; may be omitted when the config holds one, or when resuming. */
  experiment?: string;
  /** Root of run folders; default: runs/ next to the config. */
  runsDir?: string;
  /** Train this point (0-based) of the experiment's sweep instead of the experiment as written (server/runs/sweep.ts). */
  sweepPoint?: number;
}

/**
 * Trains the config's experiment on its engine. A resumed run without an experiment named
 * continues the one its config.json records (server/runs/runFolder.ts), even when the config
 * holds several; with one named, the lifecycle checks that it is the run's.
 */
export async function trainExperiment(job: TrainJob): Promise<TrainResult> {
  const configPath = job.configPath === undefined ? undefined : resolve(job.configPath);
  const resumingUnnamed = job.resumeDir !== undefined && job.experiment === undefined;
  const experiment =
    configPath === undefined || resumingUnnamed ? undefined : resolveExperiment(await loadConfigFile(configPath), job.experiment);
  // A sweep's point: the experiment with the point's settings, tagged. A resume keeps its run's own.
  const point =
    job.sweepPoint !== undefined && experiment && job.resumeDir === undefined ? sweepPointRun(experiment, job.sweepPoint) : undefined;
  const { sweepPoint: _point, ...engineJob } = job;
  return trainWithEngine({
    ...engineJob,
    ...(point ? { sweep: point.sweep } : {}),
    // The lifecycle takes the resumed run's own experiment when none is resolved here.
    experiment: (point?.experiment ?? experiment)!,
    configPath,
    runsDir: job.runsDir !== undefined ? resolve(job.runsDir) : defaultRunsDir(configPath),
  });
}
