/**
 * An `.onnx` CNN as `model.from` (QAT fine-tuning from pretrained float weights) and as the input of
 * `tern ternarize`, through the CLI as a user runs it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeIdxSplit } from '../shared/idx';
import { tern } from '../shared/ternCli';

const ROOT = join(__dirname, '..', '..');
const LENET = join(ROOT, 'test', 'fixtures', 'onnx', 'lenet5.onnx');

/** A workspace with 28×28 IDX images of 10 classes and lenet5.onnx (exported from PyTorch) beside it. */
function workspace(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tern-onnx-'));
  mkdirSync(join(dir, 'data'));
  for (const [prefix, count] of [
    ['train', 32],
    ['t10k', 16],
  ] as const) {
    const images = new Uint8Array(count * 784);
    const labels = new Uint8Array(count);
    for (let n = 0; n < count; n++) {
      labels[n] = n % 10;
      for (let p = 0; p < 784; p++) images[n * 784 + p] = (p * 7 + n * 31) % 256;
    }
    writeIdxSplit(join(dir, 'data'), prefix, images, labels, 28);
  }
  mkdirSync(join(dir, 'models'));
  copyFileSync(LENET, join(dir, 'models', 'lenet5.onnx'));
  return dir;
}

test('model.from an .onnx file fine-tunes its ternary twin: tern train runs QAT steps and writes a ternary model', async () => {
  const dir = workspace();
  const config = join(dir, 'onnx.tern.json');
  writeFileSync(
    config,
    JSON.stringify({
      experiments: [
        {
          name: 'lenet-onnx',
          model: { from: 'models/lenet5.onnx', classes: 10 },
          quant: { method: 'he2019', thresholdFactor: 0.05, tex: 1 },
          data: { format: 'idx', path: 'data' },
          train: { epochs: 1, batchSize: 16, optimizer: 'sgd', lr: 0.01, weightDecay: 0, schedule: [], gammas: [], seed: 3 },
        },
      ],
    }),
  );
  const result = await tern('train', config, '--backend', 'cpu', '--json');
  assert.equal(result.code, 0, result.err);
  const runs = join(dir, 'runs', 'lenet-onnx');
  const [runId] = readdirSync(runs);
  const summary = JSON.parse(readFileSync(join(runs, runId, 'summary.json'), 'utf8')) as { status: string; epochs: number };
  assert.equal(summary.status, 'completed');
  const model = JSON.parse(readFileSync(join(runs, runId, 'model', 'model.json'), 'utf8')) as {
    modelTopology: { config: { layers: { class_name: string }[] } };
  };
  const classes = model.modelTopology.config.layers.map((l) => l.class_name);
  assert.equal(classes.filter((c) => c === 'TernaryConv2D').length, 2);
  assert.equal(classes.filter((c) => c === 'TernaryDense').length, 3);
  assert.equal(classes.at(-1), 'Softmax');
  const layers = readFileSync(join(runs, runId, 'layers.jsonl'), 'utf8')
    .trim()
    .split('\n');
  const record = JSON.parse(layers.at(-1)!) as { layers: { ternary: boolean; sparsity: number }[] };
  assert.equal(record.layers.filter((l) => l.ternary).length, 5);
});

test('tern ternarize takes an .onnx file; a bad one exits 1 with one message naming the file', async () => {
  const dir = workspace();
  const cut = join(dir, 'models', 'cut.onnx');
  writeFileSync(cut, readFileSync(LENET).subarray(0, 1000));
  const [ok, bad] = await Promise.all([
    tern('ternarize', join(dir, 'models', 'lenet5.onnx'), '--out', join(dir, 'lenet5-ternary'), '--json'),
    tern('ternarize', cut, '--out', join(dir, 'cut-ternary')),
  ]);
  assert.equal(ok.code, 0, ok.err);
  const stats = ok.out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { layer?: string; ternary?: boolean });
  assert.equal(stats.filter((s) => s.ternary).length, 5);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /^tern ternarize: .*cut\.onnx is not a valid ONNX file .*truncated.*\n$/);
  assert.ok(!bad.err.includes('    at '), 'no stack trace');
});

test('model.from an .onnx made for another image size is one config error naming both sizes', async () => {
  const dir = workspace();
  copyFileSync(join(ROOT, 'test', 'fixtures', 'onnx', 'resnet20_cifar.onnx'), join(dir, 'models', 'resnet20.onnx'));
  const config = join(dir, 'wrong.tern.json');
  writeFileSync(
    config,
    JSON.stringify({
      experiments: [
        {
          name: 'r',
          model: { from: 'models/resnet20.onnx', classes: 10 },
          data: { format: 'idx', path: 'data' },
          train: { epochs: 1, batchSize: 16 },
        },
      ],
    }),
  );
  const result = await tern('train', config, '--backend', 'cpu');
  assert.equal(result.code, 1);
  assert.match(
    result.err,
    /^tern train: .*wrong\.tern\.json: model\.from \(experiment "r"\): .*resnet20\.onnx takes inputs of 32×32×3 \(H×W×C\) but the data's images are 28×28×1; /,
  );
});
