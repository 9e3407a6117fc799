import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { ProgressPrinter } from '../../server/cli/progress';
import type { MetricsRecord } from '../../shared/runRecords';

function sink(columns?: number): Writable & { text: string; columns?: number } {
  const s = new Writable({
    write(chunk, _enc, cb) {
      s.text += String(chunk);
      cb();
    },
  }) as Writable & { text: string; columns?: number };
  s.text = '';
  s.columns = columns;
  return s;
}

const start = { runId: 'r', runDir: '/runs/e/r', experiment: 'e', epochs: 2, stepsPerEpoch: 10, backend: 'wasm' };
const batch: MetricsRecord = {
  kind: 'batch',
  epoch: 1,
  step: 5,
  progress: 0.5,
  lr: 0.1,
  loss: 1.23456,
  top1: 0.5,
  imgPerSec: 99.6,
  time: 1,
};
const epoch: MetricsRecord = {
  kind: 'epoch',
  epoch: 1,
  step: 10,
  lr: 0.1,
  loss: 1,
  top1: 0.6,
  valLoss: 0.9,
  valTop1: 0.7,
  valTop5: 0.95,
  imgPerSec: 100,
  time: 2,
};

test('json mode: one JSON object per line, records unchanged', () => {
  const out = sink();
  const p = new ProgressPrinter('json', out);
  p.start(start);
  p.metrics(batch);
  p.metrics(epoch);
  const lines = out.text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(lines[0], { kind: 'start', ...start });
  assert.deepEqual(lines[1], batch);
  assert.deepEqual(lines[2], epoch);
});

test('tty mode redraws one line; epoch lines end it; throughput and time left as the status bar says them', () => {
  const out = sink(120);
  const p = new ProgressPrinter('tty', out);
  p.start(start);
  p.metrics(batch);
  // The progress line starts with a carriage return and ESC[K (erase line); columns are two spaces apart.
  // eslint-disable-next-line no-control-regex, no-regex-spaces
  assert.match(out.text, /\r\x1b\[K█+░+  epoch 1\/2  batch 5\/10  loss 1\.2346  acc 50\.00%  100 img\/s$/);
  p.metrics(epoch);
  assert.match(
    out.text,
    // eslint-disable-next-line no-control-regex, no-regex-spaces
    /\r\x1b\[Kepoch 1\/2  loss 1\.0000  acc 60\.00%  val loss 0\.9000  val acc 70\.00%  val top-5 95\.00%  lr 0\.100  100 img\/s  2\.0 s left\n$/,
  );
});

test('plain mode writes whole lines (no carriage returns)', () => {
  const out = sink();
  const p = new ProgressPrinter('plain', out);
  p.start(start);
  p.metrics(batch);
  p.metrics(epoch);
  assert.doesNotMatch(out.text, /\r/);
  assert.equal(out.text.split('\n').filter(Boolean).length, 3);
});
