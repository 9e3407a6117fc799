/**
 * Which folder under the runs root holds an experiment's runs. Normally `<experiment>/`. Config
 * files in one folder share its runs root (`runs/` next to them, or the editor's
 * `ternary.runsFolder` resolved against that folder), so a copied config whose experiments keep
 * their names would mix its runs with the original's: then each of the configs that share the
 * name writes to `<experiment>@<config-stem>/` instead (`fashion-mnist.tern.json` →
 * `fmnist-cnn-tern@fashion-mnist/`). Run folders already written stay where they are and stay
 * readable: a run's `config.json` records its config file, which is how the editor tells them apart.
 */
import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { getNodeValue, parseTree } from 'jsonc-parser';
import { configStem } from '../../shared/runLabel';

const configSuffix = '.tern.json';

/** Experiment names of a config text, leniently (a broken sibling config shares nothing). */
export function experimentNamesOf(text: string): string[] {
  const tree = parseTree(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, [], { allowTrailingComma: true, disallowComments: false });
  const value = tree ? (getNodeValue(tree) as { experiments?: unknown } | undefined) : undefined;
  const list = Array.isArray(value?.experiments) ? value.experiments : [];
  return list.map((e: unknown) => (e as { name?: unknown } | null)?.name).filter((n): n is string => typeof n === 'string');
}

/** The other `*.tern.json` files in the config's folder that hold an experiment named `experiment`. */
export async function configsSharingName(configPath: string, experiment: string): Promise<string[]> {
  const self = resolve(configPath);
  const folder = dirname(self);
  let names: string[];
  try {
    names = (await readdir(folder)).filter((n) => n.endsWith(configSuffix)).sort();
  } catch {
    return [];
  }
  const sharing: string[] = [];
  for (const name of names) {
    const other = join(folder, name);
    if (other === self) continue;
    const text = await readFile(other, 'utf8').catch(() => undefined);
    if (text !== undefined && experimentNamesOf(text).includes(experiment)) sharing.push(other);
  }
  return sharing;
}

export interface ExperimentFolder {
  /** Folder name under the runs root. */
  folder: string;
  /** Other configs of the same folder with an experiment of this name (then `folder` carries the config's stem). */
  sharedWith: string[];
}

/** Where new runs of `experiment` of `configPath` go (see the file comment for the rule). */
export async function experimentFolder(configPath: string, experiment: string): Promise<ExperimentFolder> {
  const sharedWith = await configsSharingName(configPath, experiment);
  return { folder: sharedWith.length ? `${experiment}@${configStem(configPath)}` : experiment, sharedWith };
}

/** The warning for an experiment whose name another config of the folder also uses. */
export function sharedNameWarning(configPath: string, experiment: string, shared: ExperimentFolder): string {
  const others = shared.sharedWith.map((p) => basename(p)).join(', ');
  return (
    `"${experiment}" is also an experiment of ${others} in this folder: to keep their runs apart, ` +
    `runs of ${basename(configPath)} go to runs/${shared.folder}/ (rename the experiment to choose its folder).`
  );
}
