import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { buildModel } from '../../server/models';
import { saveModel } from '../../server/core/modelIO';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportRun, layersCsv, metricsCsv, reportMarkdown } from '../../server/export';
import { parseConfigText } from '../../server/config/loadConfig';
import type { LayerStats } from '../../shared/layerStats';
import type { RunSummary } from '../../shared/runRecords';

const layer: LayerStats = {
  layer: 'conv1',
  type: 'TernaryConv2D',
  ternary: true,
  shape: [3, 3, 1, 2],
  params: 18,
  bits: 2,
  delta: 0.01,
  alpha: 0.2,
  sparsity: 0.5,
  counts: { neg: 4, zero: 9, pos: 5 },
  branches: [{ factor: 0.05, delta: 0.01, alpha: 0.2, sparsity: 0.5, counts: { neg: 4, zero: 9, pos: 5 } }],
};

/** summary.json of a run of experiment 'exp' of a 72-byte float / 9-byte ternary model. */
function summaryJson(fields: Pick<RunSummary, 'runId' | 'status' | 'epochs' | 'final' | 'best' | 'wallSeconds'>): string {
  return JSON.stringify({ experiment: 'exp', backend: 'cpu', fp32Bytes: 72, ternaryBytes: 9, compression: 8, ...fields });
}

before(async () => {
  await tf.setBackend('cpu');
});

test('metricsCsv and layersCsv: header, values, empty cells for missing fields', () => {
  assert.equal(
    metricsCsv([{ kind: 'epoch', epoch: 1, step: 10, lr: 0.1, loss: 0.5, top1: 0.8, valTop1: 0.75, time: 2 }]),
    'kind,epoch,step,progress,lr,loss,top1,top5,valLoss,valTop1,valTop5,imgPerSec,time\nepoch,1,10,,0.1,0.5,0.8,,,0.75,,,2\n',
  );
  assert.equal(
    layersCsv([layer]),
    'layer,type,ternary,shape,params,bits,delta,alpha,sparsity,neg,zero,pos\nconv1,TernaryConv2D,true,3x3x1x2,18,2,0.01,0.2,0.5,4,9,5\n',
  );
});

test('exportRun: model as trained and exported (ONNX, .tern, stock tfjs), metrics.csv, layers.csv of the last epoch, report.md with sizes and parity', async () => {
  const root = mkdtempSync(join(tmpdir(), 'tern-export-'));
  const run = join(root, 'runs', 'exp', 'r1');
  mkdirSync(join(run, 'model'), { recursive: true });
  const model = buildModel({
    arch: 'lenet5',
    classes: 10,
    quant: { method: 'he2019', thresholdFactor: 0.05, threshold: 'fixed', tex: 1, firstLast: 'float' },
    seed: 1,
  });
  await saveModel(model, join(run, 'model'));
  model.dispose();
  writeFileSync(
    join(run, 'config.json'),
    JSON.stringify({
      runId: 'r1',
      backend: 'cpu',
      threads: 2,
      versions: {},
      seed: 1,
      startedAt: 'x',
      experiment: {
        name: 'exp',
        model: { arch: 'fmnist-cnn', classes: 10 },
        quant: { method: 'he2019', thresholdFactor: 0.05, threshold: 'fixed', tex: 1, firstLast: 'ternary' },
        data: { format: 'idx', path: 'd', augment: [] },
        train: {
          epochs: 2,
          batchSize: 8,
          optimizer: 'sgd',
          lr: 0.1,
          momentum: 0.9,
          nesterov: true,
          weightDecay: 0,
          schedule: [],
          gammas: [],
          seed: 1,
        },
      },
    }),
  );
  writeFileSync(
    join(run, 'metrics.jsonl'),
    [1, 2]
      .map((e) => JSON.stringify({ kind: 'epoch', epoch: e, step: e, lr: 0.1, loss: 1 / e, top1: 0.5, valTop1: 0.4 + e / 10, time: e }))
      .join('\n') + '\n',
  );
  const summary = { layers: 1, ternaryLayers: 1, params: 18, ternaryParams: 18, fp32Bytes: 72, ternaryBytes: 9, compression: 8 };
  writeFileSync(
    join(run, 'layers.jsonl'),
    [
      JSON.stringify({ epoch: 1, layers: [{ ...layer, sparsity: 0.1 }], summary }),
      JSON.stringify({ epoch: 2, layers: [layer], summary }),
    ].join('\n') + '\n',
  );
  writeFileSync(
    join(run, 'summary.json'),
    summaryJson({
      runId: 'r1',
      status: 'completed',
      epochs: 2,
      final: { top1: 0.6, top5: 1, loss: 0.5 },
      best: { top1: 0.6, top5: 1, loss: 0.5, epoch: 2 },
      wallSeconds: 3.25,
    }),
  );
  const out = join(root, 'out');
  const result = await exportRun(run, out);
  assert.deepEqual(result.files.sort(), [
    'layers.csv',
    'metrics.csv',
    'model.onnx',
    'model.tern',
    'model/model.json',
    'model/weights.bin',
    'report.md',
    'tfjs/model.json',
    'tfjs/weights.bin',
  ]);
  assert.equal(readFileSync(join(out, 'metrics.csv'), 'utf8').trim().split('\n').length, 3);
  assert.match(readFileSync(join(out, 'layers.csv'), 'utf8'), /,0\.5,4,9,5\n$/);
  const report = readFileSync(join(out, 'report.md'), 'utf8');
  assert.match(report, /\| status \| completed \|/);
  assert.match(report, /\| final top-1 \/ top-5 \/ loss \| 60\.00% \/ 100\.00% \/ 0\.5 \|/);
  assert.match(report, /\*\*8\.0× smaller\*\*/);
  assert.match(report, /\| conv1 \| TernaryConv2D \| 3×3×1×2 \| 18 \| 2 \| 0\.01 \| 0\.2 \| 50\.00% \| 4 \| 9 \| 5 \|/);
  assert.deepEqual(readFileSync(join(out, 'model', 'weights.bin')), readFileSync(join(run, 'model', 'weights.bin')));
  // The data folder 'd' does not exist: parity ran on random inputs and says so; sizes come before the layer table.
  assert.match(
    report,
    /## Exported model files[\s\S]*\| model\.tern \| [\d,]+ B[\s\S]*Inputs: 64 random inputs[\s\S]*\| model\.onnx \| ONNX Runtime \|[\s\S]*## Layers/,
  );
  assert.ok(result.model?.parity?.results.every((r) => r.ok));
  await assert.rejects(exportRun(join(root, 'nope'), out), /not a run folder/);
});

