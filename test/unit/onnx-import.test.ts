/**
 * ONNX import against ONNX Runtime: the fixtures of test/fixtures/onnx (exported from PyTorch by
 * make_onnx_fixtures.py) imported as tfjs models must give ONNX Runtime's outputs on random inputs
 * (≤ 1e-4 of the largest output), and bad files must fail with messages that say what and where.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { runOnnx } from '../../server/formats/onnx/runtime';
import { onnx } from 'onnx-proto';
import { importOnnx, OnnxImportError, SUPPORTED_OPS } from '../../server/formats/onnx/import';
import { loadModel } from '../../server/models/loadModel';
import { ModelFileError } from '../../server/core/modelFileError';
import { convertToTernary } from '../../server/models';
import { Rng } from '../../server/data/rng';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'onnx');
const fixture = (name: string): string => path.join(FIXTURES, `${name}.onnx`);

function randomInput(shape: number[], seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal());
}

function runOrt(file: string, nchw: Float32Array, shape: number[]): Promise<{ data: Float32Array; dims: readonly number[] }> {
  return runOnnx(file, nchw, shape, { layout: 'NCHW' });
}

/** Our model's output for an NCHW batch (transposed to the NHWC the imported model takes). */
function runTfjs(model: LayersModel, nchw: Float32Array, shape: number[]): Float32Array {
  return tf.tidy(() => {
    const x = shape.length === 4 ? tf.transpose(tf.tensor(nchw, shape), [0, 2, 3, 1]) : tf.tensor(nchw, shape);
    const y = model.predict(x) as tf.Tensor;
    return (y.rank === 4 ? tf.transpose(y, [0, 3, 1, 2]) : y).dataSync() as Float32Array;
  });
}

/** max |a − b| over max |b|: the error relative to the output's scale. */
function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'output sizes differ');
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  assert.ok(scale > 0, 'reference output is all zeros');
  return diff / scale;
}

