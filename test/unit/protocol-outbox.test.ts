/** Ordered, throttled notifications: exact behaviour on a stepped clock. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NotificationOutbox, type Clock } from '../../server/rpc/outbox';
import type { MetricsRecord } from '../../shared/runRecords';

class SteppedClock implements Clock {
  time = 0;
  private timers: { at: number; callback: () => void }[] = [];
  now = () => this.time;
  setTimeout = (callback: () => void, ms: number) => {
    const timer = { at: this.time + ms, callback };
    this.timers.push(timer);
    return timer;
  };
  clearTimeout = (handle: unknown) => {
    this.timers = this.timers.filter((t) => t !== handle);
  };
  /** Moves time forward, firing due timers in order. */
  advance(to: number): void {
    for (;;) {
      const due = this.timers.filter((t) => t.at <= to).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.time = due.at;
      due.callback();
    }
    this.time = to;
  }
}

const batch = (step: number): MetricsRecord => ({ kind: 'batch', epoch: 1, step, lr: 0.1, loss: 1, top1: 0, time: step });
const epochEnd = (step: number): MetricsRecord => ({ kind: 'epoch', epoch: 1, step, lr: 0.1, loss: 1, top1: 0, time: step });

test('at most `rate` metrics notifications a second; records coalesced; other messages keep their place', async () => {
  const clock = new SteppedClock();
  const sent: string[] = [];
  const outbox = new NotificationOutbox(
    ({ runId }, records) => sent.push(`${clock.time}:${runId}:${records.map((r) => r.kind[0] + r.step).join(',')}`),
    10,
    clock,
  );
  outbox.pushMetrics({ runId: 'r', runDir: '/runs/r' }, batch(1)); // goes at once
  clock.advance(10);
  outbox.pushMetrics({ runId: 'r', runDir: '/runs/r' }, batch(2));
  outbox.pushMetrics({ runId: 'r', runDir: '/runs/r' }, batch(3));
  outbox.pushMetrics({ runId: 'r', runDir: '/runs/r' }, epochEnd(3));
  outbox.push(() => sent.push(`${clock.time}:layers`)); // must wait behind the metrics
  outbox.pushMetrics({ runId: 'r', runDir: '/runs/r' }, batch(4)); // after the layers: a new notification
  assert.deepEqual(sent, ['0:r:b1']);
  clock.advance(99);
  assert.deepEqual(sent, ['0:r:b1']);
  clock.advance(100);
  assert.deepEqual(sent, ['0:r:b1', '100:r:b2,b3,e3', '100:layers']);
  clock.advance(150);
  outbox.pushMetrics({ runId: 'r', runDir: '/runs/r' }, batch(5)); // joins the waiting b4
  assert.equal(outbox.pending, 1);
  const drained = outbox.drained();
  clock.advance(200);
  await drained;
  assert.deepEqual(sent, ['0:r:b1', '100:r:b2,b3,e3', '100:layers', '200:r:b4,b5']);
  // A quiet period: the next record goes at once again.
  clock.advance(1000);
  outbox.pushMetrics({ runId: 'r', runDir: '/runs/r' }, batch(6));
  assert.equal(sent[sent.length - 1], '1000:r:b6');
});

test('records of different runs are not merged', () => {
  const clock = new SteppedClock();
  const sent: string[] = [];
  const outbox = new NotificationOutbox(({ runId }, records) => sent.push(`${runId}:${records.length}`), 1, clock);
  outbox.pushMetrics({ runId: 'a', runDir: '/runs/a' }, batch(1));
  outbox.pushMetrics({ runId: 'a', runDir: '/runs/a' }, batch(2));
  outbox.pushMetrics({ runId: 'b', runDir: '/runs/b' }, batch(1));
  clock.advance(1000);
  clock.advance(2000);
  assert.deepEqual(sent, ['a:1', 'a:1', 'b:1']);
});

test('a throwing send does not stall the queue', () => {
  const clock = new SteppedClock();
  const sent: string[] = [];
  const outbox = new NotificationOutbox(() => undefined, 10, clock);
  outbox.push(() => {
    throw new Error('connection closed');
  });
  outbox.push(() => sent.push('next'));
  assert.deepEqual(sent, ['next']);
});
