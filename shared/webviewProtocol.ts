/**
 * Messages between the panel hosts (extension host) and the panel webviews (browser), both
 * directions, one union per direction, discriminated by `type` (as hexeditor's
 * `shared/protocol.ts`; docs/panels.md). Imported by `extension/panels/*` and `webview/*`. It imports only TYPES
 * from the server protocol, so the webview bundle never pulls in `vscode`, tfjs or the JSON-RPC
 * runtime.
 */
import type { HistogramsRecord, LayerStats, LayersRecord, MetricsRecord, RunInfo, RunStatus, WeightHistogram } from './protocol';
import type { TradeoffRow } from './sweep';

export type { HistogramsRecord, LayerStats, LayersRecord, MetricsRecord, RunInfo, RunStatus, WeightHistogram };

/** View types of the two panels (also the serializer keys). */
export const DashboardViewType = 'ternary.dashboard';
export const HistogramsViewType = 'ternary.histograms';
export const TradeoffViewType = 'ternary.tradeoff';

export enum MessageType {
  // webview → host
  Ready = 'ready',
  LoadRuns = 'loadRuns',
  SaveFile = 'saveFile',
  State = 'state',
  OpenRun = 'openRun',
  // host → webview
  Runs = 'runs',
  Select = 'select',
  History = 'history',
  Metrics = 'metrics',
  Layers = 'layers',
  Histograms = 'histograms',
  RunStarted = 'runStarted',
  RunEnded = 'runEnded',
  Saved = 'saved',
  Error = 'error',
  Visibility = 'visibility',
  Tradeoff = 'tradeoff',
}

// ---------------------------------------------------------------------------------------------
// webview → host

/** The webview booted (also after a window reload); it asks for the run list. */
export interface ReadyMessage {
  type: MessageType.Ready;
}
/** Load the recorded history of these runs (answered by one `history` message per run). */
export interface LoadRunsMessage {
  type: MessageType.LoadRuns;
  runDirs: string[];
  /** Include the per-epoch weight histograms (the histograms panel needs them; they are the bulk). */
  histograms: boolean;
}
/** Ask the user where to save an export and write it there. */
export interface SaveFileMessage {
  type: MessageType.SaveFile;
  /** `png`: `content` is a `data:image/png;base64,…` URL; `csv`: `content` is the text. */
  format: 'png' | 'csv';
  content: string;
  /** Suggested file name (no folder). */
  fileName: string;
}
/**
 * The panel's state changed. The webview keeps it with setState (for the serializer); the host
 * keeps a copy too, for a panel it must re-create (a restored tab that was never shown).
 */
export interface StateMessage {
  type: MessageType.State;
  state: DashboardState | HistogramsState | TradeoffState;
}
/** Trade-off panel: the user clicked a run's point; the host opens it in the dashboard. */
export interface OpenRunMessage {
  type: MessageType.OpenRun;
  runDir: string;
}
export type WebviewToHostMessage = ReadyMessage | LoadRunsMessage | SaveFileMessage | StateMessage | OpenRunMessage;

// ---------------------------------------------------------------------------------------------
// host → webview

