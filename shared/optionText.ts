/**
 * Command-line option values typed as text, checked with one wording for every `tern` command
 * (server/cli/commands/, server/backends/options.ts): integers (`--epochs 3`) and comma-separated
 * lists (`--tex 1,2,4`). A bad value is the caller's error (a UserError `invalidArgument`: the
 * CLI's UsageError, server/cli/command.ts, printed with the command's usage). Numbers typed for the
 * quantization settings go through `numberFromText` and `parseQuant` (shared/quant.ts) instead.
 */

/** Makes the error for a bad option value from its message. */
export type OptionError = (message: string) => Error;

/** `--name`'s text as an integer ≥ `min` (1: a count, 0: may be none). */
export function integerOption(name: string, text: string, min: 0 | 1, error: OptionError): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min)
    throw error(`--${name} must be a ${min === 0 ? 'non-negative' : 'positive'} integer (got '${text}')`);
  return n;
}

/**
 * `--name`'s comma-separated text as a list of `allowed` values (each item read by `parse`),
 * without repeats, in the order given; empty items are skipped, an empty list is refused.
 */
export function listOption<T extends string | number>(
  name: string,
  text: string,
  allowed: readonly T[],
  parse: (item: string) => T,
  error: OptionError,
): T[] {
  const items = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(parse);
  if (!items.length || items.some((i) => !allowed.includes(i)))
    throw error(`--${name} takes a comma-separated list of ${allowed.join(', ')} (got '${text}')`);
  return [...new Set(items)];
}
