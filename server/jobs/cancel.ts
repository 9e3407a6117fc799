import { UserError } from '../../shared/userError';

/**
 * Checked between the steps of short jobs, which are not worth interrupting mid-way. The server
 * answers a cancelled request as RequestCancelled (server/rpc/errors.ts) by this code.
 */
export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new UserError('cancelled', 'Cancelled.');
}
