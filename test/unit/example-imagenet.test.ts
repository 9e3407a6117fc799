/**
 * examples/imagenet-resnet18.tern.json (docs/imagenet.md), shrunk to run here: its resnet18-tex2
 * experiment with data.path at a synthetic image folder (10 classes × 20 JPEGs of 64×64), the
 * augmentation sizes scaled to 64 px and model.from at the narrow ResNet-18 fixture
 * (test/fixtures/onnx/resnet18_narrow.onnx: torchvision's layout, 64×64 inputs, BatchNorm kept).
 * One epoch on each engine (torch with 2 processes); both run folders are read by `tern stats`,
 * `tern eval`, `tern export` and the server's run readers (server/runs/).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfigFile } from '../../server/config/loadConfig';
import { listRuns, readRunHistory } from '../../server/runs';
import { writeSyntheticImageFolder } from '../shared/imageFolder';
import { tern } from '../shared/ternCli';
import { torchPython } from '../shared/torchPython';

const root = join(__dirname, '..', '..');
const example = join(root, 'examples', 'imagenet-resnet18.tern.json');
const fixture = join(root, 'test', 'fixtures', 'onnx', 'resnet18_narrow.onnx');

test('the ImageNet example: valid as shipped, the paper recipe on the torch engine', async () => {
  const { experiments } = await loadConfigFile(example);
  assert.deepEqual(
    experiments.map((e) => [e.name, e.quant.method === 'none' ? 0 : e.quant.tex, e.quant.method === 'none' ? 'none' : e.quant.firstLast]),
    [
      ['resnet18-tex1', 1, 'ternary'],
      ['resnet18-tex2', 2, 'ternary'],
      ['resnet18-tex4', 4, 'ternary'],
      ['resnet18-tex1-fl-float', 1, 'float'],
      ['resnet18-tex2-fl-float', 2, 'float'],
      ['resnet18-tex4-fl-float', 4, 'float'],
    ],
  );
  for (const e of experiments) {
    assert.equal(e.engine, 'torch');
    assert.equal(e.model.from, 'resnet18.onnx');
    assert.deepEqual(e.data.augment, ['rrc224', 'hflip', 'resize256center224']);
    const { epochs, batchSize, optimizer, lr, weightDecay, schedule, gammas } = e.train;
    assert.deepEqual(
      { epochs, batchSize, optimizer, lr, weightDecay, schedule, gammas },
      { epochs: 50, batchSize: 256, optimizer: 'adam', lr: 1e-4, weightDecay: 5e-6, schedule: [30, 40, 45], gammas: [0.2, 0.2, 0.5] },
    );
  }
});

test('the ImageNet example on a small folder: one epoch on each engine, every reader reads both runs', async (t) => {
  const found = await torchPython();
  if (!found.python) return t.skip(found.skip);
  const dir = mkdtempSync(join(tmpdir(), 'tern-imagenet-example-'));
  try {
    writeSyntheticImageFolder(join(dir, 'images'), { classes: 10, trainPerClass: 20, testPerClass: 4, size: [64, 64] });
    const shipped = (await loadConfigFile(example)).experiments.find((e) => e.name === 'resnet18-tex2')!;
    const experiment = {
      ...shipped,
      model: { from: fixture, classes: 10 },
      data: { ...shipped.data, path: join(dir, 'images'), augment: ['rrc64', 'hflip', 'resize73center64'] },
      train: { ...shipped.train, epochs: 1, batchSize: 40 },
    };
    const config = join(dir, 'imagenet-small.tern.json');
    writeFileSync(config, JSON.stringify({ experiments: [experiment] }, null, 1));

    const runs = join(dir, 'runs');
    const common = ['train', config, '--json', '--runs-dir', runs];
    const [tfjs, torch] = await Promise.all([
      tern(...common, '--engine', 'tfjs', '--backend', 'wasm'),
      tern(...common, '--engine', 'torch', '--nproc-per-node', '2', '--python', found.python.path),
    ]);
    const listed = await listRuns([runs]);
    for (const [engine, r] of [
      ['tfjs', tfjs],
      ['torch', torch],
    ] as const) {
      assert.equal(r.code, 0, `${engine}: ${r.err}`);
      const summary = JSON.parse(r.out.trim().split('\n').pop()!) as { status: string; runDir: string; final: { top1: number } };
      assert.equal(summary.status, 'completed', engine);
      const runDir = summary.runDir;

      const history = await readRunHistory(runDir);
      assert.equal(history.summary?.status, 'completed', engine);
      assert.deepEqual(
        history.metrics.filter((m) => m.kind === 'epoch').map((m) => m.epoch),
        [1],
        engine,
      );
      assert.equal(history.layers.length, 1, engine);
      const info = listed.find((i) => i.runDir === runDir);
      assert.equal(info?.status, 'completed', engine);
      assert.equal(info?.engine ?? 'tfjs', engine);

      const out = join(dir, `export-${engine}`);
      const [stats, ev, ex] = await Promise.all([
        tern('stats', runDir),
        tern('eval', runDir, '--config', config, '--json', '--backend', 'wasm'),
        tern('export', runDir, '--out', out),
      ]);
      assert.equal(stats.code, 0, `${engine} stats: ${stats.err}`);
      assert.match(stats.out, /TernaryConv2D/);

      assert.equal(ev.code, 0, `${engine} eval: ${ev.err}`);
      const evaluated = JSON.parse(ev.out) as { top1: number; examples: number };
      assert.equal(evaluated.examples, 40);
      // tern eval decodes and resizes with our readers: the tfjs run's own numbers; the torch run
      // validated on PIL's resize (docs/data.md: equal statistically), so a few images may flip.
      const tolerance = engine === 'tfjs' ? 1e-9 : 4 / 40;
      assert.ok(
        Math.abs(evaluated.top1 - summary.final.top1) <= tolerance,
        `${engine}: tern eval ${evaluated.top1} vs the run's ${summary.final.top1}`,
      );

      assert.equal(ex.code, 0, `${engine} export: ${ex.err}`);
      for (const f of ['model.onnx', 'model.tern', 'tfjs/model.json', 'report.md']) assert.ok(existsSync(join(out, f)), `${engine}: ${f}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