/** The runs found on disk (running ones included), newest first. */
export interface RunsMessage {
  type: MessageType.Runs;
  runs: RunInfo[];
}
/** Show these runs (the command's argument: a tree item, a code lens, the status bar). */
export interface SelectMessage {
  type: MessageType.Select;
  runDirs: string[];
  /** Histograms panel: the layer to show. */
  layer?: string;
}
/** Everything recorded so far in one run folder. */
export interface HistoryMessage {
  type: MessageType.History;
  runDir: string;
  status?: RunStatus;
  metrics: MetricsRecord[];
  layers: LayersRecord[];
  histograms: HistogramsRecord[];
}
/** Live metrics of a running run. */
export interface MetricsMessage {
  type: MessageType.Metrics;
  runDir: string;
  records: MetricsRecord[];
}
/** Live per-layer stats at the end of an epoch. */
export interface LayersMessage {
  type: MessageType.Layers;
  runDir: string;
  record: LayersRecord;
}
/** Live weight histograms at the end of an epoch. */
export interface HistogramsMessage {
  type: MessageType.Histograms;
  runDir: string;
  record: HistogramsRecord;
}
/** A run began: the dashboard adds it to its selection. */
export interface RunStartedMessage {
  type: MessageType.RunStarted;
  runDir: string;
}
export interface RunEndedMessage {
  type: MessageType.RunEnded;
  runDir: string;
  status: RunStatus;
}
/** An export was written. */
export interface SavedMessage {
  type: MessageType.Saved;
  path: string;
}
/** Something failed on the host side; shown in the panel. With `runDir`: that run could not be read (the panel drops it). */
export interface ErrorMessage {
  type: MessageType.Error;
  message: string;
  runDir?: string;
}
/**
 * The panel's tab was hidden or shown. The webview is kept when hidden (retainContextWhenHidden)
 * and sees no change of its own (document.visibilityState stays "visible"), so the host says it:
 * a hidden panel keeps its data current but draws nothing.
 */
export interface VisibilityMessage {
  type: MessageType.Visibility;
  visible: boolean;
}
/** Trade-off panel: one row per run it shows (shared/sweep.ts), float baselines included. */
export interface TradeoffMessage {
  type: MessageType.Tradeoff;
  /** What the rows are: `sweep tiny~1a2b3c4d` or `runs`. */
  title: string;
  rows: TradeoffRow[];
}
/** What both panels are sent. */
export type CommonHostMessage =
  | RunsMessage
  | SelectMessage
  | HistoryMessage
  | LayersMessage
  | RunStartedMessage
  | RunEndedMessage
  | SavedMessage
  | ErrorMessage
  | VisibilityMessage;
/** What the Dashboard is sent: the common set and live metrics. */
export type DashboardHostMessage = CommonHostMessage | MetricsMessage;
/** What the Weight histograms panel is sent: the common set and live histograms. */
export type HistogramsHostMessage = CommonHostMessage | HistogramsMessage;
/** What the Trade-off panel is sent: its rows, errors and its visibility. */
export type TradeoffHostMessage = TradeoffMessage | ErrorMessage | VisibilityMessage;
export type HostToWebviewMessage = DashboardHostMessage | HistogramsHostMessage | TradeoffHostMessage;

// ---------------------------------------------------------------------------------------------
// State kept by the webview with `vscode.setState` and handed to the serializer after a reload.

export interface DashboardState {
  runDirs: string[];
  /** EMA weight 0..0.99 (0 = raw). */
  smoothing: number;
  logScale: boolean;
  /** Run whose per-layer sparsity is drawn. */
  sparsityRunDir?: string;
}
export interface TradeoffState {
  /** x axis: bits per weight (model size) or sparsity. */
  view: 'bits' | 'sparsity';
}
export interface HistogramsState {
  runDir?: string;
  layer?: string;
  /** Epoch shown; undefined = follow the newest. */
  epoch?: number;
}

/** Narrowing guard for messages coming from the webview (untrusted input to the host). */
export function isWebviewToHostMessage(value: unknown): value is WebviewToHostMessage {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as { type?: unknown; runDirs?: unknown; format?: unknown; content?: unknown; fileName?: unknown };
  switch (m.type) {
    case MessageType.Ready:
      return true;
    case MessageType.LoadRuns:
      return Array.isArray(m.runDirs) && m.runDirs.every((d) => typeof d === 'string');
    case MessageType.State:
      return typeof (value as { state?: unknown }).state === 'object' && (value as { state?: unknown }).state !== null;
    case MessageType.SaveFile:
      return (m.format === 'png' || m.format === 'csv') && typeof m.content === 'string' && typeof m.fileName === 'string';
    case MessageType.OpenRun:
      return typeof (value as { runDir?: unknown }).runDir === 'string';
    default:
      return false;
  }
}
