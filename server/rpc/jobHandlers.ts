/**
 * The requests that are not training: tfjs jobs (evaluate, ternarize, stats) wait in the same
 * queue as training, since they share the backend (export too: it runs the exported models);
 * file work without tfjs (list runs, run history, config validation) is answered at once, so it
 * works while a run trains.
 */
import type { CancellationToken } from 'vscode-languageserver/node';
import {
  EvaluateRequest,
  ExportRequest,
  ListRunsRequest,
  RunHistoryRequest,
  StatsRequest,
  TernarizeRequest,
  ValidateConfigRequest,
  SweepPlanRequest,
} from '../../shared/protocol';
import { toResponseError } from './errors';
import type { JobKind } from './jobQueue';
import {
  validateEvaluateParams,
  validateExportParams,
  validateListRunsParams,
  validateRunHistoryParams,
  validateStatsParams,
  validateTernarizeParams,
  validateValidateConfigParams,
  validateSweepPlanParams,
  type WithProgress,
} from './params';
import type { ServerCore } from './serverCore';

export function registerJobs(core: ServerCore): void {
  const { jobs } = core;
  exclusive(core, EvaluateRequest.method, 'evaluate', 'Evaluating', validateEvaluateParams, (p, s) => jobs.evaluate(p, s));
  exclusive(core, TernarizeRequest.method, 'ternarize', 'Ternarizing', validateTernarizeParams, (p, s) => jobs.ternarize(p, s));
  exclusive(core, StatsRequest.method, 'stats', 'Computing layer statistics', validateStatsParams, (p, s) => jobs.stats(p, s));
  // Export runs the model (ONNX, stock tfjs and .tern parity checks): a tfjs job like the others.
  exclusive(core, ExportRequest.method, 'export', 'Exporting', validateExportParams, (p, s, report) => jobs.export(p, s, report));
  immediate(core, ListRunsRequest.method, validateListRunsParams, (p) => jobs.listRuns(p));
  immediate(core, RunHistoryRequest.method, validateRunHistoryParams, (p) => jobs.runHistory(p));
  immediate(core, ValidateConfigRequest.method, validateValidateConfigParams, (p) => jobs.validateConfig(p));
  immediate(core, SweepPlanRequest.method, validateSweepPlanParams, (p) => jobs.sweepPlan(p));
}

/** A tfjs job through the queue; a client's `workDoneToken` gets begin (waiting/running) and end. */
function exclusive<P extends WithProgress, R>(
  core: ServerCore,
  method: string,
  kind: JobKind,
  title: string,
  validate: (raw: unknown) => P,
  work: (params: Omit<P, 'workDoneToken'>, signal: AbortSignal, report: (message: string) => void) => Promise<R>,
): void {
  core.connection.onRequest(method, async (raw: unknown, token: CancellationToken) => {
    core.requireInitialized(method);
    const { workDoneToken, ...params } = validate(raw);
    let jobId = '';
    // Short jobs only report on a token the client gave; they do not ask for one.
    const { progress, close } = await core.progress.open(title, workDoneToken, () => core.queue.cancel(jobId), false);
    try {
      return await core.runQueued(
        kind,
        token,
        (signal) => {
          progress.report('running');
          return work(params, signal, (message) => progress.report(message));
        },
        {
          onQueued: (id) => {
            jobId = id;
          },
          onPosition: (_id, position) => progress.report(`waiting in the queue: position ${position}`),
        },
      );
    } finally {
      close();
    }
  });
}

/** File work without tfjs (run folders, export): never queued. */
function immediate<P, R>(core: ServerCore, method: string, validate: (raw: unknown) => P, work: (params: P) => Promise<R>): void {
  core.connection.onRequest(method, async (raw: unknown) => {
    core.requireInitialized(method);
    const params = validate(raw);
    try {
      return await work(params);
    } catch (err) {
      throw toResponseError(err);
    }
  });
}
