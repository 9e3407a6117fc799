/**
 * 8-bit activations at export (server/export/int8Activations.ts, server/formats/onnx/export/int8Plan.ts):
 * ONNX Runtime turns model-int8.onnx into integer convolutions/GEMMs, the file computes what our
 * fake-quantized inference does within the stated bound, calibration is deterministic for a seed,
 * and bad options are refused with what to do.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type * as tfl from '@tensorflow/tfjs-layers';
import { buildModel } from '../../server/models';
import { saveModel } from '../../server/core/modelIO';
import { packModel } from '../../server/formats/packedModel';
import { exportModelFiles, INT8_LOGIT_STEPS, INT8_ONNX_FILE, PARITY_TOLERANCE } from '../../server/export/exportModel';
import {
  calibrate,
  fakeQuantPredict,
  Int8ExportError,
  trainedActivations,
  type CalibrationImages,
} from '../../server/export/int8Activations';
import { activationQuant, inputRanges, setRangeObserving } from '../../server/core/activationQuant';
import { withFloatActivations } from '../../server/models/convert';
import { calibrationImages, exportModelTarget, exportRun } from '../../server/export/exportRun';
import { exportOnnx } from '../../server/formats/onnx/export/toOnnx';
import { openSession } from '../../server/formats/onnx/runtime';
import { decodeModel } from '../../server/formats/onnx/proto';
import type { RunConfigRecord } from '../../shared/runRecords';
import { setup } from './trainFixture';
import { tern } from '../shared/ternCli';

const tmp = () => mkdtempSync(join(tmpdir(), 'tern-int8-'));

/** A ternary (t_ex 1) model with seeded random weights and BatchNorm statistics, as export sees a trained one. */
function ternaryModel(arch: string, firstLast: 'float' | 'ternary', inputShape?: number[], classes = 10): tfl.LayersModel {
  const model = buildModel({
    arch,
    classes,
    ...(inputShape ? { inputShape } : {}),
    quant: { method: 'he2019', thresholdFactor: 0.05, threshold: 'fixed', tex: 1, firstLast },
    seed: 5,
  });
  let s = 11;
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const n = layer.getWeights()[0].shape[0];
    const values = layer.weights.map((w) => {
      const kind = w.originalName.slice(w.originalName.lastIndexOf('/') + 1);
      return tf.tidy(() => {
        const u = tf.randomUniform([n], 0, 1, 'float32', s++);
        // Some negative γ: their channels' int8 codes are flipped (Builder.int8Inputs).
        return kind === 'gamma' ? tf.sub(tf.mul(u, 2), 0.4) : kind === 'moving_variance' ? tf.add(u, 0.5) : tf.mul(tf.sub(u, 0.5), 0.2);
      });
    });
    layer.setWeights(values);
    tf.dispose(values);
  }
  return model;
}

function randomImages(model: tfl.LayersModel, n: number, seed: number): CalibrationImages {
  const shape = [n, ...(model.inputs[0].shape.slice(1) as number[])];
  const x = tf.tidy(() => tf.randomNormal(shape, 0, 1, 'float32', seed).dataSync() as Float32Array);
  return { x: Float32Array.from(x), n, source: `${n} random images` };
}

/** Integer ops of ONNX Runtime's CPU provider (and their fused/NCHWc forms). */
const INTEGER_OPS = /^(QLinearConv|ConvInteger|QGemm|MatMulInteger|MatMulIntegerToFloat|QLinearMatMul|DynamicQuantizeMatMul)$/;
const FLOAT_COMPUTE = /^(Conv|FusedConv|Gemm|FusedGemm|MatMul|FusedMatMul)$/;

test('setup: cpu backend', async () => {
  await tf.setBackend('cpu');
});

