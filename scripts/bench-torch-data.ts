/**
 * The image-folder data pipeline of both engines, side by side on one JPEG folder this script
 * writes (synthetic photographs-sized JPEGs: test/shared/imageFolder.ts; nothing is downloaded):
 *
 *   - torch engine: images/s of engines/torch/ternary_torch/data.py (PIL decode, rrc224 + hflip,
 *     imagenet normalization, DataLoader) with 0, 1, 2, … worker processes;
 *   - tfjs engine: images/s of server/data/'s image-folder reader with the same augmentations;
 *   - training throughput of each engine on the same folder: ResNet-18 (the zoo's, ternary) at
 *     224 px, one epoch of `tern train --json`, the epoch record's img/s.
 *
 *   npm run build && node --import tsx scripts/bench-torch-data.ts [--images 256] [--size 375x500]
 *        [--workers 0,1,2] [--batch 32] [--train-images 128] [--no-train] [--python PATH]
 *
 * Prints one JSON object, with the machine's load average before and after.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { DataConfig } from '../shared/experimentConfig';
import { openDataset } from '../server/data/open';
import { torchDataJob } from '../server/engines/torch/dataJob';
import { findPython } from '../server/engines/torch/python';
import { writeSyntheticImageFolder } from '../test/shared/imageFolder';

const ROOT = join(__dirname, '..');
const { values } = parseArgs({
  options: {
    images: { type: 'string', default: '256' },
    size: { type: 'string', default: '375x500' },
    workers: { type: 'string', default: '0,1,2' },
    batch: { type: 'string', default: '32' },
    'train-images': { type: 'string', default: '128' },
    'no-train': { type: 'boolean', default: false },
    python: { type: 'string' },
  },
});

const images = Number(values.images);
const [height, width] = values.size!.split('x').map(Number) as [number, number];
const batch = Number(values.batch);
const classes = 8;
const data: DataConfig = { format: 'image-folder', path: 'images', augment: ['rrc224', 'hflip'], normalize: 'imagenet' };

/** images/s of the tfjs engine's reader over one epoch of the training split (after a warm-up batch). */
async function tfjsReader(dir: string): Promise<number> {
  const ds = await openDataset(data, 'train', dir);
  let warm = true;
  let n = 0;
  let t0 = performance.now();
  for await (const b of ds.batches({ batchSize: batch, shuffle: true, seed: 1, epoch: 0, augment: true })) {
    if (warm) {
      warm = false;
      t0 = performance.now();
      continue;
    }
    n += b.n;
  }
  return n / ((performance.now() - t0) / 1000);
}

/** One epoch of `tern train --json` on the folder; the epoch record's training img/s. */
function trainThroughput(dir: string, engine: 'tfjs' | 'torch', python: string): { imgPerSec: number; wallSeconds: number } {
  const config = join(dir, `train-${engine}.tern.json`);
  const experiment = {
    name: `resnet18-${engine}`,
    model: { arch: 'resnet18', classes },
    quant: { method: 'he2019', thresholdFactor: 0.05, tex: 1 },
    data: { ...data, limitTrain: Number(values['train-images']), limitTest: batch, augment: ['rrc224', 'hflip', 'resize256center224'] },
    train: { epochs: 1, batchSize: batch, optimizer: 'adam', lr: 1e-4, schedule: [], gammas: [], seed: 1 },
  };
  writeFileSync(config, JSON.stringify({ experiments: [experiment] }));
  const args = [
    join(ROOT, 'bin', 'tern.js'),
    'train',
    config,
    '--json',
    '--engine',
    engine,
    ...(engine === 'torch' ? ['--python', python] : []),
  ];
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`tern train --engine ${engine} failed: ${r.stderr.slice(-2000)}`);
  const epoch = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { kind: string; imgPerSec?: number })
    .find((l) => l.kind === 'epoch');
  return { imgPerSec: epoch!.imgPerSec!, wallSeconds: (performance.now() - t0) / 1000 };
}

async function main(): Promise<void> {
  const python = await findPython(values.python, 'cpu');
  const dir = mkdtempSync(join(tmpdir(), 'tern-bench-torch-data-'));
  try {
    const t0 = performance.now();
    writeSyntheticImageFolder(join(dir, 'images'), {
      classes,
      trainPerClass: Math.ceil(images / classes),
      testPerClass: Math.ceil(batch / classes),
      size: [height, width],
      quality: 90,
    });
    const folderSeconds = (performance.now() - t0) / 1000;
    const loadBefore = loadavg();
    const job = await torchDataJob(data, dir, dir);
    const jobPath = join(dir, 'data-job.json');
    writeFileSync(jobPath, JSON.stringify(job));
    const torch: { workers: number; imagesPerSecond: number }[] = [];
    for (const w of values.workers!.split(',').map(Number)) {
      const out = execFileSync(python.path, [join(ROOT, 'scripts', 'bench_torch_data.py'), jobPath, String(w), String(batch)], {
        encoding: 'utf8',
      });
      torch.push(JSON.parse(out) as { workers: number; imagesPerSecond: number });
    }
    const tfjs = await tfjsReader(dir);
    const training = values['no-train']
      ? undefined
      : { tfjs: trainThroughput(dir, 'tfjs', python.path), torch: trainThroughput(dir, 'torch', python.path) };
    const out = {
      benchmark: 'image-folder data pipeline: JPEG decode + rrc224 + hflip + imagenet normalization',
      folder: {
        trainImages: Math.ceil(images / classes) * classes,
        size: `${height}x${width}`,
        jpegQuality: 90,
        writeSeconds: folderSeconds,
      },
      batch,
      torchPipeline: torch,
      tfjsReader: { imagesPerSecond: tfjs },
      training: training && { model: 'resnet18 (zoo), ternary t_ex 1, 224 px, 1 process / default backend', ...training },
      machine: {
        cpu: cpus()[0]?.model,
        cores: cpus().length,
        python: python.executable,
        torch: python.torch,
        torchvision: python.torchvision,
      },
      loadavg: { before: loadBefore, after: loadavg() },
      date: new Date().toISOString(),
    };
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