test('exportRun: a run whose summary says running but whose writer is gone is reported as crashed, with how to go on', async () => {
  const root = mkdtempSync(join(tmpdir(), 'tern-export-crashed-'));
  const run = join(root, 'runs', 'exp', 'r2');
  mkdirSync(run, { recursive: true });
  writeFileSync(join(run, 'config.json'), JSON.stringify({ runId: 'r2', backend: 'cpu', threads: 1, versions: {} }));
  writeFileSync(
    join(run, 'summary.json'),
    summaryJson({
      runId: 'r2',
      status: 'running',
      epochs: 1,
      final: { top1: 0.5, top5: 1, loss: 0.7 },
      best: { top1: 0.5, top5: 1, loss: 0.7, epoch: 1 },
      wallSeconds: 1,
    }),
  );
  // No lock file: nothing trains this run any more (server/runs/runFiles.ts runStatus).
  const out = join(root, 'out');
  await exportRun(run, out);
  const report = readFileSync(join(out, 'report.md'), 'utf8');
  assert.match(report, /\| status \| crashed \(the process training it ended without finishing it; continue it with `tern train --resume`/);
  assert.doesNotMatch(report, /\| status \| running/);
});

test('report.md writes numbers as the views do: thousands separators, one size unit ladder, "at epoch 1", durations', () => {
  const experiment = parseConfigText(
    JSON.stringify({
      experiments: [
        {
          name: 'big',
          model: { arch: 'resnet20', classes: 10 },
          data: { format: 'idx', path: 'd' },
          train: { epochs: 3, batchSize: 8, lr: 0.1, schedule: [1], gammas: [0.1] },
        },
      ],
    }),
    '/x/big.tern.json',
  ).experiments[0]!;
  const config = { runId: 'r3', experiment, backend: 'cpu', threads: 1, versions: {}, seed: 1, startedAt: '2026-12-06T07:00:00Z' };
  const summary = JSON.parse(
    summaryJson({
      runId: 'r3',
      status: 'completed',
      epochs: 3,
      final: { top1: 0.5, top5: 1, loss: -0.25 },
      best: { top1: 0.5, top5: 1, loss: 0.7, epoch: 1 },
      wallSeconds: 4000,
    }),
  ) as RunSummary;
  const big: LayerStats = {
    ...layer,
    params: 37_748_736,
    counts: { neg: 12_000_000, zero: 13_748_736, pos: 12_000_000 },
  };
  const model = {
    params: 37_750_000,
    ternaryParams: 37_748_736,
    layers: 2,
    ternaryLayers: 1,
    fp32Bytes: 1649.7 * 1024,
    ternaryBytes: 103.2 * 1024,
    compression: 15.99,
  };
  const report = reportMarkdown(config, summary, 'completed', [big], model, []);
  assert.match(report, / × 0\.1 at epoch 1,/);
  assert.match(report, /\| backend \| cpu, 1 thread \|/);
  assert.match(report, /\| wall time \| 1 h 07 min \|/);
  assert.match(report, /\/ −0\.25 \|/);
  assert.match(
    report,
    /37,750,000 parameters \(37,748,736 ternary, in 1 of 2 layers\): 1\.61 MiB in float32, 103\.2 KiB with 2-bit ternary weights — \*\*16\.0× smaller\*\*/,
  );
  assert.match(report, /\| 37,748,736 \| 2 \| .* \| 12,000,000 \| 13,748,736 \| 12,000,000 \|/);
  assert.doesNotMatch(report, /KiB.*1649|epochs 1\b|thread\(s\)/);
});
