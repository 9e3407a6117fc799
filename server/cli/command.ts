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
export class UsageError extends Error {}
