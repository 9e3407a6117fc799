/**
 * Test builds only (esbuild.mjs `--test-hooks`): a host → webview message with the time it was
 * posted, from which the webview times live updates (webview/shared/perf.ts). Not part of the
 * panel protocol; a shipped bundle does not contain it.
 */
export function stampForTests<M extends object>(message: M): M & { sentAt: number } {
  return { ...message, sentAt: Date.now() };
}
