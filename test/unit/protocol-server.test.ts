/**
 * Protocol mechanics of the training server over in-memory streams, with fake jobs: initialize,
 * notification order, throttled metrics, progress, cancellation, queueing, errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CancellationTokenSource } from 'vscode-jsonrpc/node';
import {
  CancelRequest,
  ServerStatsRequest,
  TernaryErrorCodes,
  TrainRequest,
  ternaryMethods,
  type TrainResult,
} from '../../shared/protocol';
import { fakeJobs, rejection, startInMemory, SteppingClock, withTimeout } from './protocol-harness';

const RUN_EVENTS = new Set(['ternary/runStarted', 'ternary/metrics', 'ternary/layerStats', 'ternary/histograms', 'ternary/runEnded']);

test('initialize answers with backend, threads, versions and the methods', async () => {
  const s = await startInMemory(fakeJobs(), { backend: 'cpu', threads: 2 });
  try {
    assert.equal(s.info.backend, 'cpu');
    assert.equal(s.info.threads, 2);
    assert.equal(s.info.versions.ternaryStudio, '0.0.0-test');
    assert.equal(s.info.versions.node, process.versions.node);
    assert.deepEqual(s.info.methods, [...ternaryMethods]);
    const second = await rejection(s.client.sendRequest('initialize', { processId: null, rootUri: null, capabilities: {} }));
    assert.match(second.message, /already initialized/);
  } finally {
    s.close();
  }
});

test('a training run: started → metrics → layer stats → histograms per epoch → ended, every record once, in order', async () => {
  const s = await startInMemory(fakeJobs(), { metricsRate: 1000 });
  try {
    const result = await s.client.sendRequest(TrainRequest.type, { configPath: '/fake/quick-2-5.tern.json' });
    const run = s.events.events.filter((e) => RUN_EVENTS.has(e.method));
    // Collapse consecutive metrics notifications to see the shape of the sequence.
    const shape = run.map((e) => e.method.slice('ternary/'.length)).filter((m, i, all) => m !== 'metrics' || all[i - 1] !== 'metrics');
    assert.deepEqual(shape, ['runStarted', 'metrics', 'layerStats', 'histograms', 'metrics', 'layerStats', 'histograms', 'runEnded']);
    const records = s.events.of('ternary/metrics').flatMap((p) => p.records);
    assert.equal(records.length, 2 * (5 + 1));
    assert.deepEqual(
      records.map((r: any) => `${r.kind}${r.step}`),
      ['batch1', 'batch2', 'batch3', 'batch4', 'batch5', 'epoch5', 'batch6', 'batch7', 'batch8', 'batch9', 'batch10', 'epoch10'],
    );
    const ended = s.events.of('ternary/runEnded')[0];
    assert.equal(ended.status, 'completed');
    assert.deepEqual(ended.summary, result.summary);
    assert.equal(result.runDir, s.events.of('ternary/runStarted')[0].runDir);
    assert.deepEqual(
      s.events.of('ternary/layerStats').map((p) => p.record.epoch),
      [1, 2],
    );
    // Log lines of the trainer arrive as window/logMessage.
    assert.ok(s.events.of('window/logMessage').some((p) => p.message === 'epoch 2 done'));
  } finally {
    s.close();
  }
});

test('metrics are throttled to metricsRate a second, records coalesced, none lost', async () => {
  // Virtual time: it moves only when the outbox's throttle timer is due (no wall clock).
  const clock = new SteppingClock();
  const s = await startInMemory(fakeJobs(), { metricsRate: 20 }, false, { clock });
  try {
    await s.client.sendRequest(TrainRequest.type, { configPath: '/fake/quick-3-100.tern.json' });
    const seconds = clock.now() / 1000;
    const notifications = s.events.of('ternary/metrics');
    const records = notifications.flatMap((p) => p.records);
    assert.equal(records.length, 3 * 101);
    assert.deepEqual(
      records.filter((r: any) => r.kind === 'epoch').map((r: any) => r.epoch),
      [1, 2, 3],
    );
    // The first notification goes at once, then at most one per 1/20 s.
    assert.ok(notifications.length <= 1 + Math.ceil(seconds * 20), `${notifications.length} notifications in ${seconds.toFixed(3)} s`);
    assert.ok(notifications.length >= 2, 'more than one notification: the throttle let some through after waiting');
    assert.ok(notifications.length < records.length, 'records were coalesced');
  } finally {
    s.close();
  }
});

test('work-done progress on the client token: begin, reports "epoch e/E · batch b/S · loss …", end', async () => {
  const s = await startInMemory(fakeJobs(), { metricsRate: 1000 });
  try {
    await s.client.sendRequest(TrainRequest.type, { configPath: '/fake/quick-2-4.tern.json', workDoneToken: 'tok-1' });
    const progress = s.events
      .of('$/progress')
      .filter((p) => p.token === 'tok-1')
      .map((p) => p.value);
    assert.equal(progress[0].kind, 'begin');
    assert.equal(progress[0].cancellable, true);
    assert.equal(progress[progress.length - 1].kind, 'end');
    const reports = progress.filter((v) => v.kind === 'report');
    assert.ok(reports.length >= 2, JSON.stringify(reports));
    for (const v of reports) assert.match(v.message, /^epoch [12]\/2 · batch [0-4]\/4 · loss [\d.]+/);
    // The last record is epoch 2's: all batches done, loss 2/8, validation top-1 0.5.
    assert.deepEqual(reports[reports.length - 1], {
      kind: 'report',
      message: 'epoch 2/2 · batch 4/4 · loss 0.25 · val top-1 50.0%',
      percentage: 100,
    });
  } finally {
    s.close();
  }
});

test('without a token, the server creates one with window/workDoneProgress/create when the client supports it', async () => {
  const s = await startInMemory(fakeJobs(), { metricsRate: 1000 }, true);
  try {
    await s.client.sendRequest(TrainRequest.type, { configPath: '/fake/quick-1-2.tern.json' });
    const created = s.events.of('window/workDoneProgress/create');
    assert.equal(created.length, 1);
    const values = s.events
      .of('$/progress')
      .filter((p) => p.token === created[0].token)
      .map((p) => p.value.kind);
    assert.equal(values[0], 'begin');
    assert.equal(values[values.length - 1], 'end');
  } finally {
    s.close();
  }
});

test('ternary/cancel stops a running run; it ends as cancelled and the server keeps serving', async () => {
  const s = await startInMemory(fakeJobs());
  try {
    const training = s.client.sendRequest(TrainRequest.type, { configPath: '/fake/endless.tern.json' });
    const started = await s.events.waitFor('ternary/runStarted');
    await s.events.waitFor('ternary/metrics');
    assert.deepEqual(await s.client.sendRequest(CancelRequest.type, { runId: 'no-such-run' }), { cancelled: false });
    assert.deepEqual(await s.client.sendRequest(CancelRequest.type, { runId: started.runId }), { cancelled: true });
    const result = await withTimeout(training, 5000, () => 'train did not answer after cancel');
    assert.equal(result.summary.status, 'cancelled');
    const ended = await s.events.waitFor('ternary/runEnded');
    assert.equal(ended.status, 'cancelled');
    assert.equal(ended.reason, 'cancelled by the client');
    const stats = await s.client.sendRequest(ServerStatsRequest.type, {});
    assert.equal(stats.running, undefined);
    assert.equal(stats.queued, 0);
  } finally {
    s.close();
  }
});

test('$/cancelRequest of the train request stops the run too', async () => {
  const s = await startInMemory(fakeJobs());
  try {
    const source = new CancellationTokenSource();
    const training = s.client.sendRequest(TrainRequest.type, { configPath: '/fake/endless.tern.json' }, source.token);
    await s.events.waitFor('ternary/metrics');
    source.cancel();
    const result = await withTimeout(training, 5000, () => 'train did not answer after $/cancelRequest');
    assert.equal(result.summary.status, 'cancelled');
    assert.equal((await s.events.waitFor('ternary/runEnded')).status, 'cancelled');
  } finally {
    s.close();
  }
});

test("window/workDoneProgress/cancel for the run's progress token stops the run", async () => {
  const s = await startInMemory(fakeJobs());
  try {
    const training = s.client.sendRequest(TrainRequest.type, { configPath: '/fake/endless.tern.json', workDoneToken: 'run-progress' });
    await s.events.waitFor('$/progress', (p) => p.token === 'run-progress' && p.value.kind === 'report');
    await s.client.sendNotification('window/workDoneProgress/cancel', { token: 'run-progress' });
    const result = await withTimeout(training, 5000, () => 'train did not answer after the progress was cancelled');
    assert.equal(result.summary.status, 'cancelled');
    const last = s.events
      .of('$/progress')
      .filter((p) => p.token === 'run-progress')
      .pop();
    assert.equal(last.value.kind, 'end');
  } finally {
    s.close();
  }
});

test('a second train request is queued and told its position; cancelling removes it; the queue moves on', async () => {
  const s = await startInMemory(fakeJobs(), { metricsRate: 1000 });
  try {
    const a = s.client.sendRequest(TrainRequest.type, { configPath: '/fake/endless.tern.json' });
    const startedA = await s.events.waitFor('ternary/runStarted');
    const b = s.client.sendRequest(TrainRequest.type, { configPath: '/fake/quick-1-3.tern.json', experiment: 'fake' });
    const queuedB = await s.events.waitFor('ternary/queued', (p) => p.configPath === '/fake/quick-1-3.tern.json');
    assert.equal(queuedB.position, 1);
    assert.equal(queuedB.experiment, 'fake');
    const c = s.client.sendRequest(TrainRequest.type, { configPath: '/fake/quick-1-2.tern.json' });
    const queuedC = await s.events.waitFor('ternary/queued', (p) => p.configPath === '/fake/quick-1-2.tern.json');
    assert.equal(queuedC.position, 2);
    const stats = await s.client.sendRequest(ServerStatsRequest.type, {});
    assert.equal(stats.queued, 2);
    assert.equal(stats.running?.runId, startedA.runId);

    // Removing B moves C up to position 1.
    assert.deepEqual(await s.client.sendRequest(CancelRequest.type, { jobId: queuedB.jobId }), { cancelled: true });
    const errB = await rejection(b);
    assert.equal(errB.code, -32800); // RequestCancelled
    const movedC = await s.events.waitFor('ternary/queued', (p) => p.jobId === queuedC.jobId && p.position === 1);
    assert.equal(movedC.position, 1);

    // Cancelling the running A lets C run to completion.
    assert.deepEqual(await s.client.sendRequest(CancelRequest.type, {}), { cancelled: true });
    assert.equal((await a).summary.status, 'cancelled');
    const resultC: TrainResult = await withTimeout(c, 5000, () => 'C never ran');
    assert.equal(resultC.summary.status, 'completed');
    const ends = s.events.of('ternary/runEnded').map((p) => `${p.runId}:${p.status}`);
    assert.deepEqual(ends, [`${startedA.runId}:cancelled`, `${resultC.summary.runId}:completed`]);
  } finally {
    s.close();
  }
});

test('a bad config comes back as InvalidConfig naming the file and property; the server keeps serving', async () => {
  const s = await startInMemory(fakeJobs());
  try {
    const err = await rejection(s.client.sendRequest(TrainRequest.type, { configPath: '/fake/bad.tern.json' }));
    assert.equal(err.code, TernaryErrorCodes.InvalidConfig);
    assert.deepEqual(err.data, { path: '/fake/bad.tern.json', property: 'experiments[0].train.lr' });
    assert.match(err.message, /experiments\[0\]\.train\.lr: must be > 0/);
    assert.equal(s.events.of('ternary/runStarted').length, 0);
    const ok = await s.client.sendRequest(TrainRequest.type, { configPath: '/fake/quick-1-1.tern.json' });
    assert.equal(ok.summary.status, 'completed');
  } finally {
    s.close();
  }
});

test('a trainer that throws after starting ends the run as failed with the reason, and the request errors', async () => {
  const s = await startInMemory(fakeJobs());
  try {
    const err = await rejection(s.client.sendRequest(TrainRequest.type, { configPath: '/fake/crash-after-start.tern.json' }));
    assert.equal(err.code, -32603);
    assert.match(err.message, /the fake trainer broke/);
    const ended = await s.events.waitFor('ternary/runEnded');
    assert.equal(ended.status, 'failed');
    assert.equal(ended.reason, 'the fake trainer broke');
    assert.ok(s.events.of('window/logMessage').some((p) => /the fake trainer broke/.test(p.message) && p.type === 1));
  } finally {
    s.close();
  }
});

test('invalid params, unknown methods and requests before initialize get protocol errors', async () => {
  const s = await startInMemory(fakeJobs());
  try {
    const notString = await rejection(s.client.sendRequest(TrainRequest.method, { configPath: 42 }));
    assert.equal(notString.code, -32602);
    assert.match(notString.message, /ternary\/train: "configPath" must be a path \(string\).*got number 42/);
    const missing = await rejection(s.client.sendRequest(TrainRequest.method, {}));
    assert.match(missing.message, /"configPath" is missing/);
    const typo = await rejection(s.client.sendRequest(TrainRequest.method, { configPath: '/x.tern.json', epoch: 3 }));
    assert.match(typo.message, /unknown field "epoch"/);
    const badEpochs = await rejection(s.client.sendRequest(TrainRequest.method, { configPath: '/x.tern.json', epochs: 0 }));
    assert.match(badEpochs.message, /"epochs" must be a positive integer/);
    const notObject = await rejection(s.client.sendRequest(TrainRequest.method, 'hello'));
    assert.equal(notObject.code, -32602);
    const unknown = await rejection(s.client.sendRequest('ternary/doesNotExist', {}));
    assert.equal(unknown.code, -32601);
    const badHistory = await rejection(s.client.sendRequest('ternary/runHistory', { runDir: '/r', histograms: 'yes' }));
    assert.match(badHistory.message, /"histograms" must be true or false/);
    const stats = await s.client.sendRequest(ServerStatsRequest.type, {});
    assert.equal(stats.numTensors, 0);
  } finally {
    s.close();
  }
});

test('requests before initialize are refused with a message saying what to do', async () => {
  const { PassThrough } = await import('node:stream');
  const { createMessageConnection, StreamMessageReader, StreamMessageWriter } = await import('vscode-jsonrpc/node');
  const { startServer } = await import('../../server/rpc/server');
  const toServer = new PassThrough();
  const fromServer = new PassThrough();
  const server = startServer({ input: toServer, output: fromServer, jobs: fakeJobs(), version: 't' });
  const client = createMessageConnection(new StreamMessageReader(fromServer), new StreamMessageWriter(toServer));
  client.listen();
  try {
    const err = await rejection(client.sendRequest(TrainRequest.method, { configPath: '/fake/quick-1-1.tern.json' }));
    assert.match(err.message, /not initialized; send 'initialize' first/);
  } finally {
    client.dispose();
    server.dispose();
  }
});

test('non-train jobs go through the same queue, and read-only requests do not wait for it', async () => {
  const order: string[] = [];
  const s = await startInMemory(
    fakeJobs({
      stats: async () => {
        order.push('stats');
        return {
          layers: [],
          histograms: [],
          summary: { layers: 0, ternaryLayers: 0, params: 0, ternaryParams: 0, fp32Bytes: 0, ternaryBytes: 0, compression: 1 },
        };
      },
      listRuns: async () => {
        order.push('listRuns');
        return [];
      },
    }),
  );
  try {
    const a = s.client.sendRequest(TrainRequest.type, { configPath: '/fake/endless.tern.json' });
    await s.events.waitFor('ternary/metrics');
    const stats = s.client.sendRequest('ternary/stats', { target: '/m/model.json', workDoneToken: 'stats-1' });
    await s.client.sendRequest('ternary/listRuns', { runsDirs: ['/runs'] });
    assert.deepEqual(order, ['listRuns']);
    await s.events.waitFor('$/progress', (p) => p.token === 'stats-1');
    await s.client.sendRequest(CancelRequest.type, {});
    await a;
    await stats;
    assert.deepEqual(order, ['listRuns', 'stats']);
    // The waiting job's progress said where it stood, then that it ran.
    const progress = s.events
      .of('$/progress')
      .filter((p) => p.token === 'stats-1')
      .map((p) => `${p.value.kind}:${p.value.message ?? ''}`);
    assert.deepEqual(progress, ['begin:waiting in the queue: position 1', 'report:running', 'end:']);
  } finally {
    s.close();
  }
});
