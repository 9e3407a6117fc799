/**
 * FrameScheduler (webview/shared/frameScheduler.ts): one render per burst of requests, none while
 * the panel is hidden, exactly one when it is shown again, and idle time after expensive renders.
 * Frames, delays and time come from a fake clock the test advances by hand: nothing waits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameScheduler, type FrameClock } from '../../webview/shared/frameScheduler';

/** Animation frames and timers that run only when the test says so; time moves only when told. */
class FakeFrames implements FrameClock {
  time = 0;
  private frames: (() => void)[] = [];
  private timers: { at: number; callback: () => void }[] = [];
  requestFrame(callback: () => void): void {
    this.frames.push(callback);
  }
  delay(callback: () => void, ms: number): void {
    this.timers.push({ at: this.time + ms, callback });
  }
  now(): number {
    return this.time;
  }
  get pendingFrames(): number {
    return this.frames.length;
  }
  /** Run the frame callbacks queued now, then let the microtasks they queued run. */
  async flushFrame(): Promise<void> {
    for (const f of this.frames.splice(0)) f();
    await new Promise<void>((resolve) => queueMicrotask(resolve));
  }
  /** Move time on, running the timers that fall due. */
  advance(ms: number): void {
    this.time += ms;
    const due = this.timers.filter((t) => t.at <= this.time);
    this.timers = this.timers.filter((t) => t.at > this.time);
    for (const t of due) t.callback();
  }
}

test('a burst of requests is one frame and one render; callbacks run after it', async () => {
  const clock = new FakeFrames();
  let renders = 0;
  const order: string[] = [];
  const s = new FrameScheduler(() => {
    renders++;
    order.push('render');
  }, clock);
  for (let i = 0; i < 10; i++) s.request(i === 9 ? () => order.push('after') : undefined);
  assert.equal(clock.pendingFrames, 1);
  assert.equal(renders, 0, 'nothing draws before the frame');
  await clock.flushFrame();
  assert.equal(renders, 1);
  assert.deepEqual(order, ['render', 'after']);
  s.request();
  await clock.flushFrame();
  assert.equal(renders, 2, 'a request after the frame gets its own');
});

test('hidden: requests draw nothing; shown: one render catches up, and its callbacks run', async () => {
  const clock = new FakeFrames();
  let renders = 0;
  let calledBack = false;
  const s = new FrameScheduler(() => {
    renders++;
  }, clock);
  s.setVisible(false);
  for (let i = 0; i < 5; i++) s.request();
  s.request(() => {
    calledBack = true;
  });
  assert.equal(clock.pendingFrames, 0, 'a hidden panel asks for no frame');
  await clock.flushFrame();
  assert.equal(renders, 0);
  assert.equal(calledBack, false);
  s.setVisible(true);
  await clock.flushFrame();
  assert.equal(renders, 1);
  assert.equal(calledBack, true);
  s.setVisible(false);
  s.setVisible(true); // shown again with nothing new: no render
  assert.equal(clock.pendingFrames, 0);
  assert.equal(renders, 1);
});

test('after an expensive render, the next frame waits as long as that render took', async () => {
  const clock = new FakeFrames();
  let renders = 0;
  const s = new FrameScheduler(() => {
    renders++;
    clock.time += 50;
  }, clock);
  s.request();
  await clock.flushFrame();
  assert.equal(renders, 1);
  s.request();
  assert.equal(clock.pendingFrames, 0, 'no frame yet: the last render took 50 ms');
  clock.advance(49);
  assert.equal(clock.pendingFrames, 0);
  clock.advance(1);
  assert.equal(clock.pendingFrames, 1, 'the frame is asked for once the idle time has passed');
  s.request();
  await clock.flushFrame();
  assert.equal(renders, 2, 'requests made while waiting join that render');
});
