import assert from 'node:assert/strict';
import { test } from 'node:test';
import { epochText } from '../../extension/format';
import { advanceJob, joinRun, type JobStanding } from '../../extension/jobProgress';
import { paceText } from '../../shared/progressText';
import type { MetricsRecord } from '../../shared/runRecords';

const fresh = (): JobStanding => ({ epoch: 0, completed: 0, epochs: 0, fraction: 0, pace: {} });
const batch = (epoch: number, progress: number): MetricsRecord => ({
  kind: 'batch',
  epoch,
  step: 0,
  progress,
  lr: 0.1,
  loss: 1,
  top1: 0,
  time: 0,
});

test('a resumed run stands where it stopped from the start: "epoch 2/2" during its second epoch, half done', () => {
  const job = fresh();
  // A resume of a run stopped after epoch 1 of 2 (the job knows it before the server announces it).
  joinRun(job, { runId: 'r', runDir: '/runs/e/r', epochs: 2, epoch: 1 });
  assert.equal(epochText(true, job.completed, job.epochs), 'epoch 2/2');
  assert.equal(job.fraction, 0.5);
  // Its first batch line of epoch 2: still epoch 2, a little further.
  advanceJob(job, [batch(2, 0.25)]);
  assert.equal(epochText(true, job.completed, job.epochs), 'epoch 2/2');
  assert.equal(job.fraction, 0.625);
});

test('a new run counts from its first epoch; the announcement of a run already joined keeps its standing', () => {
  const job = fresh();
  joinRun(job, { runId: 'r', runDir: '/runs/e/r', epochs: 4, epoch: 0 });
  assert.equal(epochText(true, job.completed, job.epochs), 'epoch 1/4');
  advanceJob(job, [batch(1, 0.5), { ...batch(1, 1), kind: 'epoch' }, batch(2, 0.5)]);
  assert.equal(job.completed, 1);
  // Announced again (a server restarted and follows the run anew): nothing goes back.
  joinRun(job, { runId: 'r', runDir: '/runs/e/r', epochs: 4, epoch: 1 });
  assert.equal(epochText(true, job.completed, job.epochs), 'epoch 2/4');
  assert.equal(job.fraction, 0.375);
});

test('pace: images a second as measured, time left at the pace seen since following began', () => {
  const job = fresh();
  joinRun(job, { runId: 'r', runDir: '/runs/e/r', epochs: 4, epoch: 1 });
  assert.equal(paceText(job.pace), '');
  // Joined at 1.5 epochs, 100 s into the run: nothing measured yet but the throughput.
  advanceJob(job, [{ ...batch(2, 0.5), time: 100, imgPerSec: 1234.4 }]);
  assert.equal(paceText(job.pace), '1,234 img/s');
  // Half an epoch in 10 s: 2 epochs left take 40 s.
  advanceJob(job, [{ ...batch(3, 0), time: 110, imgPerSec: 1300 }]);
  assert.equal(paceText(job.pace), '1,300 img/s · 40 s left');
  assert.equal(job.pace.etaSeconds, 40);
});
