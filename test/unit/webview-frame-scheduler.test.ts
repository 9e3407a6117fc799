/**
 * FrameScheduler (webview/shared/frameScheduler.ts): one render per burst of requests, none while
 * the panel is hidden, exactly one when it is shown again. Animation frames are stood in for by
 * timers (Node has no requestAnimationFrame).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { FrameScheduler } from '../../webview/shared/frameScheduler';

const g = globalThis as unknown as { requestAnimationFrame?: (f: () => void) => unknown };
let saved: typeof g.requestAnimationFrame;
before(() => {
  saved = g.requestAnimationFrame;
  g.requestAnimationFrame = (f) => setTimeout(f, 5);
});
after(() => { g.requestAnimationFrame = saved; });

test('a burst of requests is one render; callbacks run after it', async () => {
  let renders = 0;
  const order: string[] = [];
  const s = new FrameScheduler(() => { renders++; order.push('render'); });
  for (let i = 0; i < 10; i++) s.request(i === 9 ? () => order.push('after') : undefined);
  await sleep(40);
  assert.equal(renders, 1);
  assert.deepEqual(order, ['render', 'after']);
});

test('hidden: requests draw nothing; shown: one render catches up, and its callbacks run', async () => {
  let renders = 0;
  let calledBack = false;
  const s = new FrameScheduler(() => { renders++; });
  s.setVisible(false);
  for (let i = 0; i < 5; i++) s.request();
  s.request(() => { calledBack = true; });
  await sleep(40);
  assert.equal(renders, 0);
  assert.equal(calledBack, false);
  s.setVisible(true);
  await sleep(40);
  assert.equal(renders, 1);
  assert.equal(calledBack, true);
  s.setVisible(false);
  s.setVisible(true); // shown again with nothing new: no render
  await sleep(40);
  assert.equal(renders, 1);
});
