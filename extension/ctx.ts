/**
 * The context object that owns lifetimes (docs/extension.md, "Lifetimes, crashes, trust"): what
 * lives as long as the extension (hub, log, settings, views, commands) versus what lives as long
 * as one server process (the language client and its notification handlers). Restarting the
 * server disposes only the latter.
 */
import { formatQuantity } from '../shared/format';
import * as vscode from 'vscode';
import { State, type LanguageClient } from 'vscode-languageclient/node';
import type { CancellationToken, NotificationType, RequestType } from 'vscode-languageclient';
import {
  HistogramsNotification,
  LayerStatsNotification,
  MetricsNotification,
  QueuedNotification,
  RunEndedNotification,
  RunStartedNotification,
  type TernaryServerInfo,
} from '../shared/protocol';
import { TernaryConfig } from './config';
import type { RunEventHub } from './runEventHub';
import { createServerClient } from './serverClient';

/** Thrown by `Ctx.request` when there is no running server; commands turn it into a message with a restart offer. */
export class ServerNotRunningError extends Error {
  constructor(why: string) {
    super(`The Ternary training server is not running: ${why}`);
  }
}

export class Ctx implements vscode.Disposable {
  readonly config = new TernaryConfig();
  private client: LanguageClient | undefined;
  private clientCleanup: vscode.Disposable[] = [];
  private starting: Promise<void> | undefined;
  /** Why the server is not running (last start failure or crash), for messages. */
  private downReason = 'it has not been started yet';
  /** Set when the server died on its own: only an explicit restart brings it back (crash policy). */
  private crashed = false;
  /** Counts the server processes started: a request whose server went away sees it change. */
  private generation = 0;
  private readonly stateEmitter = new vscode.EventEmitter<boolean>();
  /** Fires true when the server is up, false when it went down. */
  readonly onDidChangeServerRunning = this.stateEmitter.event;

  constructor(
    readonly extension: vscode.ExtensionContext,
    readonly hub: RunEventHub,
    readonly log: vscode.LogOutputChannel,
  ) {
    this.pushExtCleanup(this.stateEmitter);
  }

  /** Registers something that lives as long as the extension. */
  pushExtCleanup(disposable: vscode.Disposable): void {
    this.extension.subscriptions.push(disposable);
  }

  /** Registers something that lives as long as the current server process. */
  pushClientCleanup(disposable: vscode.Disposable): void {
    this.clientCleanup.push(disposable);
  }

  get serverRunning(): boolean {
    return this.client?.state === State.Running;
  }

  /** Which server process runs now (a new number after each start). */
  get serverGeneration(): number {
    return this.generation;
  }

  /** What the server said about itself in `initialize`. */
  get serverInfo(): TernaryServerInfo | undefined {
    const experimental = this.client?.initializeResult?.capabilities.experimental as { ternary?: TernaryServerInfo } | undefined;
    return experimental?.ternary;
  }

