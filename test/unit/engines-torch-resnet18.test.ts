/**
 * A model the studio did not make: torchvision's own ResNet-18 (random init, 4 classes), exported to
 * ONNX with its BatchNorm kept (as docs/imagenet.md exports the pretrained one), trains from
 * `model.from` on an image folder on the torch engine with 2 processes, each with 2 forked
 * `DataLoader` workers (train.workers; ternary_torch/events.py says why forking is safe while
 * rank 0's reply thread waits on stdin). Small on purpose: 32×32 JPEGs, 16 training images, one
 * epoch of 2 steps. The run folder is read by `tern stats` and `tern eval`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MetricsRecord } from '../../shared/runRecords';
import { writeSyntheticImageFolder } from '../shared/imageFolder';
import { tern } from '../shared/ternCli';
import { torchPython } from '../shared/torchPython';

const EXPORT_RESNET18 = `
import sys
import torch
import torchvision
torch.manual_seed(0)
model = torchvision.models.resnet18(weights=None, num_classes=4).eval()
torch.onnx.export(
    model, torch.randn(1, 3, 32, 32), sys.argv[1],
    opset_version=14, input_names=["input"], output_names=["output"],
    dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
    training=torch.onnx.TrainingMode.PRESERVE,
)
`;

test("torchvision's ResNet-18 from ONNX trains on an image folder on the torch engine, 2 processes with 2 workers each", async (t) => {
  const found = await torchPython();
  if (!found.python) return t.skip(found.skip);
  const dir = mkdtempSync(join(tmpdir(), 'tern-torch-resnet18-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));

  const onnx = join(dir, 'resnet18.onnx');
  const exported = spawnSync(found.python.path, ['-c', EXPORT_RESNET18, onnx], { encoding: 'utf8' });
  assert.equal(exported.status, 0, exported.stderr);
  writeSyntheticImageFolder(join(dir, 'images'), { classes: 4, trainPerClass: 4, testPerClass: 2, size: [32, 32] });
  const config = join(dir, 'resnet18.tern.json');
  const experiment = {
    name: 'resnet18',
    engine: 'torch',
    model: { from: onnx, classes: 4 },
    quant: { method: 'he2019', thresholdFactor: 0.05, tex: 2 },
    data: { format: 'image-folder', path: join(dir, 'images'), augment: ['crop32pad4', 'hflip'], normalize: 'imagenet' },
    train: { epochs: 1, batchSize: 8, optimizer: 'adam', lr: 1e-4, weightDecay: 5e-6, seed: 1, workers: 2 },
  };
  writeFileSync(config, JSON.stringify({ experiments: [experiment] }, null, 1));

  const trained = await tern(
    'train',
    config,
    '--json',
    '--runs-dir',
    join(dir, 'runs'),
    '--nproc-per-node',
    '2',
    '--python',
    found.python.path,
  );
  assert.equal(trained.code, 0, trained.err);
  const summary = JSON.parse(trained.out.trim().split('\n').pop()!) as { status: string; runDir: string; epochs: number };
  assert.equal(summary.status, 'completed');
  assert.equal(summary.epochs, 1);
  const runDir = summary.runDir;

  const runConfig = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')) as { engine: string; worldSize: number };
  assert.deepEqual([runConfig.engine, runConfig.worldSize], ['torch', 2]);
  const metrics = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as MetricsRecord);
  const epoch = metrics.find((m) => m.kind === 'epoch');
  assert.ok(epoch, 'an epoch record');
  assert.equal(epoch.step, 2, '16 images in batches of 8');
  assert.ok(Number.isFinite(epoch.loss) && Number.isFinite(epoch.valLoss), `finite losses: ${epoch.loss}, ${epoch.valLoss}`);
  const layers = readFileSync(join(runDir, 'layers.jsonl'), 'utf8').trim().split('\n');
  assert.equal(layers.length, 1);
  // torchvision's ResNet-18: 20 convolutions and fc, every one ternary, each with its 2 REL branches.
  const record = JSON.parse(layers[0]!) as { layers: { type: string; ternary: boolean; branches: unknown[] }[] };
  const kernels = record.layers.filter((l) => l.ternary);
  assert.equal(kernels.length, 21);
  assert.ok(kernels.every((l) => l.branches.length === 2));

  const [stats, evaluated] = await Promise.all([
    tern('stats', runDir),
    tern('eval', runDir, '--config', config, '--json', '--backend', 'wasm'),
  ]);
  assert.equal(stats.code, 0, stats.err);
  assert.match(stats.out, /TernaryConv2D/);
  assert.match(stats.out, /TernaryDense/);
  assert.equal(evaluated.code, 0, evaluated.err);
  const result = JSON.parse(evaluated.out) as { examples: number; loss: number };
  assert.equal(result.examples, 8);
  assert.ok(Number.isFinite(result.loss));
});
