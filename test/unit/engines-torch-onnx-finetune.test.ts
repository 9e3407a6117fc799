/**
 * The ONNX fixtures fine-tune from `model.from` on both engines, through `tern train` as a user runs
 * it, with equal losses: the CIFAR ResNet-20 (option-A shortcut as a strided 1×1 average pool and a
 * Concat with zeros) and the MobileNetV2-style net (depthwise and grouped convs, ReLU6, HardSwish, a
 * squeeze-excite gate, LeakyReLU, Sigmoid, Concatenate, a padded average pool). Their ternary twins
 * take 3 SGD steps on 16 images. (The narrow ResNet-18 fixture takes 64 px images, which reach the
 * torch engine only through an image folder.)
 *
 * Every epoch is one batch of the whole (tiny) training set without augmentation, so the engines'
 * different shuffles (tfjs's seeded RNG, torch's DistributedSampler) draw the same batch and epoch
 * k's loss is the loss of step k on both. Tolerance 1e-5 relative: each layer's forward and
 * backward agree to ~1e-6 (test/unit/engines-torch-layers.test.ts) and the first loss is equal to
 * the last digit, but SGD on 16 images amplifies float32 rounding at each step, the more the larger
 * the learning rate (ResNet-20 at lr 0.01 here: 2e-6, 2e-5, 3e-4 after steps 2, 3, 4; at 0.002:
 * 5e-7, 9e-7, 2e-6), so the steps are small ones.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MetricsRecord } from '../../shared/runRecords';
import { tern } from '../shared/ternCli';
import { torchPython } from '../shared/torchPython';

const ROOT = join(__dirname, '..', '..');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'onnx');
const TOLERANCE = 1e-5;
const LR = 0.002;
const IMAGES = 16;
const STEPS = 3;

/** CIFAR-10 binary files of IMAGES seeded 32×32×3 records (the reader wants all five train files). */
function writeCifar(dir: string): void {
  mkdirSync(dir, { recursive: true });
  let s = 12345;
  const record = (label: number): Buffer => {
    const r = Buffer.alloc(3073);
    r[0] = label;
    for (let i = 1; i < r.length; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      r[i] = s >>> 24;
    }
    return r;
  };
  const batch = (n: number): Buffer => Buffer.concat(Array.from({ length: n }, (_, i) => record(i % 10)));
  for (let b = 1; b <= 5; b++) writeFileSync(join(dir, `data_batch_${b}.bin`), batch(b === 1 ? IMAGES : 1));
  writeFileSync(join(dir, 'test_batch.bin'), batch(8));
}

function epochLosses(runsDir: string, experiment: string): number[] {
  const [runId] = readdirSync(join(runsDir, experiment));
  return readFileSync(join(runsDir, experiment, runId!, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as MetricsRecord)
    .filter((r) => r.kind === 'epoch')
    .map((r) => r.loss);
}

for (const fixture of ['resnet20_cifar', 'mobilenet_small']) {
  test(`${fixture}.onnx fine-tunes from model.from for ${STEPS} steps with the same losses on tfjs and torch (≤ ${TOLERANCE} relative)`, async (t) => {
    const found = await torchPython();
    if (!found.python) return t.skip(found.skip);
    const dir = mkdtempSync(join(tmpdir(), `tern-onnx-ft-${fixture}-`));
    try {
      writeCifar(join(dir, 'data'));
      copyFileSync(join(FIXTURES, `${fixture}.onnx`), join(dir, `${fixture}.onnx`));
      const experiment = {
        name: 'ft',
        model: { from: `../${fixture}.onnx`, classes: 10 },
        quant: { method: 'he2019', thresholdFactor: 0.05, tex: 1, firstLast: 'float' },
        data: { format: 'cifar10-bin', path: '../data', limitTrain: IMAGES, limitTest: 8 },
        train: {
          epochs: STEPS,
          batchSize: IMAGES,
          optimizer: 'sgd',
          lr: LR,
          momentum: 0.9,
          weightDecay: 1e-4,
          schedule: [],
          gammas: [],
          seed: 3,
        },
      };
      const losses: Record<string, number[]> = {};
      for (const engine of ['tfjs', 'torch']) {
        // One folder per engine: each its own config file and runs/ beside it.
        mkdirSync(join(dir, engine));
        const config = join(dir, engine, 'ft.tern.json');
        writeFileSync(config, JSON.stringify({ experiments: [experiment] }));
        const args = ['train', config, '--engine', engine, '--json', ...(engine === 'torch' ? ['--python', found.python.path] : [])];
        const r = await tern(...args);
        assert.equal(r.code, 0, `${engine}: ${r.err}`);
        losses[engine] = epochLosses(join(dir, engine, 'runs'), 'ft');
      }
      t.diagnostic(JSON.stringify(losses));
      assert.equal(losses.tfjs!.length, STEPS);
      assert.equal(losses.torch!.length, STEPS);
      for (let k = 0; k < STEPS; k++) {
        const [a, b] = [losses.torch![k]!, losses.tfjs![k]!];
        assert.ok(Number.isFinite(b) && Math.abs(a - b) / Math.abs(b) <= TOLERANCE, `step ${k + 1}: torch ${a}, tfjs ${b}`);
      }
      assert.notEqual(losses.tfjs![0], losses.tfjs![STEPS - 1], 'the steps changed the weights');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