for (const [arch, firstLast] of [
  ['fmnist-cnn', 'ternary'],
  ['resnet20', 'float'],
] as const) {
  test(`${arch} (first/last ${firstLast}): ONNX Runtime's optimized model-int8.onnx computes every ternary conv/dense with an integer op`, async () => {
    const model = ternaryModel(arch, firstLast);
    const packed = packModel(model);
    const int8 = calibrate(model, packed, randomImages(model, 8, 1));
    const bytes = exportOnnx(model, packed, { activations: int8.quant }).bytes;
    const optimized = join(tmp(), 'optimized.onnx');
    const session = await openSession(bytes, { optimizedModelPath: optimized, threads: 1 });
    await session.release();
    const ops = (decodeModel(readFileSync(optimized)).graph?.node ?? []).map((n) => n.opType ?? '');
    const ternaryLayers = model.layers.filter((l) => l.getClassName().startsWith('Ternary')).length;
    assert.equal(int8.plan.layers.length, ternaryLayers);
    assert.equal(ops.filter((op) => INTEGER_OPS.test(op)).length, ternaryLayers, ops.join(' '));
    // Float convs/GEMMs left are the float first/last layers only.
    const floatLayers = model.layers.filter((l) => ['Conv2D', 'Dense'].includes(l.getClassName())).length;
    assert.equal(ops.filter((op) => FLOAT_COMPUTE.test(op)).length, floatLayers, ops.join(' '));
    model.dispose();
  });
}

test('model-int8.onnx agrees with our fake-quantized inference within the stated logit bound; model.onnx keeps 1e-4; report has accuracy and side-by-side latency', async () => {
  const model = ternaryModel('fmnist-cnn', 'ternary');
  const dir = tmp();
  const calibration = randomImages(model, 16, 2);
  const inputs = { ...randomImages(model, 24, 3), labels: Int32Array.from({ length: 24 }, (_, i) => i % 10) };
  const summary = await exportModelFiles(model, dir, { activations: 'int8', calibration, inputs, latencyRounds: 1 });
  assert.ok(existsSync(join(dir, INT8_ONNX_FILE)));
  assert.ok(summary.files.some((f) => f.path === INT8_ONNX_FILE));
  const byFile = new Map(summary.parity!.results.map((r) => [r.file, r]));
  assert.ok(byFile.get('model.onnx')!.maxRelDiff <= PARITY_TOLERANCE);
  const int8Row = byFile.get(INT8_ONNX_FILE)!;
  // The bound: INT8_LOGIT_STEPS steps of 1/255 of the calibrated logit range (calibration is deterministic).
  const { outputRange } = calibrate(model, packModel(model), calibration);
  assert.ok(int8Row.maxAbsDiff <= (INT8_LOGIT_STEPS * (outputRange!.max - outputRange!.min)) / 255, `${int8Row.maxAbsDiff}`);
  assert.ok(int8Row.maxAbsDiff > 0, 'integer kernels round differently somewhere; 0 would mean the file was not quantized');
  assert.match(int8Row.criterion ?? '', /top-1 agreement ≥ 99.5 %/);
  // Our fake-quantized inference is itself close to the float-activation model: 8 bits lose little.
  const x = tf.tensor(inputs.x, [inputs.n, 28, 28, 1]);
  const int8 = calibrate(model, packModel(model), calibration);
  const [fq, exact] = [fakeQuantPredict(model, int8, x), model.predict(x) as tf.Tensor];
  assert.ok(tf.max(tf.abs(tf.sub(fq, exact))).dataSync()[0] < 0.1 * tf.max(tf.abs(exact)).dataSync()[0]);
  assert.deepEqual(
    summary.latency?.results.map((r) => r.model),
    ['float', 'ternary', 'ternary int8'],
  );
  assert.ok(summary.latency!.results.every((r) => r.medianMs > 0));
  assert.deepEqual(
    summary.accuracy?.results.map((a) => a.model),
    [
      'our inference (float activations)',
      'model.onnx (ternary)',
      'our inference with 8-bit activations',
      'model-int8.onnx (ternary, 8-bit activations)',
    ],
  );
  model.dispose();
});

