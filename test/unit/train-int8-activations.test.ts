/**
 * 8-bit activations trained (server/core/activationQuant.ts, docs/method.md): the fake quantization
 * against hand-computed values, its straight-through gradient, the moving-average range and its
 * freezing, the range in model.json and in checkpoints (a resumed run continues with it), on the
 * wasm and oneDNN backends.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { input, model as functionalModel, type LayersModel, type SymbolicTensor } from '@tensorflow/tfjs-layers';
import { initBackend } from '../../server/backends/ladder';
import { addonLoadError } from '../../server/backends/onednn';
import { loadAddon } from '../../server/backends/onednn/addon';
import {
  ACTIVATION_RANGE_MOMENTUM,
  activationQuant,
  fakeQuantizeInput,
  observeRange,
  setRangeObserving,
} from '../../server/core/activationQuant';
import { TernaryConv2D } from '../../server/core/layers';
import { loadModel } from '../../server/models/loadModel';
import { saveModel } from '../../server/core/modelIO';
import { trainWithEngine as train } from '../../server/engines/dispatch';
import { readRunHistory } from '../../server/runs';
import { formatLayerTable } from '../../server/stats/format';
import { layerStats, modelSummary } from '../../server/stats';
import { layersRecordOf } from '../../server/engines/torch/layersRecord';
import { epochMetrics, setup, useWasm } from './trainFixture';

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string) => {
  assert.equal(a.length, b.length, what);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= tol, `${what}[${i}]: ${a[i]} vs ${b[i]}`);
};

test('fake quantization: hand-computed values (round half to even, clipped), the STE gradient, and [0, 0] passes x through', async () => {
  await useWasm();
  // [−0.5, 1.4921875]: width 255/128, so scale = 1/128 and zero point 64, both exact.
  const q = activationQuant(-0.5, 1.4921875);
  assert.deepEqual(q, { min: -0.5, max: 1.4921875, scale: 1 / 128, zeroPoint: 64 });
  // A ReLU output: zero point 0; a range without 0 is widened to hold it.
  assert.equal(activationQuant(0, 2.55).zeroPoint, 0);
  assert.equal(activationQuant(0.5, 2.55).scale, Math.fround(2.55 / 255));
  const x = tf.tensor1d([3 / 256, 5 / 256, -1, 2, 0.3, -0.5, 1.4921875]);
  const range = tf.tensor1d([-0.5, 1.4921875]);
  const expected = [2 / 128, 2 / 128, -0.5, 1.4921875, 38 / 128, -0.5, 1.4921875];
  close(fakeQuantizeInput(x, range).dataSync(), expected, 0, 'values');
  // ∂Σy/∂x: 1 inside the representable range (its ends included), 0 where clipped.
  const grad = tf.grad((t: tf.Tensor) => tf.sum(fakeQuantizeInput(t, range)))(x);
  assert.deepEqual(Array.from(grad.dataSync()), [1, 1, 0, 0, 1, 1, 1]);
  const unobserved = tf.tensor1d([0, 0]);
  close(fakeQuantizeInput(x, unobserved).dataSync(), x.dataSync(), 0, 'unobserved');
  assert.deepEqual(
    Array.from(
      tf
        .grad((t: tf.Tensor) => tf.sum(fakeQuantizeInput(t, unobserved)))(x)
        .dataSync(),
    ),
    [1, 1, 1, 1, 1, 1, 1],
  );
});

/** A one-conv model whose conv quantizes its input. */
function int8Conv(): LayersModel {
  const inp = input({ shape: [4, 4, 1] });
  const conv = new TernaryConv2D({ name: 'c', filters: 2, kernelSize: 3, padding: 'same', inputQuant: 'int8', kernelInitializer: 'ones' });
  return functionalModel({ inputs: inp, outputs: conv.apply(inp) as SymbolicTensor });
}

test('an int8 layer observes its input range in training calls while observing, then keeps it; model.json keeps it', async () => {
  await useWasm();
  const m = int8Conv();
  const conv = m.getLayer('c') as TernaryConv2D;
  const range = () => Array.from(conv.inputRange!.read().dataSync());
  const batch = (lo: number, hi: number) => tf.reshape(tf.linspace(lo, hi, 16), [1, 4, 4, 1]);
  assert.deepEqual(range(), [0, 0]);
  m.apply(batch(-1, 3), { training: true });
  assert.deepEqual(range(), [0, 0], 'not observing: unchanged');
  setRangeObserving(m, true);
  m.apply(batch(-1, 3), { training: false });
  assert.deepEqual(range(), [0, 0], 'inference never observes');
  m.apply(batch(-1, 3), { training: true });
  close(range(), [-1, 3], 1e-6, 'the first batch sets the range');
  m.apply(batch(-2, 1), { training: true });
  const m_ = ACTIVATION_RANGE_MOMENTUM;
  close(range(), [m_ * -1 + (1 - m_) * -2, m_ * 3 + (1 - m_) * 1], 1e-6, 'then the moving average');
  setRangeObserving(m, false);
  const frozen = range();
  m.apply(batch(-5, 5), { training: true });
  assert.deepEqual(range(), frozen, 'frozen');
  // The output is the conv of the fake-quantized input.
  const x = batch(-4, 4);
  const q = activationQuant(frozen[0]!, frozen[1]!);
  const xq = tf.mul(tf.sub(tf.clipByValue(tf.add(tf.round(tf.div(x, q.scale)), q.zeroPoint), 0, 255), q.zeroPoint), q.scale);
  const r = tf.tensor1d(frozen);
  close(fakeQuantizeInput(x, r).dataSync(), xq.dataSync(), 1e-6, 'tensor scale and zero point = activationQuant');
  const y = m.predict(x) as tf.Tensor;
  const dir = mkdtempSync(join(tmpdir(), 'tern-int8-'));
  await saveModel(m, dir);
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  const layer = json.modelTopology.config.layers.find((l: { name: string }) => l.name === 'c');
  assert.equal(layer.config.input_quant, 'int8');
  assert.ok(json.weightsManifest[0].weights.some((w: { name: string }) => w.name === 'c/input_range'));
  const back = await loadModel(join(dir, 'model.json'));
  close(Array.from((back.getLayer('c') as TernaryConv2D).inputRange!.read().dataSync()), frozen, 0, 'range after load');
  close((back.predict(x) as tf.Tensor).dataSync(), y.dataSync(), 0, 'output after load');
});

