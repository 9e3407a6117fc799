/** A run's recorded history as the panels' `history` message (vscode-free, so it is unit-tested in Node). */
import { MessageType, type HistoryMessage } from '../../shared/webviewProtocol';
import type { PanelDeps } from './deps';
import type { RunIndex } from './runIndex';

/** A run's history as a message; a failure becomes an error naming the folder. */
export async function loadHistory(deps: PanelDeps, runs: RunIndex, runDir: string, histograms: boolean): Promise<HistoryMessage> {
  let history;
  try {
    history = await deps.readHistory(runDir, { histograms });
  } catch (err) {
    throw new Error(`Could not read the run in ${runDir}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return {
    type: MessageType.History,
    runDir,
    status: runs.isRunning(runDir) ? 'running' : history.status,
    metrics: history.metrics,
    layers: history.layers,
    histograms: history.histograms,
  };
}