test('calibration images: the same seed picks the same training images, another seed others; no data is a clear error', async () => {
  const { experiment, configPath } = setup();
  const config = { experiment, configPath } as RunConfigRecord;
  const a = await calibrationImages(config, 8, 1, 'run');
  const b = await calibrationImages(config, 8, 1, 'run');
  const c = await calibrationImages(config, 8, 2, 'run');
  assert.deepEqual(a.x, b.x);
  assert.notDeepEqual(a.x, c.x);
  assert.equal(a.n, 8);
  assert.match(a.source, /seed 1/);
  const model = ternaryModel('fmnist-cnn', 'ternary', [8, 8, 1], 4);
  const packed = packModel(model);
  assert.deepEqual(calibrate(model, packed, a).quant, calibrate(model, packed, b).quant);
  model.dispose();
  await assert.rejects(
    calibrationImages({ experiment: { ...experiment, data: undefined } } as unknown as RunConfigRecord, 8, 1, 'runs/x/1'),
    (err: unknown) =>
      err instanceof Int8ExportError && /calibrated on training images/.test(err.message) && /float activations/.test(err.message),
  );
});

test('8-bit activations refused with what to do: a model without data, a model without t_ex 1 layers, bad CLI options', async () => {
  const dir = tmp();
  const model = ternaryModel('fmnist-cnn', 'ternary');
  await saveModel(model, join(dir, 'model'));
  await assert.rejects(
    exportModelTarget(join(dir, 'model'), join(dir, 'out'), { activations: 'int8' }),
    (err: unknown) => err instanceof Int8ExportError && /without data/.test(err.message),
  );
  assert.ok(!existsSync(join(dir, 'out', 'model.onnx')), 'refused before writing anything');
  await assert.rejects(
    exportModelFiles(model, join(dir, 'out2'), { activations: 'int8', parity: false }),
    (err: unknown) => err instanceof Int8ExportError && /no data/.test(err.message),
  );
  model.dispose();
  const rel = buildModel({
    arch: 'fmnist-cnn',
    classes: 10,
    quant: { method: 'he2019', thresholdFactor: 0.05, threshold: 'fixed', tex: 2, firstLast: 'ternary' },
    seed: 1,
  });
  assert.throws(
    () => calibrate(rel, packModel(rel), randomImages(rel, 2, 1)),
    (err: unknown) => err instanceof Int8ExportError && /t_ex 1/.test(err.message) && /float activations/.test(err.message),
  );
  rel.dispose();

  const int4 = await tern('export', join(dir, 'model'), '--activations', 'int4');
  assert.equal(int4.code, 2);
  assert.match(int4.err, /--activations must be float or int8 \(got int4\)/);
  const calibrationAlone = await tern('export', join(dir, 'model'), '--calibration', '64');
  assert.equal(calibrationAlone.code, 2);
  assert.match(calibrationAlone.err, /--calibration N sets the calibration images of --activations int8/);
  const noData = await tern('export', join(dir, 'model'), '--activations', 'int8', '--out', join(dir, 'cli-out'));
  assert.equal(noData.code, 1);
  assert.match(noData.err, /without data/);
});

test('exportRun with int8: calibrates on the run experiment’s training images and writes model-int8.onnx next to model.onnx', async () => {
  const { experiment, configPath } = setup();
  const run = join(tmp(), 'runs', 'tiny', 'r1');
  mkdirSync(join(run, 'model'), { recursive: true });
  const model = ternaryModel('fmnist-cnn', 'ternary', [8, 8, 1], 4);
  await saveModel(model, join(run, 'model'));
  model.dispose();
  writeFileSync(
    join(run, 'config.json'),
    JSON.stringify({ runId: 'r1', backend: 'cpu', threads: 1, versions: {}, seed: 7, startedAt: 'x', experiment, configPath }),
  );
  const out = join(run, '..', 'export');
  const result = await exportRun(run, out, { activations: 'int8', calibration: 16, parity: false });
  assert.ok(result.files.includes(INT8_ONNX_FILE));
  assert.match(result.model?.int8?.calibration ?? '', /^16 training images of data \(shuffled with seed 7\)$/);
  assert.equal(result.model?.int8?.int8Layers, 4);
  assert.match(readFileSync(join(out, 'report.md'), 'utf8'), /model-int8\.onnx/);
});

