/**
 * Sweeps (shared/sweep.ts, server/runs/sweep.ts, `tern sweep`): the grid, a point applied to an
 * experiment, the Pareto front, the config's checks of a sweep, and the CLI running a grid as tagged
 * runs and, run again, training only the points that have no completed run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applySweepPoint, paretoFront, pointLabel, sweepId, sweepPoints, tradeoffRowOf } from '../../shared/sweep';
import { checkConfigText } from '../../server/config/checkConfig';
import { loadConfigFile, resolveExperiment } from '../../server/config/loadConfig';
import { planSweep } from '../../server/runs/sweep';
import { parseSetValues } from '../../server/cli/commands/sweep';
import { trainArgs } from '../../server/rpc/detachedTrain';
import type { RunConfigRecord, RunSummary } from '../../shared/runRecords';
import { writeTwoClassIdx } from '../shared/idx';
import { tern } from '../shared/ternCli';

test('the grid: every combination, first key slowest; a point written into the experiment; labels and ids', () => {
  const spec = { 'quant.tex': [1, 2], 'quant.thresholdFactor': [0.03, 0.05, 0.1] };
  const points = sweepPoints(spec);
  assert.equal(points.length, 6);
  assert.deepEqual(points[0], { 'quant.tex': 1, 'quant.thresholdFactor': 0.03 });
  assert.deepEqual(points[5], { 'quant.tex': 2, 'quant.thresholdFactor': 0.1 });
  const experiment = { name: 'e', quant: { method: 'he2019', tex: 1 }, train: { lr: 0.1 }, sweep: spec };
  const applied = applySweepPoint(experiment, { 'quant.tex': 2, 'train.lr': 0.01 });
  assert.deepEqual(applied, { name: 'e', quant: { method: 'he2019', tex: 2 }, train: { lr: 0.01 } });
  assert.deepEqual(experiment.quant, { method: 'he2019', tex: 1 }, 'the experiment itself is left alone');
  assert.equal(pointLabel(points[1]), 'quant.tex=1 · quant.thresholdFactor=0.05');
  assert.equal(sweepId('e', spec), sweepId('e', JSON.parse(JSON.stringify(spec))));
  assert.notEqual(sweepId('e', spec), sweepId('e', { 'quant.tex': [1, 2] }));
  assert.deepEqual(parseSetValues('1,2,4'), [1, 2, 4]);
  assert.deepEqual(parseSetValues('fixed,optimal'), ['fixed', 'optimal']);
});

test('Pareto front: cheapest first, each point better than every cheaper one', () => {
  const pts = [
    { x: 2, y: 0.8 },
    { x: 4, y: 0.85 },
    { x: 3, y: 0.7 },
    { x: 4, y: 0.9 },
    { x: 7, y: 0.88 },
  ];
  assert.deepEqual(
    paretoFront(
      pts,
      (p) => p.x,
      (p) => p.y,
    ),
    [
      { x: 2, y: 0.8 },
      { x: 4, y: 0.9 },
    ],
  );
});

test('config checks of a sweep: unknown keys with a guess, bad values at their index, invalid combinations', () => {
  const text = JSON.stringify(
    {
      experiments: [
        {
          name: 'a',
          model: { arch: 'fmnist-cnn', classes: 10 },
          data: { format: 'idx', path: 'd' },
          sweep: { 'quant.tex': [1, 3], 'quant.treshold': ['fixed'], 'train.lr': [-1] },
        },
        {
          name: 'b',
          model: { arch: 'fmnist-cnn', classes: 10 },
          data: { format: 'idx', path: 'd' },
          quant: { method: 'twn' },
          sweep: { 'quant.tex': [1, 2] },
        },
      ],
    },
    null,
    2,
  );
  const problems = checkConfigText(text, 'x.tern.json').problems.map((p) => [p.property, p.detail]);
  assert.deepEqual(problems, [
    ['experiments[0].sweep.quant.tex[1]', '3 for quant.tex: must be one of 1, 2, 4.'],
    [
      'experiments[0].sweep.quant.treshold',
      'is not a setting a sweep can vary; did you mean "quant.threshold"? Expected one of: quant.method, quant.thresholdFactor, quant.threshold, quant.tex, quant.firstLast, quant.activations, train.epochs, train.batchSize, train.optimizer, train.lr, train.momentum, train.weightDecay, train.seed.',
    ],
    ['experiments[0].sweep.train.lr[0]', '-1 for train.lr: must be > 0.'],
    [
      'experiments[1].sweep.quant.tex',
      'the point {"quant.tex":2} is not a valid setting: tex must be 1 with method "twn" (got 2): REL branches are defined by he2019 threshold factors; TWN has one fixed threshold.',
    ],
  ]);
});

test('tern sweep: a 2-point grid as two tagged runs and its table; run again, only the point without a completed run trains', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tern-sweep-'));
  mkdirSync(join(dir, 'data'));
  writeTwoClassIdx(join(dir, 'data'));
  const config = join(dir, 'sweep.tern.json');
  writeFileSync(
    config,
    JSON.stringify({
      experiments: [
        {
          name: 's',
          model: { arch: 'fmnist-cnn', classes: 2 },
          data: { format: 'idx', path: 'data' },
          train: { epochs: 1, batchSize: 16, optimizer: 'adam', lr: 0.01, weightDecay: 0, schedule: [], gammas: [], seed: 3 },
          sweep: { 'quant.tex': [1] },
        },
      ],
    }),
  );
  // --set replaces the config's values of the key; a value the setting does not take is the option's mistake.
  const [first, bad] = await Promise.all([
    tern('sweep', config, '--set', 'quant.tex=1,2', '--backend', 'wasm'),
    tern('sweep', config, '--set', 'quant.tex=1,3', '--backend', 'wasm'),
  ]);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /^tern sweep: --set quant\.tex=1,3: 3 for quant\.tex: must be one of 1, 2, 4\./);
  assert.equal(first.code, 0, first.err);
  assert.match(first.out, /1 +quant\.tex=1 +completed +\d+\.\d\d% +2\.\d\d/);
  assert.match(first.out, /2 +quant\.tex=2 +completed +\d+\.\d\d% +3\.\d\d/);
  const runs = () => readdirSync(join(dir, 'runs', 's'));
  assert.equal(runs().length, 2);
  const records = runs().map((id) => JSON.parse(readFileSync(join(dir, 'runs', 's', id, 'config.json'), 'utf8')) as RunConfigRecord);
  const byIndex = new Map(records.map((r) => [r.sweep!.index, r]));
  assert.deepEqual(byIndex.get(1)!.sweep!.point, { 'quant.tex': 2 });
  assert.equal(byIndex.get(1)!.sweep!.count, 2);
  assert.equal((byIndex.get(1)!.experiment.quant as { tex: number }).tex, 2, 'the run trains the point');
  const summary = JSON.parse(readFileSync(join(dir, 'runs', 's', byIndex.get(1)!.runId, 'summary.json'), 'utf8')) as RunSummary;
  assert.deepEqual(summary.sweep, byIndex.get(1)!.sweep);

  // The plan of the same grid: both points done. Without point 2's run, only it trains again.
  writeFileSync(config, readFileSync(config, 'utf8').replace('"quant.tex":[1]', '"quant.tex":[1,2]'));
  const experiment = resolveExperiment(await loadConfigFile(config), 's');
  assert.deepEqual(
    (await planSweep(experiment, join(dir, 'runs'))).points.map((p) => p.action),
    ['done', 'done'],
  );
  rmSync(join(dir, 'runs', 's', byIndex.get(1)!.runId), { recursive: true });
  assert.deepEqual(
    (await planSweep(experiment, join(dir, 'runs'))).points.map((p) => p.action),
    ['done', 'train'],
  );
  const again = await tern('sweep', config, '--json', '--backend', 'wasm');
  assert.equal(again.code, 0, again.err);
  assert.equal(runs().length, 2);
  const last = JSON.parse(again.out.trim().split('\n').pop()!) as {
    kind: string;
    rows: { index: number; status: string; bitsPerWeight: number }[];
  };
  assert.equal(last.kind, 'sweep');
  // The training server trains a point as `tern train --sweep-point N` (server/rpc/detachedTrain.ts).
  const args = trainArgs({ configPath: config, experiment: 's', sweepIndex: 1 }, join(dir, 'runs'), undefined);
  assert.deepEqual(args.slice(args.indexOf('--sweep-point'), args.indexOf('--sweep-point') + 2), ['--sweep-point', '1']);
  const point = await tern('train', config, '--sweep-point', '1', '--backend', 'wasm', '--json');
  assert.equal(point.code, 0, point.err);
  const runDir = (JSON.parse(point.out.trim().split('\n').pop()!) as { runDir: string }).runDir;
  const record = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')) as RunConfigRecord;
  assert.deepEqual(record.sweep?.point, { 'quant.tex': 2 });
  assert.equal((record.experiment.quant as { tex: number }).tex, 2);
  assert.deepEqual(
    last.rows.map((r) => [r.index, r.status]),
    [
      [0, 'completed'],
      [1, 'completed'],
    ],
  );
});

test('trade-off rows: bits per weight from the packed size, sparsity over the ternary layers, float baselines at 32 bits', () => {
  const counts = { neg: 3, zero: 4, pos: 1 };
  const layer = (ternary: boolean) => ({
    layer: ternary ? 't' : 'f',
    type: ternary ? 'TernaryDense' : 'Dense',
    ternary,
    shape: [4, 2],
    params: 8,
    bits: ternary ? 2 : 32,
    delta: 0,
    alpha: 0,
    sparsity: 0,
    counts: ternary ? counts : { neg: 0, zero: 0, pos: 0 },
    branches: [],
  });
  const summary = { layers: 2, ternaryLayers: 1, params: 16, ternaryParams: 8, fp32Bytes: 64, ternaryBytes: 38, compression: 64 / 38 };
  const history = (method: string, sweep?: RunConfigRecord['sweep']) => ({
    status: 'completed',
    config: {
      runId: 'r1',
      experiment: { name: 'e', quant: { method, tex: 2 } },
      ...(sweep ? { sweep } : {}),
    } as unknown as RunConfigRecord,
    layers: [{ epoch: 1, layers: [layer(true), layer(false)], summary }],
    summary: { epochs: 1, final: { top1: 0.5, top5: 1, loss: 1 } } as RunSummary,
  });
  const sweep = { id: 'e~1', index: 1, count: 2, point: { 'quant.tex': 2 } };
  const row = tradeoffRowOf('/r', history('he2019', sweep))!;
  assert.equal(row.float, false);
  assert.equal(row.bitsPerWeight, (38 * 8) / 16);
  assert.equal(row.sparsity, 4 / 8);
  assert.equal(row.top1, 0.5);
  assert.deepEqual(row.sweep, sweep);
  assert.equal(row.settings['quant.tex'], 2);
  const float = tradeoffRowOf('/f', history('none'))!;
  assert.equal(float.float, true);
  assert.equal(float.bitsPerWeight, 32);
  assert.deepEqual(float.settings, { 'quant.method': 'none' });
  assert.equal(tradeoffRowOf('/x', { status: 'crashed', layers: [] }), undefined);
});
