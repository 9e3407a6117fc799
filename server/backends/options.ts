/**
 * `--backend` and `--threads`, shared by every command that computes (train, eval, bench, serve):
 * pulls them out of argv so each command's own parser sees only its own options.
 */
import { BACKEND_CHOICES, type BackendChoice, type BackendOptions } from './ladder';
import { UserError } from '../../shared/userError';
import { integerOption } from '../../shared/optionText';

export interface BackendArgs {
  options: BackendOptions;
  /** argv without the backend options, in the original order. */
  rest: string[];
}

/** A bad `--backend`/`--threads` value: the message names the option and the allowed values. */
export class BackendArgsError extends UserError {
  constructor(message: string) {
    super('invalidArgument', message);
    this.name = 'BackendArgsError';
  }
}

/**
 * Extracts `--backend B` / `--backend=B` and `--threads N` / `--threads=N` from argv.
 * Defaults: backend `auto`, threads unset (the ladder uses os.availableParallelism()).
 */
export function backendOptionsFromArgs(argv: readonly string[], defaults: Partial<BackendOptions> = {}): BackendArgs {
  const options: BackendOptions = { backend: defaults.backend ?? 'auto', threads: defaults.threads };
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const match = /^--(backend|threads)(?:=(.*))?$/.exec(arg);
    if (!match) {
      rest.push(arg);
      continue;
    }
    const [, name, inline] = match;
    const value = inline ?? argv[++i];
    if (value === undefined || value === '') throw new BackendArgsError(`--${name} needs a value`);
    if (name === 'backend') {
      if (!BACKEND_CHOICES.includes(value as BackendChoice)) {
        throw new BackendArgsError(`--backend '${value}' is not one of ${BACKEND_CHOICES.join(', ')}`);
      }
      options.backend = value as BackendChoice;
    } else {
      options.threads = integerOption('threads', value, 1, (message) => new BackendArgsError(message));
    }
  }
  return { options, rest };
}

/** Usage text for the shared options, for commands to append to their own. */
export const BACKEND_USAGE = `  --backend B     compute backend: ${BACKEND_CHOICES.join(' | ')} (default auto: the fastest that starts)
  --threads N     threads for backends that take a count (default: all cores)`;