test('observeRange: the first batch sets [min, max], later ones average', async () => {
  await useWasm();
  const m = int8Conv();
  const v = (m.getLayer('c') as TernaryConv2D).inputRange!;
  observeRange(v, tf.tensor1d([0.5, 2]));
  assert.deepEqual(Array.from(v.read().dataSync()), [0.5, 2]);
});

/** Input ranges of the int8 layers in a model.json's weights (by weight name). */
function rangesIn(modelDir: string): Record<string, number[]> {
  const json = JSON.parse(readFileSync(join(modelDir, 'model.json'), 'utf8'));
  const bin = readFileSync(join(modelDir, 'weights.bin'));
  const floats = new Float32Array(bin.buffer, bin.byteOffset, bin.byteLength / 4);
  const out: Record<string, number[]> = {};
  let offset = 0;
  for (const w of json.weightsManifest[0].weights as { name: string; shape: number[] }[]) {
    const size = w.shape.reduce((a, b) => a * b, 1);
    if (w.name.endsWith('/input_range')) out[w.name] = Array.from(floats.subarray(offset, offset + size));
    offset += size;
  }
  return out;
}

for (const backend of ['wasm', 'onednn'] as const) {
  const skip = backend === 'onednn' && !loadAddon() ? `oneDNN addon not available: ${addonLoadError()}` : false;
  test(
    `${backend}: int8 training observes in epoch 1, keeps the ranges after; resume restores them (= uninterrupted)`,
    { skip },
    async () => {
      if (backend === 'wasm') await useWasm();
      else await initBackend({ backend: 'onednn', threads: 1 });
      const be = { name: backend, threads: 1 };
      const { experiment, configPath, runsDir } = setup({ epochs: 2, schedule: [], gammas: [] }, {}, { activations: 'int8' });
      assert.equal(experiment.quant.method !== 'none' && experiment.quant.activations, 'int8');
      const first = await train({ experiment, configPath, runsDir, epochs: 1, backend: be });
      const afterEpoch1 = rangesIn(join(first.runDir, 'model'));
      assert.equal(Object.keys(afterEpoch1).length, 4, 'every ternary layer of fmnist-cnn has a range');
      for (const [name, [lo, hi]] of Object.entries(afterEpoch1)) assert.ok(hi! > lo!, `${name}: ${lo}..${hi}`);
      // The layers record and `tern stats` show each int8 layer's input range and scale.
      const history = await readRunHistory(first.runDir);
      const last = history.layers[history.layers.length - 1]!;
      for (const l of last.layers) {
        const [min, max] = afterEpoch1[`${l.layer}/input_range`]!;
        assert.deepEqual(l.input, { min, max, scale: activationQuant(min!, max!).scale, zeroPoint: activationQuant(min!, max!).zeroPoint });
      }
      assert.match(formatLayerTable(last.layers, last.summary), /Input int8: range, scale/);
      const resumed = await train({ experiment, configPath, runsDir, resumeDir: first.runDir, epochs: 2, backend: be });
      assert.deepEqual(rangesIn(join(resumed.runDir, 'model')), afterEpoch1, 'frozen after epoch 1, restored from the checkpoint');
      const full = await train({ experiment, configPath, runsDir, backend: be });
      assert.deepEqual(epochMetrics(resumed.runDir), epochMetrics(full.runDir));
      assert.ok(readFileSync(join(resumed.runDir, 'model', 'weights.bin')).equals(readFileSync(join(full.runDir, 'model', 'weights.bin'))));
    },
  );
}

test('torch engine: the input range an epoch reports becomes the layer record’s input (range and uint8 grid)', async () => {
  await useWasm();
  const m = int8Conv();
  const stats = layerStats(m);
  assert.deepEqual(stats[0]!.input, { min: 0, max: 0, scale: activationQuant(0, 0).scale, zeroPoint: 0 });
  const branches = stats[0]!.branches.map(({ sparsity: _s, ...b }) => b);
  const record = layersRecordOf(1, [{ layer: 'c', branches, relError: 0.1, inputRange: [-0.5, 1.4921875] }], stats, modelSummary(m, stats));
  assert.deepEqual(record.layers[0]!.input, { min: -0.5, max: 1.4921875, scale: 1 / 128, zeroPoint: 64 });
});
