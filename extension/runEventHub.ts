/**
 * The extension's single fan-out point for what the training server reports (run started,
 * metrics, layer stats, histograms, run ended). The language client feeds it; tree views, the
 * status bar and the webview panels subscribe. Lives as long as the extension, across server
 * restarts, so subscribers never need to re-subscribe.
 */
import * as vscode from 'vscode';
import type { HistogramsParams, LayerStatsParams, MetricsParams, QueuedParams, RunEndedParams, RunStartedParams } from '../shared/protocol';

export class RunEventHub implements vscode.Disposable {
  private readonly started = new vscode.EventEmitter<RunStartedParams>();
  private readonly metrics = new vscode.EventEmitter<MetricsParams>();
  private readonly layerStats = new vscode.EventEmitter<LayerStatsParams>();
  private readonly histograms = new vscode.EventEmitter<HistogramsParams>();
  private readonly ended = new vscode.EventEmitter<RunEndedParams>();
  private readonly runsChanged = new vscode.EventEmitter<void>();
  private readonly queued = new vscode.EventEmitter<QueuedParams>();

  readonly onRunStarted = this.started.event;
  readonly onMetrics = this.metrics.event;
  readonly onLayerStats = this.layerStats.event;
  readonly onHistograms = this.histograms.event;
  readonly onRunEnded = this.ended.event;
  /** A train request waits in the server's queue (its place, 1 = next). */
  readonly onQueued = this.queued.event;
  /** The user changed runs on disk (a note written, a run deleted): lists of runs are to be read again. */
  readonly onRunsChanged = this.runsChanged.event;

  /** Runs in progress, by run id. */
  readonly active = new Map<string, RunStartedParams>();

  fireRunStarted(p: RunStartedParams): void {
    this.active.set(p.runId, p);
    this.started.fire(p);
  }
  fireMetrics(p: MetricsParams): void {
    this.metrics.fire(p);
  }
  fireLayerStats(p: LayerStatsParams): void {
    this.layerStats.fire(p);
  }
  fireHistograms(p: HistogramsParams): void {
    this.histograms.fire(p);
  }
  fireRunEnded(p: RunEndedParams): void {
    this.active.delete(p.runId);
    this.ended.fire(p);
  }

  fireQueued(p: QueuedParams): void {
    this.queued.fire(p);
  }

  fireRunsChanged(): void {
    this.runsChanged.fire();
  }

  dispose(): void {
    for (const e of [this.started, this.metrics, this.layerStats, this.histograms, this.ended, this.runsChanged, this.queued]) e.dispose();
  }
}
