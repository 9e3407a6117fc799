import { test } from 'node:test';
import assert from 'node:assert/strict';
import { epochText, errorText, layerAccessibleText, layerDescription, runRow, runStart } from '../../extension/format';

test('a layer row says sparsity and α in a few characters; its accessible label says all', () => {
  const stats = { factor: 0.05, delta: 0.01234, alpha: 0.08291, sparsity: 0.41234, counts: { neg: 1, zero: 2, pos: 3 } };
  assert.equal(layerDescription(stats), '41.2% zero · α 0.0829');
  assert.equal(layerAccessibleText(stats), 'sparsity 41.2%, α 0.0829, Δ 0.0123');
  assert.equal(layerAccessibleText({ ...stats, alpha: -0.5, relError: 0.123 } as never), 'sparsity 41.2%, α −0.5, Δ 0.0123, error 12.3%');
  // At the default sidebar width about 24 characters fit beside a layer name (test/e2e/editor-run.ts measures it).
  assert.ok(layerDescription({ ...stats, sparsity: 1 / 3, alpha: 0.000123456 }).length <= 24);
});

test('one epoch convention: the epoch in progress while running, the epochs completed once ended', () => {
  // During the first of two epochs nothing is completed yet: the tree said "epoch 0/2" while
  // the status bar said "epoch 1/2".
  assert.equal(epochText(true, 0, 2), 'epoch 1/2');
  assert.equal(epochText(true, 1, 2), 'epoch 2/2');
  assert.equal(epochText(true, 2, 2), 'epoch 2/2');
  assert.equal(epochText(false, 2, 2), 'epoch 2/2');
  assert.equal(epochText(false, 1, 200), 'epoch 1/200');
  assert.equal(epochText(false, 0, 2), 'epoch 0/2');
});

test('run rows are short: the start time in local time (today) or date and minutes as the label, epoch and best top-1', () => {
  // Run ids are UTC; the label is the viewer's local time (not the raw UTC of the id).
  const started = runStart('20261129-063104-ab12')!;
  assert.equal(started.toISOString(), '2026-11-29T06:31:04.000Z');
  const two = (n: number) => String(n).padStart(2, '0');
  const sameDay = new Date(started.getTime() + 60_000);
  assert.deepEqual(runRow({ runId: '20261129-063104-ab12', status: 'completed', epoch: 2, epochs: 2, bestTop1: 0.8534 }, sameDay), {
    label: `${two(started.getHours())}:${two(started.getMinutes())}:04`,
    description: 'epoch 2/2 · 85.3%',
  });
  const nextWeek = new Date(started.getTime() + 7 * 86_400_000);
  assert.deepEqual(runRow({ runId: '20261129-063104-ab12', status: 'running', epoch: 0, epochs: 2 }, nextWeek), {
    label: `${two(started.getMonth() + 1)}-${two(started.getDate())} ${two(started.getHours())}:${two(started.getMinutes())}`,
    description: 'epoch 1/2',
  });
  assert.deepEqual(runRow({ runId: 'odd-id', status: 'cancelled', epoch: 1, epochs: 200, bestTop1: 0.5 }, nextWeek), {
    label: 'odd-id',
    description: 'epoch 1/200 · 50.0%',
  });
});

test('error text drops the "Error: " prefix a message would repeat', () => {
  assert.equal(errorText(new Error('Error: the data folder is missing')), 'the data folder is missing');
  assert.equal(errorText(new TypeError('x is not a function')), 'x is not a function');
  assert.equal(errorText('ResponseError: boom'), 'boom');
  assert.equal(errorText('plain words: kept'), 'plain words: kept');
});