/** A model of `arch` trained with int8 activations, as far as its ranges go: a few observed batches. */
function int8Trained(arch: string, inputShape?: number[], classes = 10): tfl.LayersModel {
  const model = buildModel({
    arch,
    classes,
    ...(inputShape ? { inputShape } : {}),
    quant: { method: 'he2019', thresholdFactor: 0.05, threshold: 'fixed', tex: 1, firstLast: 'ternary', activations: 'int8' },
    seed: 5,
  });
  setRangeObserving(model, true);
  for (const seed of [1, 2]) {
    const images = randomImages(model, 4, seed);
    tf.tidy(() => {
      model.apply(tf.tensor(images.x, [4, ...(model.inputs[0].shape.slice(1) as number[])]), { training: true });
    });
  }
  setRangeObserving(model, false);
  return model;
}

test('trained int8 activations: model-int8.onnx takes the trained ranges without calibration, and computes what the trained model does', async () => {
  const model = int8Trained('fmnist-cnn');
  const ranges = inputRanges(model);
  assert.deepEqual([...ranges.keys()], ['conv1', 'conv2', 'fc1', 'fc2']);
  const dir = tmp();
  const inputs = { ...randomImages(model, 24, 3), labels: Int32Array.from({ length: 24 }, (_, i) => i % 10) };
  const summary = await exportModelFiles(model, dir, { activations: 'int8', inputs, latencyRounds: 0 });
  assert.match(summary.int8!.calibration, /^trained ranges \(quant.activations int8\) for all 6 quantized tensors$/);
  assert.ok(
    summary.parity!.results.every((r) => r.ok),
    JSON.stringify(summary.parity!.results),
  );
  // Each quantized tensor takes the range of the int8 layer it feeds (through pooling and flatten).
  const twin = await withFloatActivations(model);
  const int8 = await trainedActivations(twin, packModel(twin), ranges, () => Promise.reject(new Error('no calibration expected')));
  const of = (layer: string) => activationQuant(ranges.get(layer)!.min, ranges.get(layer)!.max);
  assert.deepEqual(int8.quant.get('input'), of('conv1'));
  assert.deepEqual(int8.quant.get('conv1_relu'), of('conv2'));
  assert.deepEqual(int8.quant.get('pool1'), of('conv2'));
  assert.deepEqual(int8.quant.get('flatten'), of('fc1'));
  assert.deepEqual(int8.quant.get('fc1_relu'), of('fc2'));
  // Our fake-quantized inference with them is the trained model's own inference (up to a rounding step).
  const x = tf.tensor(inputs.x, [inputs.n, 28, 28, 1]);
  const [fq, own] = [fakeQuantPredict(twin, int8, x), model.predict(x) as tf.Tensor];
  assert.ok(tf.max(tf.abs(tf.sub(fq, own))).dataSync()[0]! < 1e-3 * tf.max(tf.abs(own)).dataSync()[0]!);
  // An explicit calibration replaces the trained ranges.
  const calibrated = await exportModelFiles(model, tmp(), {
    activations: 'int8',
    calibration: randomImages(model, 8, 4),
    int8Ranges: 'calibrated',
    parity: false,
  });
  assert.equal(calibrated.int8!.calibration, '8 random images');
  // A bare model.json that trained with int8 activations needs no data.
  await saveModel(model, join(dir, 'trained-model'));
  const bare = await exportModelTarget(join(dir, 'trained-model'), join(dir, 'bare'), { activations: 'int8', parity: false });
  assert.ok(bare.files.includes(INT8_ONNX_FILE));
  twin.dispose();
  model.dispose();
});

test('trained int8 activations: tensors training did not quantize (ResNet block sums) are calibrated, or named when there are no images', async () => {
  const model = int8Trained('resnet20', [8, 8, 3]);
  const twin = await withFloatActivations(model);
  const packed = packModel(twin);
  await assert.rejects(
    trainedActivations(twin, packed, inputRanges(model), async () => undefined),
    (err: unknown) => err instanceof Int8ExportError && /not '.*_bn'/.test(err.message) && /export the run folder/.test(err.message),
  );
  const int8 = await trainedActivations(twin, packed, inputRanges(model), async () => randomImages(model, 2, 9));
  assert.match(int8.source, /^trained ranges for \d+ quantized tensors, 2 random images for \d+/);
  assert.equal(int8.quant.size, int8.plan.points.length);
  twin.dispose();
  model.dispose();
});