  /** Starts the server unless it runs or is starting. Rejects with a message a user can act on. */
  start(): Promise<void> {
    if (this.serverRunning) return Promise.resolve();
    this.starting ??= this.doStart().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async doStart(): Promise<void> {
    let client: LanguageClient;
    try {
      client = createServerClient(this.extension.extensionUri, this.config, this.log, {
        onUnexpectedClose: () => this.onUnexpectedClose(),
      });
    } catch (error) {
      this.downReason = error instanceof Error ? error.message : String(error);
      throw error;
    }
    this.client = client;
    this.wireNotifications(client);
    try {
      await client.start();
    } catch (error) {
      this.downReason = `it failed to start (${error instanceof Error ? error.message : String(error)})`;
      this.disposeClientScope();
      this.client = undefined;
      throw new ServerNotRunningError(this.downReason.replace(/^it /, ''));
    }
    this.crashed = false;
    this.generation++;
    const info = this.serverInfo;
    this.log.info(`Training server started${info ? `: backend ${info.backend}, ${formatQuantity(info.threads, 'thread')}` : ''}.`);
    this.stateEmitter.fire(true);
  }

  /** The server's notifications feed the hub, which outlives every server process. */
  private wireNotifications(client: LanguageClient): void {
    const hub = this.hub;
    this.pushClientCleanup(client.onNotification(RunStartedNotification.type, (p) => hub.fireRunStarted(p)));
    this.pushClientCleanup(client.onNotification(MetricsNotification.type, (p) => hub.fireMetrics(p)));
    this.pushClientCleanup(client.onNotification(LayerStatsNotification.type, (p) => hub.fireLayerStats(p)));
    this.pushClientCleanup(client.onNotification(HistogramsNotification.type, (p) => hub.fireHistograms(p)));
    this.pushClientCleanup(client.onNotification(RunEndedNotification.type, (p) => hub.fireRunEnded(p)));
    this.pushClientCleanup(
      client.onNotification(QueuedNotification.type, (p) => {
        this.log.info(`Queued: ${p.experiment ?? p.configPath} waits for ${formatQuantity(p.position, 'job')}.`);
        hub.fireQueued(p);
      }),
    );
  }

  private onUnexpectedClose(): void {
    this.downReason = 'its process exited unexpectedly; run "Ternary: Restart Server"';
    this.crashed = true;
    // Runs are processes of their own (server/rpc/detachedTrain.ts): they go on, and the hub keeps
    // them as running until a server follows them again (extension/attachedRuns.ts).
    this.disposeClientScope();
    this.client = undefined;
    this.stateEmitter.fire(false);
    void vscode.window
      .showErrorMessage(
        'Ternary: the training server stopped unexpectedly. Runs in progress go on in their own processes; Restart Server to follow them again.',
        'Restart Server',
        'Show Server Log',
      )
      .then((choice) => {
        if (choice === 'Restart Server') void vscode.commands.executeCommand('ternary.restartServer');
        if (choice === 'Show Server Log') this.log.show();
      });
  }

  async stop(): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.client = undefined;
    this.downReason = 'it was stopped';
    try {
      if (client.state !== State.Stopped) await client.stop(5000);
    } catch (error) {
      this.log.warn(`Stopping the training server: ${error instanceof Error ? error.message : String(error)}`);
    }
    // Its runs are processes of their own and go on: the hub keeps them as running, and the next
    // server follows them again (extension/attachedRuns.ts), or tells how they ended meanwhile.
    this.disposeClientScope();
    this.stateEmitter.fire(false);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /**
   * Sends a request, starting the server first when it is down (one automatic attempt) — except
   * after a crash: then views refreshing in the background would respawn it silently, so requests
   * fail with a message that offers Restart Server until the user restarts it.
   */
  async request<P, R>(type: RequestType<P, R, void>, params: P, token?: CancellationToken): Promise<R> {
    if (!this.serverRunning) {
      if (this.crashed) throw new ServerNotRunningError(this.downReason);
      await this.start();
    }
    const client = this.client;
    if (!client || !this.serverRunning) throw new ServerNotRunningError(this.downReason);
    // The client's RequestParam<P> is P itself for the object params of this protocol.
    return client.sendRequest(type, params as never, token);
  }

  /** Sends a notification to the server; does nothing when it is down. */
  async notify<P>(type: NotificationType<P>, params: P): Promise<void> {
    if (this.client && this.serverRunning) await this.client.sendNotification(type, params as never);
  }

  /** The running client, for `$/progress` handlers. */
  get languageClient(): LanguageClient | undefined {
    return this.serverRunning ? this.client : undefined;
  }

  private disposeClientScope(): void {
    for (const disposable of this.clientCleanup.splice(0)) {
      try {
        disposable.dispose();
      } catch {
        /* already gone */
      }
    }
  }

  dispose(): void {
    void this.stop();
  }
}
