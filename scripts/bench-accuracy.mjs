#!/usr/bin/env node
// Accuracy on the full Fashion-MNIST: fmnist-cnn, float and ternary (t_ex 1), with the
// recipe batch 128, SGD Nesterov 0.9, lr 0.05, weight decay 1e-4, lr × 0.1 at epochs 6 and 9,
// 10 epochs, no augmentation, normalize 0.2860 / 0.3530, seed 1 (`--seed N` for another draw of the
// initial weights and the data order; `--tex 2|4` and `--threshold optimal` for the ternary model's
// REL branches and threshold rule, `--activations int8` for the ternary model trained with 8-bit
// activations, docs/method.md). Prints one JSON object.
//
//   npm run build && node scripts/bench-accuracy.mjs [--epochs N] [--backend B] [--threads T] [--only float|ternary]
//                                                     [--sequential] [--data DIR] [--runs-dir DIR] [--seed N]
//                                                     [--tex 1|2|4] [--threshold fixed|optimal] [--activations float|int8]
//                                                     [--engine torch [--nproc-per-node N] [--workers W]]
//                                                     [--format image-folder --data FOLDER]
//
// `--format image-folder` reads the same data as PNGs (made by scripts/make-fmnist-folder.ts; the
// readers turn them into 28×28 RGB, grey copied into three channels) instead of the IDX files.
//
// Each model trains through `tern train --json` (the same code path users run); by default the two
// runs go in parallel (the wasm backend computes on one thread; give onednn `--threads 1` then, or
// `--sequential` with all cores). Needs the Debian package
// dataset-fashion-mnist (/usr/share/datasets/fashion-mnist).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    epochs: { type: 'string', default: '10' },
    backend: { type: 'string', default: 'auto' },
    threads: { type: 'string' },
    only: { type: 'string' },
    sequential: { type: 'boolean', default: false },
    data: { type: 'string', default: '/usr/share/datasets/fashion-mnist' },
    'runs-dir': { type: 'string' },
    engine: { type: 'string' },
    'nproc-per-node': { type: 'string' },
    seed: { type: 'string', default: '1' },
    format: { type: 'string', default: 'idx' },
    workers: { type: 'string' },
    tex: { type: 'string', default: '1' },
    threshold: { type: 'string', default: 'fixed' },
    activations: { type: 'string', default: 'float' },
  },
});

const dataDir = resolve(values.data);
const imageFolder = values.format === 'image-folder';
if (imageFolder ? !existsSync(join(dataDir, 'train')) : !existsSync(join(dataDir, 'train-images-idx3-ubyte.gz')) && !existsSync(join(dataDir, 'train-images-idx3-ubyte'))) {
  process.stderr.write(imageFolder
    ? `bench-accuracy: no ${join(dataDir, 'train')}; make the folder with \`node --import tsx scripts/make-fmnist-folder.ts --out ${dataDir}\`.\n`
    : `bench-accuracy: no Fashion-MNIST in ${dataDir}; install it with \`sudo apt-get install dataset-fashion-mnist\` or pass --data DIR.\n`);
  process.exit(2);
}
if (!existsSync(join(root, 'dist', 'cli.js'))) {
  process.stderr.write('bench-accuracy: dist/cli.js is missing; run `npm run build` first.\n');
  process.exit(2);
}

const recipe = {
  epochs: Number(values.epochs), batchSize: 128, optimizer: 'sgd', lr: 0.05, momentum: 0.9, nesterov: true,
  weightDecay: 1e-4, schedule: [6, 9], gammas: [0.1, 0.1], seed: Number(values.seed),
  ...(values.workers !== undefined ? { workers: Number(values.workers) } : {}),
};
const data = { format: imageFolder ? 'image-folder' : 'idx', path: dataDir, normalize: { mean: [0.286], std: [0.353] }, augment: [] };
const experiments = [
  { name: 'fmnist-cnn-float', model: { arch: 'fmnist-cnn', classes: 10 }, quant: { method: 'none' }, data, train: recipe },
  { name: 'fmnist-cnn-tern', model: { arch: 'fmnist-cnn', classes: 10 }, quant: { method: 'he2019', thresholdFactor: 0.05, threshold: values.threshold, tex: Number(values.tex), firstLast: 'ternary', activations: values.activations }, data, train: recipe },
].filter((e) => !values.only || e.name.endsWith(values.only === 'ternary' ? 'tern' : values.only));

