/**
 * Work-done progress (`$/progress` begin / report / end) for long jobs. The token is the client's
 * (`workDoneToken` in the request) or, when the client supports it, one the server creates with
 * `window/workDoneProgress/create`. Either way the progress is cancellable: the client's
 * `window/workDoneProgress/cancel` for the token stops the job, like `$/cancelRequest` does.
 */
import { WorkDoneProgress, WorkDoneProgressCreateRequest, type Connection, type ProgressToken } from 'vscode-languageserver/node';
import { randomUUID } from 'node:crypto';

export class JobProgress {
  private begun = false;
  private ended = false;
  private lastMessage = '';

  constructor(
    private readonly connection: Connection,
    readonly token: ProgressToken | undefined,
    private readonly title: string,
  ) {}

  /** Starts (first call) or updates the progress. */
  report(message: string, percentage?: number): void {
    if (!this.token || this.ended) return;
    const pct = percentage === undefined ? undefined : Math.max(0, Math.min(100, Math.round(percentage)));
    if (!this.begun) {
      this.begun = true;
      void this.connection.sendProgress(WorkDoneProgress.type, this.token, {
        kind: 'begin',
        title: this.title,
        message,
        percentage: pct,
        cancellable: true,
      });
    } else if (message !== this.lastMessage) {
      void this.connection.sendProgress(WorkDoneProgress.type, this.token, { kind: 'report', message, percentage: pct });
    }
    this.lastMessage = message;
  }

  done(message?: string): void {
    if (!this.token || this.ended) return;
    this.ended = true;
    if (this.begun) void this.connection.sendProgress(WorkDoneProgress.type, this.token, { kind: 'end', message });
  }
}

/** Hands out progress reporters and routes the client's progress cancellations to their jobs. */
export class ProgressRegistry {
  /** Whether the client said `window.workDoneProgress: true` (it can create tokens for us). */
  clientSupportsCreate = false;
  private readonly cancellers = new Map<ProgressToken, () => void>();

  constructor(private readonly connection: Connection) {}

  /** Called from `initialize`, after the library's own handler, so this one is the one kept. */
  listen(): void {
    this.connection.onNotification('window/workDoneProgress/cancel', (params: { token?: ProgressToken } | undefined) => {
      const token = params?.token;
      if (token !== undefined) this.cancellers.get(token)?.();
    });
  }

  /** A progress for a job: on the client's token, or a server-made one (if `createIfMissing`), or none (reports are dropped). */
  async open(
    title: string,
    clientToken: ProgressToken | undefined,
    onCancel: () => void,
    createIfMissing = true,
  ): Promise<{ progress: JobProgress; close(): void }> {
    let token = clientToken;
    if (token === undefined && createIfMissing && this.clientSupportsCreate) {
      const created = randomUUID();
      try {
        await this.connection.sendRequest(WorkDoneProgressCreateRequest.type, { token: created });
        token = created;
      } catch {
        token = undefined; // the client refused: run without progress
      }
    }
    const progress = new JobProgress(this.connection, token, title);
    if (token !== undefined) this.cancellers.set(token, onCancel);
    return {
      progress,
      close: () => {
        progress.done();
        if (token !== undefined) this.cancellers.delete(token);
      },
    };
  }
}
