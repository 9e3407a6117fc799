/** The one handle to the host: typed postMessage and the state VS Code keeps across reloads. */
import { type HostToWebviewMessage, type WebviewToHostMessage, MessageType } from '../../shared/webviewProtocol';

interface VsCodeApi<S> {
  postMessage(message: WebviewToHostMessage): void;
  getState(): S | undefined;
  setState(state: S): void;
}
declare function acquireVsCodeApi<S>(): VsCodeApi<S>;

/** `M`: the messages of this panel's host (shared/webviewProtocol.ts). */
export interface HostConnection<S, M extends HostToWebviewMessage> {
  post(message: WebviewToHostMessage): void;
  getState(): S | undefined;
  setState(state: S): void;
  onMessage(handler: (message: M) => void): void;
}

/** acquireVsCodeApi may be called once per page load; call this once in main. */
export function connectToHost<S, M extends HostToWebviewMessage>(): HostConnection<S, M> {
  const api = acquireVsCodeApi<S>();
  return {
    post: (m) => api.postMessage(m),
    // A panel re-created by the host (not restored by VS Code) gets its last state in data-state.
    getState: () => api.getState() ?? initialState<S>(),
    setState: (s) => {
      api.setState(s);
      api.postMessage({ type: MessageType.State, state: s as never });
    },
    onMessage: (handler) =>
      window.addEventListener('message', (e: MessageEvent<M>) => {
        // Messages come from the host frame only; anything without our `type` is ignored.
        if (e.data && typeof e.data === 'object' && typeof e.data.type === 'string') handler(e.data);
      }),
  };
}

function initialState<S>(): S | undefined {
  const text = document.getElementById('app')?.dataset.state;
  if (!text) return undefined;
  try {
    return JSON.parse(text) as S;
  } catch {
    return undefined;
  }
}
