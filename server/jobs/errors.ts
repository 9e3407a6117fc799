import { UserError } from '../../shared/userError';

/** A path that does not exist (a run folder, a model): code `notFound` with the path. */
export function notFound(what: string, path: string): UserError {
  return new UserError('notFound', `${what} not found: ${path}. Check the path (runs live in <runsDir>/<experiment>/<run-id>/).`, { path });
}