const work = mkdtempSync(join(tmpdir(), 'tern-bench-accuracy-'));
const configPath = join(work, 'fmnist-full.tern.json');
writeFileSync(configPath, JSON.stringify({ experiments }, null, 2));
const runsDir = resolve(values['runs-dir'] ?? join(work, 'runs'));
mkdirSync(runsDir, { recursive: true });

/** Runs one experiment through the CLI; resolves with its summary and per-epoch records. */
function trainOne(name) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [join(root, 'bin', 'tern.js'), 'train', configPath, '--experiment', name, '--json', '--runs-dir', runsDir, '--backend', values.backend, ...(values.threads ? ['--threads', values.threads] : []), ...(values.engine ? ['--engine', values.engine] : []), ...(values['nproc-per-node'] ? ['--nproc-per-node', values['nproc-per-node']] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
    const epochs = [];
    let summary;
    let start;
    let buffer = '';
    child.stdout.on('data', (chunk) => {
      buffer += chunk;
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        let record;
        try { record = JSON.parse(line); } catch { continue; }
        if (record.kind === 'start') start = record;
        if (record.kind === 'epoch') {
          epochs.push({ epoch: record.epoch, lr: record.lr, loss: record.loss, top1: record.top1, valTop1: record.valTop1, valTop5: record.valTop5, imgPerSec: record.imgPerSec, time: record.time });
          process.stderr.write(`${name}: epoch ${record.epoch} val top-1 ${(record.valTop1 * 100).toFixed(2)}% (${record.time.toFixed(0)} s)\n`);
        }
        if (record.kind === 'summary') summary = record;
      }
    });
    child.on('error', reject);
    child.on('close', (code) => (summary ? resolvePromise({ name, code, backend: start?.backend, summary, epochs }) : reject(new Error(`${name}: tern train exited with ${code} without a summary`))));
  });
}

const started = Date.now();
const results = [];
if (values.sequential) for (const e of experiments) results.push(await trainOne(e.name));
else results.push(...(await Promise.all(experiments.map((e) => trainOne(e.name)))));

const byName = Object.fromEntries(results.map((r) => [r.name, r]));
const pick = (r) => r && {
  status: r.summary.status,
  backend: r.summary.backend,
  epochs: r.summary.epochs,
  top1: r.summary.final.top1,
  top5: r.summary.final.top5,
  bestTop1: r.summary.best.top1,
  wallSeconds: r.summary.wallSeconds,
  secondsPerEpoch: r.summary.epochs ? r.summary.wallSeconds / r.summary.epochs : undefined,
  compression: r.summary.compression,
  runDir: r.summary.runDir,
  perEpoch: r.epochs,
};
const float = pick(byName['fmnist-cnn-float']);
const ternary = pick(byName['fmnist-cnn-tern']);
const out = {
  benchmark: 'fmnist-cnn accuracy on full Fashion-MNIST (60k/10k)',
  format: data.format,
  engine: values.engine ?? 'tfjs',
  recipe: { ...recipe, augment: [], normalize: data.normalize },
  parallel: !values.sequential,
  float,
  ternary,
  gapPoints: float && ternary ? (float.top1 - ternary.top1) * 100 : undefined,
  targets: ternary ? { ternaryAtLeast92: ternary.top1 >= 0.92, withinOnePointOfFloat: float ? float.top1 - ternary.top1 <= 0.01 : undefined } : undefined,
  wallSeconds: (Date.now() - started) / 1000,
};
process.stdout.write(JSON.stringify(out, null, 2) + '\n');
process.exitCode = results.every((r) => r.summary.status === 'completed') ? 0 : 1;
