// The training progress shown in the workbench repaints at most once per interval, and always
// ends on the latest state (extension/uiRate.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UpdateThrottle, type Timers } from '../../extension/uiRate';

/** Timers that fire only when the test advances its clock. */
function virtualTimers(): Timers & { advance(ms: number): void; pending(): number } {
  let now = 0;
  let nextId = 1;
  const due = new Map<number, { at: number; callback: () => void }>();
  return {
    setTimeout(callback, ms) {
      const id = nextId++;
      due.set(id, { at: now + ms, callback });
      return id;
    },
    clearTimeout(handle) {
      due.delete(handle as number);
    },
    advance(ms) {
      const until = now + ms;
      for (;;) {
        const next = [...due.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
        if (!next) break;
        due.delete(next[0]);
        now = next[1].at;
        next[1].callback();
      }
      now = until;
    },
    pending: () => due.size,
  };
}

test('the first request updates at once; a burst inside the interval becomes one update at its end', () => {
  const timers = virtualTimers();
  let state = 0;
  const shown: number[] = [];
  const throttle = new UpdateThrottle(() => shown.push(state), 250, timers);
  state = 1;
  throttle.request();
  assert.deepEqual(shown, [1]);
  for (state = 2; state <= 20; state++) throttle.request();
  state = 20;
  assert.deepEqual(shown, [1], 'nothing more inside the interval');
  timers.advance(249);
  assert.deepEqual(shown, [1]);
  timers.advance(1);
  assert.deepEqual(shown, [1, 20], 'the latest state, once, when the interval ends');
  timers.advance(1000);
  assert.deepEqual(shown, [1, 20], 'no update without a request');
  assert.equal(timers.pending(), 0);
});

test('steady requests every 10 ms give one update per interval', () => {
  const timers = virtualTimers();
  let updates = 0;
  const throttle = new UpdateThrottle(() => updates++, 250, timers);
  for (let t = 0; t < 1000; t += 10) {
    throttle.request();
    timers.advance(10);
  }
  // At 0, 250, 500 and 750 ms, and at 1000 ms for the requests after 750.
  assert.equal(updates, 5);
});

test('after dispose nothing runs, and a pending update is dropped', () => {
  const timers = virtualTimers();
  let updates = 0;
  const throttle = new UpdateThrottle(() => updates++, 250, timers);
  throttle.request();
  throttle.request();
  throttle.dispose();
  timers.advance(1000);
  throttle.request();
  assert.equal(updates, 1);
  assert.equal(timers.pending(), 0);
});
