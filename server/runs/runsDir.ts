/** The runs folder of a training job when none is given: `runs/` next to its config file (shared/runsFolder.ts). */
import { dirname, resolve } from 'node:path';
import { DEFAULT_RUNS_FOLDER } from '../../shared/runsFolder';

export function defaultRunsDir(configPath: string | undefined): string {
  return resolve(configPath ? dirname(configPath) : '.', DEFAULT_RUNS_FOLDER);
}
