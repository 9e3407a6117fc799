import { test } from 'node:test';
import assert from 'node:assert/strict';
import { csvField, metricsCsv, toCsv } from '../../webview/transforms/csv';

test('RFC 4180 fields: quote only when needed, double the quotes', () => {
  assert.equal(csvField('plain'), 'plain');
  assert.equal(csvField('a,b'), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField('two\nlines'), '"two\nlines"');
  assert.equal(csvField('cr\r'), '"cr\r"');
  assert.equal(csvField(null), '');
  assert.equal(csvField(undefined), '');
  assert.equal(csvField(NaN), '');
  assert.equal(csvField(1.5), '1.5');
  assert.equal(csvField(true), 'true');
});

test('toCsv: header first, CRLF line ends including the last', () => {
  assert.equal(
    toCsv(
      ['a', 'b'],
      [
        [1, 'x,y'],
        [null, '"'],
      ],
    ),
    'a,b\r\n1,"x,y"\r\n,""""\r\n',
  );
});

test('metricsCsv: one row per record, run in the first columns, missing metrics empty', () => {
  const csv = metricsCsv([
    {
      run: 'mnist, ternary · r1',
      runDir: '/runs/mnist/r1',
      records: [
        { kind: 'batch', epoch: 1, step: 5, progress: 0.5, lr: 0.1, loss: 2.25, top1: 0.25, time: 1.5 },
        {
          kind: 'epoch',
          epoch: 1,
          step: 10,
          lr: 0.1,
          loss: 2,
          top1: 0.3,
          top5: 0.8,
          valLoss: 1.9,
          valTop1: 0.35,
          valTop5: 0.85,
          imgPerSec: 400,
          time: 3,
        },
      ],
    },
  ]);
  assert.equal(
    csv,
    'run,runDir,kind,epoch,step,progress,lr,loss,top1,top5,valLoss,valTop1,valTop5,imgPerSec,time\r\n' +
      '"mnist, ternary · r1",/runs/mnist/r1,batch,1,5,0.5,0.1,2.25,0.25,,,,,,1.5\r\n' +
      '"mnist, ternary · r1",/runs/mnist/r1,epoch,1,10,,0.1,2,0.3,0.8,1.9,0.35,0.85,400,3\r\n',
  );
});
