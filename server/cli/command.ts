import { isUserError, UserError } from '../../shared/userError';
import { fileSystemError } from '../runs/fsErrors';

/** A `tern` sub-command: one module per command under `server/cli/commands/`. */
export interface CliCommand {
  /** One line for `tern help`. */
  summary: string;
  /** Usage line(s), shown by `tern help <command>` and on bad arguments. */
  usage: string;
  /** Runs the command; resolves to the process exit code (0 on success). */
  run(argv: string[]): Promise<number>;
}

/** A user mistake on the command line: printed as `tern <cmd>: <message>` plus usage, exit code 2. */
export class UsageError extends UserError {
  constructor(message: string) {
    super('invalidArgument', message);
    this.name = 'UsageError';
  }
}

/**
 * Runs `parse` (node:util's parseArgs, backendOptionsFromArgs): what parseArgs refuses becomes a
 * UsageError; the project's own option checks already throw `invalidArgument` UserErrors.
 */
export function parsingArgs<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if ((err as { code?: unknown }).code?.toString().startsWith('ERR_PARSE_ARGS')) throw new UsageError((err as Error).message);
    throw err;
  }
}

/** The command's one positional argument; `missing` is the message when there is none. More are a UsageError. */
export function onePositional(positionals: readonly string[], missing: string): string {
  const [target, ...extra] = positionals;
  if (!target) throw new UsageError(missing);
  if (extra.length) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  return target;
}

/** A UsageError from its message, for the option checks of shared/optionText.ts. */
export const usageError = (message: string): UsageError => new UsageError(message);

/**
 * Runs a command's work. A user's mistake there (a UserError: bad config, data or model, a
 * missing file or backend) is printed as `tern <name>: <message>` and exits 1; a bad argument
 * (`invalidArgument`) goes on to server/cli/main.ts, which adds the usage and exits 2; anything
 * else is a bug and keeps its stack.
 */
export async function reportingUserErrors(name: string, err: NodeJS.WritableStream, work: () => Promise<number>): Promise<number> {
  try {
    return await work();
  } catch (caught) {
    const mistake = userMistakeOf(caught);
    if (!mistake || mistake.code === 'invalidArgument') throw mistake ?? caught;
    err.write(`tern ${name}: ${mistake.message}\n`);
    return 1;
  }
}

/**
 * What was thrown as the user's mistake (a UserError, by its code), or undefined for a bug. The
 * file system's refusals (a full disk, a read-only or an --out that is a file) are the user's to
 * fix too, and become `fileSystem` naming the path.
 */
export function userMistakeOf(caught: unknown): UserError | undefined {
  const err = fileSystemError(caught) ?? caught;
  return isUserError(err) ? err : undefined;
}
