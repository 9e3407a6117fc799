/**
 * How a run or an experiment is named to the user. Two configs may hold experiments of the same
 * name (a copied config); their runs are then told apart by the config, written as the runs
 * folder writes it (server/config/experimentFolder.ts): `<experiment>@<config-stem>`. Pure.
 */

const CONFIG_SUFFIX = '.tern.json';

/** `fashion-mnist` for `…/fashion-mnist.tern.json`. */
export function configStem(configPath: string): string {
  const name = configPath.split(/[\\/]/).pop() ?? configPath;
  return name.endsWith(CONFIG_SUFFIX) ? name.slice(0, -CONFIG_SUFFIX.length) : name.replace(/\.json$/, '');
}

interface Named {
  experiment: string;
  /** The config file the run or experiment belongs to, when known. */
  configPath?: string;
}

/**
 * The experiment's name, with its config's stem when another config among `others` has an
 * experiment of the same name: `fmnist-cnn-tern@fashion-mnist`.
 */
export function experimentLabel(item: Named, others: readonly Named[]): string {
  if (item.configPath === undefined) return item.experiment;
  const shared = others.some((o) => o.experiment === item.experiment && o.configPath !== undefined && o.configPath !== item.configPath);
  return shared ? `${item.experiment}@${configStem(item.configPath)}` : item.experiment;
}
