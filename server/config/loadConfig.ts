/**
 * Loads `*.tern.json` files: JSON with comments, validated against `tern.schema.json`, with the
 * schema's defaults applied. Every error names the file, the line:column and the property path
 * (`experiments[0].train.lr`) and says what was expected.
 */
import { readFile } from 'node:fs/promises';
import { checkConfigText } from './checkConfig';
import type { ExperimentConfig } from '../../shared/experimentConfig';
import { UserError } from '../../shared/userError';

/** A loaded config file: its experiments with defaults applied, and where it came from. */
export interface ConfigFile {
  path: string;
  experiments: ExperimentConfig[];
}

export { formatPropertyPath } from './checkConfig';

/** A config file that cannot be used: where (file, line:column, property) and what to do. */
export class ConfigError extends UserError {
  constructor(
    readonly file: string,
    /** Property path like `experiments[0].train.lr`; undefined for file-level problems. */
    readonly property: string | undefined,
    readonly detail: string,
    readonly line?: number,
    readonly column?: number,
  ) {
    const where = line !== undefined ? `${file}:${line}:${column ?? 1}` : file;
    super('invalidConfig', `${where}: ${property ? `${property}: ` : ''}${detail}`, {
      file,
      property,
      line,
      column: line !== undefined ? (column ?? 1) : column,
    });
    this.name = 'ConfigError';
  }
}

/** Parses and validates config text; `file` is used in messages and stored as the config's path. */
export function parseConfigText(text: string, file: string): ConfigFile {
  const checked = checkConfigText(text, file);
  const first = checked.problems.find((p) => p.severity === 'error');
  if (first || !checked.config) {
    const problem = first ?? checked.problems[0];
    const errors = checked.problems.filter((p) => p.severity === 'error').length;
    const more = errors > 1 ? ` (${errors - 1} more problem${errors > 2 ? 's' : ''} in this file)` : '';
    return throwError(
      new ConfigError(file, problem?.property, `${problem?.detail ?? 'is invalid.'}${more}`, problem?.line, problem?.column),
    );
  }
  return checked.config;
}

function throwError(err: Error): never {
  throw err;
}

/** The text of a `*.tern.json` file. Throws ConfigError when it is missing or unreadable. */
export async function readConfigText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(
      path,
      undefined,
      code === 'ENOENT' ? 'file not found; check the path.' : `cannot be read (${code ?? String(err)}).`,
    );
  }
}

/** Reads, parses and validates a `*.tern.json` file. Throws ConfigError. */
export async function loadConfigFile(path: string): Promise<ConfigFile> {
  return parseConfigText(await readConfigText(path), path);
}

/** The experiment to run: by name, or the only one. Throws ConfigError listing the names otherwise. */
export function resolveExperiment(config: ConfigFile, name?: string): ExperimentConfig {
  const names = config.experiments.map((e) => e.name);
  if (name === undefined) {
    if (config.experiments.length === 1) return config.experiments[0]!;
    throw new ConfigError(
      config.path,
      undefined,
      `holds ${names.length} experiments (${names.join(', ')}); choose one with --experiment NAME.`,
    );
  }
  const found = config.experiments.find((e) => e.name === name);
  if (!found) throw new ConfigError(config.path, undefined, `has no experiment named "${name}"; its experiments are: ${names.join(', ')}.`);
  return found;
}
