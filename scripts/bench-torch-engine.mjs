#!/usr/bin/env node
// Training speed of the torch engine: fmnist-cnn on the first N images of Fashion-MNIST
// (the recipe of scripts/bench-accuracy.mjs: batch 128, SGD Nesterov, seed 1), one epoch through
// `tern train --engine torch --json` (torchrun, one thread per process), for each process count
// asked. Prints one JSON object: training img/s of the epoch (all processes together) and wall time.
//
//   npm run build && node scripts/bench-torch-engine.mjs [--nproc 1,2] [--limit-train 12800] [--quant ternary|float]
//                                                       [--data DIR] [--python PATH]
//
// Needs Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist) and python3-torch.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    nproc: { type: 'string', default: '1,2' },
    'limit-train': { type: 'string', default: '12800' },
    quant: { type: 'string', default: 'ternary' },
    data: { type: 'string', default: '/usr/share/datasets/fashion-mnist' },
    python: { type: 'string' },
  },
});
if (!existsSync(join(root, 'dist', 'cli.js'))) {
  process.stderr.write('bench-torch-engine: dist/cli.js is missing; run `npm run build` first.\n');
  process.exit(2);
}
const quant = values.quant === 'float' ? { method: 'none' } : { method: 'he2019', thresholdFactor: 0.05, tex: 1, firstLast: 'ternary' };
const limitTrain = Number(values['limit-train']);
const experiment = {
  name: 'speed',
  model: { arch: 'fmnist-cnn', classes: 10 },
  quant,
  data: { format: 'idx', path: resolve(values.data), normalize: { mean: [0.286], std: [0.353] }, augment: [], limitTrain, limitTest: 1000 },
  train: {
    epochs: 1,
    batchSize: 128,
    optimizer: 'sgd',
    lr: 0.05,
    momentum: 0.9,
    nesterov: true,
    weightDecay: 1e-4,
    schedule: [6, 9],
    gammas: [0.1, 0.1],
    seed: 1,
  },
};
const work = mkdtempSync(join(tmpdir(), 'tern-bench-torch-'));
const configPath = join(work, 'speed.tern.json');
writeFileSync(configPath, JSON.stringify({ experiments: [experiment] }, null, 2));

const runs = [];
for (const nproc of values.nproc.split(',').map(Number)) {
  const load = loadavg()[0];
  const started = Date.now();
  const args = [
    join(root, 'bin', 'tern.js'),
    'train',
    configPath,
    '--json',
    '--runs-dir',
    join(work, 'runs'),
    '--engine',
    'torch',
    '--nproc-per-node',
    String(nproc),
  ];
  if (values.python) args.push('--python', values.python);
  const child = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  const records = child.stdout.split('\n').flatMap((l) => {
    try {
      return [JSON.parse(l)];
    } catch {
      return [];
    }
  });
  const epoch = records.find((r) => r.kind === 'epoch');
  const summary = records.find((r) => r.kind === 'summary');
  if (!epoch || summary?.status !== 'completed') {
    process.stderr.write(
      `bench-torch-engine: the run with ${nproc} processes did not complete (exit ${child.status}):\n${child.stderr.slice(-2000)}\n`,
    );
    process.exit(1);
  }
  runs.push({
    nproc,
    imgPerSec: Math.round(epoch.imgPerSec),
    trainImages: limitTrain,
    valTop1: epoch.valTop1,
    processWallSeconds: (Date.now() - started) / 1000,
    loadAverageBefore: load,
  });
}
rmSync(work, { recursive: true, force: true });
const versions = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
process.stdout.write(
  JSON.stringify(
    {
      benchmark: 'torch engine training img/s, fmnist-cnn, 1 epoch',
      quant: values.quant,
      cpu: cpus()[0]?.model,
      cores: cpus().length,
      ternaryStudio: versions,
      runs,
    },
    null,
    2,
  ) + '\n',
);
