/** "epoch 2/5 · batch 30/47", written by shared/progressText.ts for every part. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batchesDone, epochProgress, recordProgress } from '../../shared/progressText';

test('epoch and batch progress: one wording, batches from the fraction of the epoch, an epoch line has them all', () => {
  assert.equal(epochProgress(2, 5), 'epoch 2/5');
  assert.equal(epochProgress(2, 5, { done: 30, of: 47 }), 'epoch 2/5 · batch 30/47');
  assert.equal(epochProgress(2, 5, { done: 30, of: 47 }, '  '), 'epoch 2/5  batch 30/47');
  assert.equal(batchesDone({ kind: 'batch', progress: 30 / 47 }, 47), 30);
  assert.equal(batchesDone({ kind: 'batch', progress: 1.5 }, 47), 47, 'clamped to the epoch');
  assert.equal(batchesDone({ kind: 'epoch' }, 47), 47);
  assert.equal(recordProgress({ kind: 'batch', progress: 0.5, epoch: 3 }, 5, 40), 'epoch 3/5 · batch 20/40');
});
