/**
 * One webview panel of a kind (docs/panels.md, Architecture): `show` reveals the open panel instead of making a
 * second one, a serializer hands back the panel VS Code restores after a reload, and every
 * listener dies with the panel.
 */
import * as vscode from 'vscode';
import {
  type CommonHostMessage,
  type HostToWebviewMessage,
  type WebviewToHostMessage,
  MessageType,
  isWebviewToHostMessage,
} from '../../shared/webviewProtocol';
import { makeNonce, panelHtml } from './html';
import { heldReadyForTests } from './testReadyGate';
import { stampForTests } from './testStamp';

/** `true` only in test builds (esbuild.mjs `--test-hooks`); a shipped bundle drops what it guards. */
declare const TERNARY_TEST_HOOKS: boolean;

export interface PanelKind {
  viewType: string;
  title: string;
  /** Bundle name under dist/webview (`dashboard` → dist/webview/dashboard.js). */
  bundle: string;
}

/** Webview options: scripts on, resources only from the webview bundle and its media. */
export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return {
    enableScripts: true,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(extensionUri, 'media', 'webview')],
  };
}

/** `M`: the messages this panel's webview is sent (shared/webviewProtocol.ts). */
export abstract class SingletonPanel<M extends HostToWebviewMessage> implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private panelListeners: vscode.Disposable[] = [];
  /** The webview announced itself (`ready`) since it was last (re)loaded. */
  private ready = false;
  /** Ends the "loading" progress of the webview being loaded. */
  private loaded: (() => void) | undefined;
  /** Messages for a webview that is still loading. */
  private queued: (M | CommonHostMessage)[] = [];
  protected readonly disposables: vscode.Disposable[] = [];

  protected constructor(
    protected readonly context: vscode.ExtensionContext,
    private readonly kind: PanelKind,
  ) {}

  protected get extensionUri(): vscode.Uri {
    return this.context.extensionUri;
  }

  private get stateKey(): string {
    return `ternary.panelState.${this.kind.viewType}`;
  }

  get isOpen(): boolean {
    return this.panel !== undefined;
  }

  /** Reveal the panel, creating it when none is open. */
  protected async reveal(): Promise<void> {
    if (this.panel) {
      this.panel.reveal(undefined, false);
      return;
    }
    // After a reload VS Code restores a hidden panel's tab but calls the serializer only when
    // the tab is first shown. Such a tab would become a second panel of this kind: close it;
    // the new panel starts from the state its webview last reported.
    const stale = vscode.window.tabGroups.all
      .flatMap((g) => g.tabs)
      .filter((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith(this.kind.viewType));
    const column = stale[0]?.group.viewColumn ?? vscode.ViewColumn.Active;
    if (stale.length) await vscode.window.tabGroups.close(stale, true);
    // Retained when hidden: users flip between the two panels while a run trains, and a reload
    // (new webview, service worker, history read again) took 1.4-2.2 s per tab switch in
    // code-server during a run. A hidden webview keeps receiving live messages but draws nothing
    // (Chromium does not run animation frames in hidden frames; renders are per frame).
    const panel = vscode.window.createWebviewPanel(
      this.kind.viewType,
      this.kind.title,
      { viewColumn: column, preserveFocus: false },
      { ...webviewOptions(this.extensionUri), enableFindWidget: false, retainContextWhenHidden: true },
    );
    this.attach(panel, true);
  }

  /** Adopt a panel that VS Code restored after a reload (called by the serializer). */
  adopt(panel: vscode.WebviewPanel): void {
    if (this.panel && this.panel !== panel) this.panel.dispose();
    panel.webview.options = webviewOptions(this.extensionUri);
    this.attach(panel);
  }

  private attach(panel: vscode.WebviewPanel, fresh = false): void {
    this.panel = panel;
    this.ready = false;
    this.announceLoading();
    const webview = panel.webview;
    const bundle = vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview', `${this.kind.bundle}.js`);
    const style = vscode.Uri.joinPath(this.extensionUri, 'media', 'webview', 'panels.css');
    webview.html = panelHtml({
      title: this.kind.title,
      cspSource: webview.cspSource,
      nonce: makeNonce(),
      scriptUri: webview.asWebviewUri(bundle).toString(),
      styleUri: webview.asWebviewUri(style).toString(),
      initialState: fresh ? this.context.workspaceState.get(this.stateKey) : undefined,
    });
    this.panelListeners.push(
      webview.onDidReceiveMessage((message: unknown) => {
        if (!isWebviewToHostMessage(message)) return;
        // Test builds may hold `ready` back to show the loading state (testReadyGate.ts).
        if (TERNARY_TEST_HOOKS && message.type === MessageType.Ready && heldReadyForTests(() => this.receive(panel, message))) return;
        this.receive(panel, message);
      }),
      panel.onDidChangeViewState(() => this.postOrQueue({ type: MessageType.Visibility, visible: panel.visible })),
      panel.onDidDispose(() => this.detach(panel)),
    );
  }

  private receive(panel: vscode.WebviewPanel, message: WebviewToHostMessage): void {
    if (this.panel !== panel) return;
    if (message.type === MessageType.Ready) this.markReady();
    if (message.type === MessageType.State) {
      void this.context.workspaceState.update(this.stateKey, message.state);
      return;
    }
    this.handle(message).catch((err: unknown) => this.post({ type: MessageType.Error, message: errorText(err) }));
  }

  private markReady(): void {
    this.ready = true;
    this.loaded?.();
    this.loaded = undefined;
  }

  /**
   * Says that the panel is loading while it is blank. VS Code writes a webview's HTML into its
   * frame only once the webview service worker is ready, and shows the frame only after its
   * script ran, so nothing in the panel's own HTML can show meanwhile; in code-server a panel
   * opened while a run trains waited up to 40 s for that (docs/extension.md). Shown after a
   * second, gone when the webview says `ready` or the panel closes.
   */
  private announceLoading(): void {
    this.loaded?.();
    const done = new Promise<void>((resolve) => {
      this.loaded = resolve;
    });
    const timer = setTimeout(() => {
      void vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Ternary: loading the ${this.kind.title} panel…` },
        () => done,
      );
    }, 1000);
    void done.then(() => clearTimeout(timer));
  }

  /** Send what waited for the webview; called by subclasses after answering `ready`. */
  protected flushQueued(): void {
    const queued = this.queued;
    this.queued = [];
    for (const m of queued) this.post(m);
  }

  private detach(panel: vscode.WebviewPanel): void {
    if (this.panel !== panel) return;
    this.panel = undefined;
    this.ready = false;
    this.loaded?.();
    this.loaded = undefined;
    this.queued = [];
    for (const d of this.panelListeners) d.dispose();
    this.panelListeners = [];
  }

  /** Post to a loaded webview; dropped when none is open or it is not loaded (it reloads history on `ready`). */
  protected post(message: M | CommonHostMessage): void {
    if (!this.panel || !this.ready) return;
    // Test builds stamp the send time, so the panels' e2e tests can time live updates (webview/shared/perf.ts).
    void this.panel.webview.postMessage(TERNARY_TEST_HOOKS ? stampForTests(message) : message);
  }

  /** Post now if the webview is loaded, else when it says `ready`. */
  protected postOrQueue(message: M | CommonHostMessage): void {
    if (this.panel && this.ready) void this.panel.webview.postMessage(message);
    else this.queued.push(message);
  }

  protected abstract handle(message: WebviewToHostMessage): Promise<void>;

  dispose(): void {
    this.panel?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
