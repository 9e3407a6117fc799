/**
 * The `initialize` handshake: checks the client's options, lowers the process's CPU priority when
 * asked, starts the compute backend and says what the server is (backend, threads, versions,
 * methods) in `capabilities.experimental.ternary`. A second `initialize` is refused.
 */
import { ErrorCodes, ResponseError, type InitializeError, type InitializeResult } from 'vscode-languageserver/node';
import { formatQuantity } from '../../shared/format';
import { ternaryMethods } from '../../shared/protocol';
import { validateInitializationOptions } from './params';
import { lowerOwnPriority } from './priority';
import { DEFAULT_METRICS_RATE, type ServerCore } from './serverCore';

export function registerInitialize(core: ServerCore): void {
  const { connection, options } = core;
  connection.onInitialize(async (params): Promise<InitializeResult | ResponseError<InitializeError>> => {
    const refuse = (code: number, message: string) => new ResponseError<InitializeError>(code, message, { retry: false });
    if (core.info) return refuse(ErrorCodes.InvalidRequest, 'initialize: the server is already initialized.');
    let initOptions;
    try {
      initOptions = validateInitializationOptions(params?.initializationOptions);
    } catch (err) {
      return refuse(ErrorCodes.InvalidParams, (err as Error).message);
    }
    core.progress.clientSupportsCreate = params?.capabilities?.window?.workDoneProgress === true;
    core.progress.listen();
    core.outbox.setRate(initOptions.metricsRate ?? DEFAULT_METRICS_RATE);
    // Before the backend starts: its compute threads inherit the main thread's priority.
    const priority = initOptions.lowPriority ? lowerOwnPriority() : undefined;
    let backend;
    try {
      backend = await core.jobs.initialize({ backend: initOptions.backend, threads: initOptions.threads });
    } catch (err) {
      return refuse(ErrorCodes.InvalidParams, `initialize: the backend could not be started: ${(err as Error)?.message ?? String(err)}`);
    }
    const info = {
      backend: backend.backend,
      threads: backend.threads,
      versions: { ternaryStudio: options.version, node: process.versions.node, ...backend.versions },
      methods: [...ternaryMethods],
    };
    core.info = info;
    core.log('info', `Ternary training server ${options.version}: backend ${info.backend}, ${formatQuantity(info.threads, 'thread')}.`);
    if (priority && 'error' in priority)
      core.log('warn', `Could not lower the server's CPU priority (${priority.error}); training may slow the editor down.`);
    else if (priority) core.log('info', `CPU priority: nice ${priority.priority}, so the editor stays responsive while training.`);
    return { capabilities: { experimental: { ternary: info } }, serverInfo: { name: 'ternary-studio', version: options.version } };
  });
}
