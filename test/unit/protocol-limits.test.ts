/** The server under abuse: a full queue, echoed megabyte-long values. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_ERROR_DATA_STRING, MAX_ERROR_MESSAGE } from '../../server/rpc/errors';
import { StatsRequest, TernaryErrorCodes, TrainRequest } from '../../shared/protocol';
import { fakeJobs, rejection, startInMemory } from './protocol-harness';

test('a full queue answers Busy (-32005), as docs/protocol.md says, not InternalError', async () => {
  const s = await startInMemory(fakeJobs(), { metricsRate: 1000 }, false, { maxQueued: 1 });
  try {
    const running = s.client.sendRequest(TrainRequest.type, { configPath: '/fake/endless.tern.json' });
    await s.events.waitFor('ternary/runStarted');
    const waiting = s.client.sendRequest(TrainRequest.type, { configPath: '/fake/quick-1-1.tern.json' });
    // Both end with stopAll below; handled from now on, so their rejections never count as unhandled
    // (on a loaded machine the answers can arrive before stopAll's own promise settles).
    const ended = Promise.allSettled([running, waiting]);
    await s.events.waitFor('ternary/queued');
    const refused = await rejection(s.client.sendRequest(StatsRequest.type, { target: '/m/model.json' }));
    assert.equal(refused.code, TernaryErrorCodes.Busy);
    assert.match(refused.message, /already waiting/);
    await s.server.stopAll();
    await ended;
  } finally {
    s.close();
  }
});

test('an error about a 20 MB path echoes a clipped path, not the whole of it twice', async () => {
  const s = await startInMemory(
    fakeJobs({
      stats: async (p) => {
        throw Object.assign(new Error(`Model or run folder not found: ${p.target}. Check the path.`), { code: 'ENOENT', path: p.target });
      },
    }),
  );
  try {
    const target = '/' + 'p'.repeat(20 * 1024 * 1024);
    const err = await rejection(s.client.sendRequest(StatsRequest.type, { target }));
    assert.equal(err.code, TernaryErrorCodes.NotFound);
    assert.ok(err.message.length < MAX_ERROR_MESSAGE + 100, `message of ${err.message.length} characters`);
    assert.match(err.message, /more characters\)/);
    assert.ok(err.data.path.length < MAX_ERROR_DATA_STRING + 100, `data.path of ${err.data.path.length} characters`);
    const unknown = await rejection(s.client.sendRequest('ternary/stats', { target: '/m', ['k'.repeat(1_000_000)]: 1 }));
    assert.ok(unknown.message.length < 1000, `message of ${unknown.message.length} characters`);
  } finally {
    s.close();
  }
});