function decodeF32(base64: string): Float32Array {
  const bytes = Buffer.from(base64, 'base64');
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

before(async () => {
  await tf.setBackend('cpu');
});

const NETWORKS: { name: string; shape: number[]; ops: string[] }[] = [
  { name: 'resnet20_cifar', shape: [3, 32, 32], ops: ['BatchNormalization', 'Concat', 'Mul', 'AveragePool', 'Reshape'] },
  { name: 'resnet18_narrow', shape: [3, 64, 64], ops: ['BatchNormalization', 'MaxPool', 'GlobalAveragePool', 'Flatten'] },
  { name: 'mobilenet_small', shape: [3, 32, 32], ops: ['Clip', 'HardSwish', 'HardSigmoid', 'LeakyRelu', 'Sigmoid', 'Pad', 'Concat'] },
  { name: 'lenet5', shape: [1, 28, 28], ops: ['MatMul', 'Softmax', 'MaxPool', 'Flatten'] },
  { name: 'pad_shortcut', shape: [3, 16, 16], ops: ['Slice', 'Pad', 'BatchNormalization'] },
];

for (const { name, shape } of NETWORKS) {
  test(`${name}: ONNX Runtime computes what PyTorch computed (the fixture is sound)`, async () => {
    const io = JSON.parse(readFileSync(path.join(FIXTURES, `${name}.io.json`), 'utf8')) as {
      inputShape: number[];
      input: string;
      output: string;
    };
    const ortOut = await runOrt(fixture(name), decodeF32(io.input), io.inputShape);
    assert.ok(relativeError(ortOut.data, decodeF32(io.output)) <= 1e-5);
  });

  test(`${name}: the imported model matches ONNX Runtime on random inputs (≤ 1e-4 relative)`, async () => {
    const model = await importOnnx(fixture(name));
    const batch = [4, ...shape];
    for (const seed of [1, 2]) {
      const x = randomInput(batch, seed);
      const ref = await runOrt(fixture(name), x, batch);
      const ours = runTfjs(model, x, batch);
      const err = relativeError(ours, ref.data);
      assert.ok(err <= 1e-4, `${name} seed ${seed}: relative error ${err}`);
    }
    model.dispose();
  });
}

test('the fixtures exercise the ops they are meant to', () => {
  for (const { name, ops } of NETWORKS) {
    const graph = onnx.ModelProto.decode(readFileSync(fixture(name))).graph!;
    const present = new Set((graph.node ?? []).map((n) => n.opType));
    assert.deepEqual(
      ops.filter((op) => !present.has(op)),
      [],
      `${name} lacks ops`,
    );
  }
});

test('layout: depthwise, depth-multiplier and grouped convs map onto DepthwiseConv2D and block-diagonal Conv2D', async () => {
  const model = await importOnnx(fixture('mobilenet_small'));
  const classes = model.layers.map((l) => l.getClassName());
  assert.ok(classes.filter((c) => c === 'DepthwiseConv2D').length >= 4, `layers: ${classes.join(' ')}`);
  assert.equal(model.inputs[0].shape.join(','), ',32,32,3', 'NHWC input');
  model.dispose();
});

test('Identity, Dropout, asymmetric Pad, padded MaxPool after ReLU, HardSigmoid(α, β), Reshape [0, −1], Gemm α/β and opset-6 Clip match ONNX Runtime', async () => {
  for (const [name, shape] of [
    ['ops_misc', [3, 2, 6, 6]],
    ['ops_clip6', [1, 2, 4, 4]],
  ] as const) {
    const model = await importOnnx(fixture(name));
    const x = randomInput([...shape], 5).map((v) => v * 4);
    const ref = await runOrt(fixture(name), x, [...shape]);
    assert.ok(relativeError(runTfjs(model, x, [...shape]), ref.data) <= 1e-5, name);
    model.dispose();
  }
});

test('loadModel takes an .onnx file; ternarizing it rewrites its convs and dense layers', async () => {
  const float = await loadModel(fixture('resnet20_cifar'));
  const twin = await convertToTernary(float, { method: 'he2019', thresholdFactor: 0.05, threshold: 'fixed', tex: 1, firstLast: 'ternary' });
  const classes = twin.layers.map((l) => l.getClassName());
  assert.equal(classes.filter((c) => c === 'TernaryConv2D').length, 19);
  assert.equal(classes.filter((c) => c === 'TernaryDense').length, 1);
  assert.equal(classes.filter((c) => c === 'BatchNormalization').length, 19);
  float.dispose();
  twin.dispose();
});

test('a truncated .onnx is an error naming the file', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'onnx-import-'));
  const file = path.join(dir, 'cut.onnx');
  const bytes = readFileSync(fixture('lenet5'));
  writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length / 2)));
  await assert.rejects(importOnnx(file), (err: Error) => {
    assert.ok(err instanceof OnnxImportError && err instanceof ModelFileError);
    assert.match(err.message, /cut\.onnx is not a valid ONNX file .*truncated/);
    return true;
  });
  const empty = path.join(dir, 'empty.onnx');
  writeFileSync(empty, '');
  await assert.rejects(importOnnx(empty), /empty\.onnx holds no graph/);
});

test('an unsupported op is an error naming the node, its op type and the supported ops', async () => {
  await assert.rejects(importOnnx(fixture('bad_unsupported_op')), (err: OnnxImportError) => {
    assert.match(
      err.message,
      /bad_unsupported_op\.onnx: node 'lpnorm_1' \(LpNormalization\): op type LpNormalization is not supported\. Supported ops: /,
    );
    for (const op of ['Conv', 'Gemm', 'BatchNormalization', 'HardSwish', 'GlobalAveragePool', 'Softmax'])
      assert.ok(err.message.includes(op), op);
    assert.deepEqual(err.node, { name: 'lpnorm_1', opType: 'LpNormalization' });
    return true;
  });
  assert.ok(SUPPORTED_OPS.includes('MatMul'));
});

test('a dynamic batch is fine; other dynamic dims are an error naming the input and its dims', async () => {
  await assert.rejects(
    importOnnx(fixture('bad_dynamic_dims')),
    /bad_dynamic_dims\.onnx: graph input 'input' has dims \["N",3,"height","width"\]: only the batch \(first\) dim may be dynamic/,
  );
  const model = await importOnnx(fixture('lenet5')); // its batch axis is dynamic ('batch')
  assert.equal(model.inputs[0].shape[0], null);
  model.dispose();
});

test('an op used in a way tfjs cannot reproduce exactly is an error naming the node and what to do', async () => {
  await assert.rejects(
    importOnnx(fixture('bad_maxpool_padding')),
    /bad_maxpool_padding\.onnx: node 'pool' \(MaxPool\): padding \[1,1,1,1\] on an input that may be negative .*put the max pool after a ReLU/,
  );
});
