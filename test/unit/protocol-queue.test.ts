/** One job at a time: order, positions, cancellation of running and waiting jobs. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JobQueue, QueueFull, RemovedFromQueue } from '../../server/rpc/jobQueue';

/** A job that runs until released or aborted. */
function gate() {
  let release!: (value: string) => void;
  const released = new Promise<string>((resolve) => {
    release = resolve;
  });
  const log: string[] = [];
  const run = (name: string) => async (signal: AbortSignal) => {
    log.push(`start ${name}`);
    const aborted = new Promise<string>((resolve) => {
      if (signal.aborted) resolve(`${name} aborted`);
      signal.addEventListener('abort', () => resolve(`${name} aborted`));
    });
    return Promise.race([released, aborted]);
  };
  return { release, run, log };
}

test('jobs run one at a time, in order; waiting jobs learn their positions', async () => {
  const queue = new JobQueue();
  const g = gate();
  const positions: string[] = [];
  const a = queue.submit({ kind: 'train', run: g.run('a') });
  const b = queue.submit({ kind: 'train', run: async () => 'b done', onPosition: (p, id) => positions.push(`b@${p}:${id}`) });
  const c = queue.submit({ kind: 'stats', run: async () => 'c done', onPosition: (p) => positions.push(`c@${p}`) });
  assert.deepEqual(positions, [`b@1:${b.id}`, 'c@2']);
  assert.deepEqual(queue.queued, [b.id, c.id]);
  await Promise.resolve();
  assert.equal(queue.running?.id, a.id);
  assert.equal(queue.cancel(b.id), true);
  await assert.rejects(b.promise, RemovedFromQueue);
  assert.deepEqual(positions, [`b@1:${b.id}`, 'c@2', 'c@1']);
  g.release('a done');
  assert.equal(await a.promise, 'a done');
  assert.equal(await c.promise, 'c done');
  await queue.idle();
  assert.equal(queue.running, undefined);
  assert.equal(queue.cancel('job-999'), false);
});

test('cancelling the running job aborts its signal; a throwing job does not block the next', async () => {
  const queue = new JobQueue();
  const g = gate();
  const a = queue.submit({ kind: 'train', run: g.run('a') });
  const b = queue.submit({
    kind: 'train',
    run: () => {
      throw new Error('boom');
    },
  });
  const c = queue.submit({ kind: 'train', run: async () => 'c done' });
  await Promise.resolve();
  assert.equal(queue.cancel(a.id), true);
  assert.equal(await a.promise, 'a aborted');
  await assert.rejects(b.promise, /boom/);
  assert.equal(await c.promise, 'c done');
});

test('a full queue refuses more jobs; cancelAll empties it', async () => {
  const queue = new JobQueue(1);
  const g = gate();
  const a = queue.submit({ kind: 'train', run: g.run('a') });
  const b = queue.submit({ kind: 'train', run: async () => 'b' });
  assert.throws(() => queue.submit({ kind: 'train', run: async () => 'c' }), QueueFull);
  queue.cancelAll();
  await assert.rejects(b.promise, RemovedFromQueue);
  assert.equal(await a.promise, 'a aborted');
  await queue.idle();
});
