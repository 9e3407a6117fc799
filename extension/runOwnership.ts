/**
 * Which config's experiment a run belongs to. Configs in one folder share a runs folder, so two
 * of them may have an experiment of the same name (a copied config); new runs then go to
 * separate folders (server/config/experimentFolder.ts), but runs written before, or by a config
 * that has since moved, are only told apart by the config file their `config.json` records.
 * Pure (no `vscode`), unit-tested.
 */
import * as path from 'node:path';

export interface OwnedRun {
  experiment: string;
  /** The config file recorded in the run's config.json, when there is one. */
  configPath?: string;
}

function samePath(a: string, b: string): boolean {
  return path.resolve(a) === path.resolve(b);
}

/**
 * Whether `run` shows under experiment `experiment` of `configPath`. `claimants` are the configs
 * sharing this runs folder that have an experiment of that name. A run recorded as started from
 * one of them belongs to that one only; a run with no recorded config, or recorded from a config
 * that is not a claimant any more (moved, renamed), shows under every claimant: better twice than
 * nowhere.
 */
export function belongsTo(run: OwnedRun, experiment: string, configPath: string, claimants: readonly string[]): boolean {
  if (run.experiment !== experiment) return false;
  if (run.configPath === undefined) return true;
  if (samePath(run.configPath, configPath)) return true;
  return !claimants.some((c) => samePath(c, run.configPath!));
}
