/**
 * Every layer class a model.json of the studio can hold (server/models/layerClasses.ts) computes
 * on the torch engine (engines/torch/ternary_torch/graph.py) what it computes in tfjs-layers: one
 * table of small models, each saved as tfjs saves it and loaded by the engine's own loader, so the
 * model.json configs and weight layouts are the real ones. For each: the output, dL/dx and dL/dW of
 * L = Σ y ⊙ dy for every weight, and the weights after the step (BatchNormalization's moving mean
 * and variance, an int8 layer's input range), ≤ 1e-5 relative (max |torch − tfjs| / max |tfjs|: float32 sums in another order).
 * engines/torch/tests/check_layers.py recomputes the table in PyTorch and reports the classes and
 * activations the engine supports; the test fails when one the TypeScript side emits is missing,
 * or when one the engine claims has no case here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { input, layers, model, type LayersModel, type SymbolicTensor } from '@tensorflow/tfjs-layers';
import { ChannelZeroPad, HardSigmoid, HardSwish, OptionAShortcut, TernaryConv2D, TernaryDense } from '../../server/core/layers';
import { saveModel } from '../../server/core/modelIO';
import { MODEL_LAYER_CLASSES } from '../../server/models/layerClasses';
import { runTorchCheck, torchPython } from '../shared/torchPython';
import { torchLayerQuant } from '../../server/engines/torch/layersRecord';
import type { TorchActivationRanges, TorchLayerQuant } from '../../shared/engineProtocol';
import {
  ACTIVATION_OBSERVE_EPOCHS,
  ACTIVATION_RANGE_MOMENTUM,
  INPUT_RANGE_WEIGHT,
  setRangeObserving,
} from '../../server/core/activationQuant';

const TOLERANCE = 1e-5;

/** Seeded values in [lo, hi). */
function values(count: number, seed: number, lo = -1, hi = 1): number[] {
  let s = seed >>> 0;
  return Array.from({ length: count }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + ((hi - lo) * s) / 2 ** 32;
  });
}

type Build = (x: SymbolicTensor) => SymbolicTensor;
interface LayerCase {
  name: string;
  /** Input shape without the batch (NHWC for images). */
  shape: number[];
  build: Build;
  /** Training mode (BatchNormalization's batch statistics); inference for Dropout. Default true. */
  training?: boolean;
  batch?: number;
  /** Range of the input values (wider for ReLU6 and the hard activations, to reach both clips). */
  range?: [number, number];
  /** int8 layers (quant.activations int8): their input range before the step, and whether the step observes (moves) it. */
  inputRange?: { start: [number, number]; observe: boolean };
}

const apply = (layer: { apply: (x: SymbolicTensor | SymbolicTensor[]) => unknown }, x: SymbolicTensor | SymbolicTensor[]) =>
  layer.apply(x) as SymbolicTensor;
const conv = (x: SymbolicTensor, filters: number, name: string) =>
  apply(layers.conv2d({ name, filters, kernelSize: 3, padding: 'same' }), x);
const quant = { method: 'he2019' as const, thresholdFactor: 0.05 };

/** tfjs-layers' activation names (ActivationIdentifier) and what model.json calls them. */
const ACTIVATIONS = [
  'elu',
  'hardSigmoid',
  'linear',
  'relu',
  'relu6',
  'selu',
  'sigmoid',
  'softmax',
  'softplus',
  'softsign',
  'tanh',
  'swish',
  'mish',
  'gelu',
  'gelu_new',
] as const;

const CASES: LayerCase[] = [
  // convolutions: tfjs 'same' puts the odd pixel after (7 → 4 at stride 2); asymmetric kernels
  {
    name: 'conv same stride 2 relu',
    shape: [7, 7, 3],
    build: (x) => apply(layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }), x),
  },
  {
    name: 'conv valid',
    shape: [6, 6, 2],
    build: (x) => apply(layers.conv2d({ filters: 3, kernelSize: 3 }), x),
  },
  {
    name: 'conv same 2×4 strides 2×1 no bias',
    shape: [7, 6, 2],
    build: (x) => apply(layers.conv2d({ filters: 3, kernelSize: [2, 4], strides: [2, 1], padding: 'same', useBias: false }), x),
  },
  {
    name: 'ternary conv tex 1',
    shape: [6, 6, 3],
    build: (x) => apply(new TernaryConv2D({ ...quant, tex: 1, filters: 4, kernelSize: 3, padding: 'same' }), x),
  },
  {
    name: 'ternary conv tex 2 stride 2',
    shape: [7, 7, 3],
    build: (x) => apply(new TernaryConv2D({ ...quant, tex: 2, filters: 4, kernelSize: 3, strides: 2, padding: 'same', useBias: false }), x),
  },
  {
    name: 'ternary conv twn',
    shape: [6, 6, 3],
    build: (x) => apply(new TernaryConv2D({ method: 'twn', thresholdFactor: 0.05, tex: 1, filters: 4, kernelSize: 3 }), x),
  },
  {
    name: 'depthwise ×2 same stride 2',
    shape: [7, 7, 3],
    build: (x) => apply(layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, strides: 2, padding: 'same' }), x),
  },
  {
    name: 'depthwise valid no bias',
    shape: [6, 6, 4],
    build: (x) => apply(layers.depthwiseConv2d({ kernelSize: 3, useBias: false, activation: 'relu6' }), x),
  },
  // dense: after a Flatten of NHWC maps (tfjs's order), on [N, C], on feature maps (last axis)
  {
    name: 'flatten dense tanh',
    shape: [3, 3, 4],
    build: (x) => apply(layers.dense({ units: 5, activation: 'tanh' }), apply(layers.flatten({}), x)),
  },
  { name: 'ternary dense tex 4', shape: [12], build: (x) => apply(new TernaryDense({ ...quant, tex: 4, units: 5 }), x) },
  // 8-bit activations: the input fake-quantized (some values clipped), the range moving or frozen
  {
    name: 'ternary conv int8 input, range observed',
    shape: [5, 5, 2],
    build: (x) => apply(new TernaryConv2D({ ...quant, tex: 1, filters: 3, kernelSize: 3, padding: 'same', inputQuant: 'int8' }), x),
    inputRange: { start: [-1.5, 1.2], observe: true },
  },
  {
    name: 'ternary dense int8 input, range frozen',
    shape: [12],
    build: (x) => apply(new TernaryDense({ ...quant, tex: 1, units: 5, inputQuant: 'int8' }), x),
    inputRange: { start: [-1.5, 1.2], observe: false },
  },
  {
    name: 'ternary dense tex 1 softmax',
    shape: [12],
    build: (x) => apply(new TernaryDense({ ...quant, tex: 1, units: 5, activation: 'softmax' }), x),
  },
  // fmnist-cnn's fc1 (3136 → 128) at a DDP half batch: ternary_torch/linear.py's oneDNN product
  { name: 'dense 3136 → 128', shape: [3136], batch: 64, build: (x) => apply(layers.dense({ units: 128, useBias: false }), x) },
  { name: 'dense on feature maps', shape: [3, 3, 4], build: (x) => apply(layers.dense({ units: 2 }), x) },
  // BatchNormalization: batch statistics, moving variance from the biased batch variance
  {
    name: 'batchnorm NHWC',
    shape: [4, 4, 3],
    batch: 6,
    build: (x) => apply(layers.batchNormalization({ momentum: 0.9, epsilon: 1e-3 }), x),
  },
  { name: 'batchnorm [N, C]', shape: [5], batch: 8, build: (x) => apply(layers.batchNormalization({ momentum: 0.99, epsilon: 1e-5 }), x) },
  { name: 'batchnorm inference', shape: [4, 4, 3], training: false, build: (x) => apply(layers.batchNormalization({}), x) },
  // activation layers
  ...ACTIVATIONS.map((activation) => ({
    name: `activation ${activation}`,
    shape: [3, 3, 4],
    range: [-4, 4] as [number, number],
    build: (x: SymbolicTensor) => apply(layers.activation({ activation }), x),
  })),
  { name: 'relu', shape: [3, 3, 2], build: (x) => apply(layers.reLU({}), x) },
  { name: 'relu6', shape: [3, 3, 2], range: [-9, 9], build: (x) => apply(layers.reLU({ maxValue: 6 }), x) },
  { name: 'leaky relu', shape: [3, 3, 2], build: (x) => apply(layers.leakyReLU({ alpha: 0.1 }), x) },
  { name: 'softmax over channels (NHWC)', shape: [3, 4, 2], build: (x) => apply(layers.softmax({ axis: 3 }), x) },
  { name: 'softmax [N, C]', shape: [6], build: (x) => apply(layers.softmax({}), x) },
  { name: 'hard sigmoid', shape: [3, 3, 2], range: [-6, 6], build: (x) => apply(new HardSigmoid({ alpha: 1 / 6, beta: 0.5 }), x) },
  { name: 'hard swish', shape: [3, 3, 2], range: [-6, 6], build: (x) => apply(new HardSwish({}), x) },
  // pooling: 'same' max pools ignore the padding, 'same' average pools leave it out of the divisor
  { name: 'max pool 2', shape: [6, 6, 2], build: (x) => apply(layers.maxPooling2d({ poolSize: 2 }), x) },
  {
    name: 'max pool 3/2 same',
    shape: [7, 7, 2],
    build: (x) => apply(layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }), x),
  },
  { name: 'average pool 2', shape: [6, 6, 2], build: (x) => apply(layers.averagePooling2d({ poolSize: 2 }), x) },
  {
    name: 'average pool 3/2 same',
    shape: [7, 7, 2],
    build: (x) => apply(layers.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same' }), x),
  },
  { name: 'average pool 1/2 (slice)', shape: [7, 7, 2], build: (x) => apply(layers.averagePooling2d({ poolSize: 1, strides: 2 }), x) },
  { name: 'global average pool', shape: [4, 4, 3], build: (x) => apply(layers.globalAveragePooling2d({}), x) },
  { name: 'global max pool', shape: [4, 4, 3], build: (x) => apply(layers.globalMaxPooling2d({}), x) },
  // merges
  { name: 'add', shape: [4, 4, 3], build: (x) => apply(layers.add({}), [x, conv(x, 3, 'c')]) },
  {
    name: 'multiply (squeeze-excite gate)',
    shape: [4, 4, 3],
    build: (x) => {
      const gate = apply(
        new HardSigmoid({}),
        apply(layers.reshape({ targetShape: [1, 1, 3] }), apply(layers.globalAveragePooling2d({}), x)),
      );
      return apply(layers.multiply({}), [x, gate]);
    },
  },
  ...([-1, 1, 2] as const).map((axis) => ({
    name: `concatenate axis ${axis}`,
    shape: [4, 5, 2],
    build: (x: SymbolicTensor) => apply(layers.concatenate({ axis }), [x, conv(x, 2, 'c')]),
  })),
  { name: 'concatenate [N, C]', shape: [4], build: (x) => apply(layers.concatenate({}), [x, apply(layers.dense({ units: 3 }), x)]) },
  // shapes, padding, cropping, the option-A shortcut, dropout
  { name: 'reshape flat to maps', shape: [24], build: (x) => conv(apply(layers.reshape({ targetShape: [2, 3, 4] }), x), 2, 'c') },
  {
    name: 'permute to NCHW and flatten',
    shape: [2, 3, 4],
    build: (x) => apply(layers.dense({ units: 3 }), apply(layers.flatten({}), apply(layers.permute({ dims: [3, 1, 2] }), x))),
  },
  {
    name: 'zero padding',
    shape: [4, 4, 2],
    build: (x) =>
      conv(
        apply(
          layers.zeroPadding2d({
            padding: [
              [1, 2],
              [0, 1],
            ],
          }),
          x,
        ),
        2,
        'c',
      ),
  },
  {
    name: 'cropping',
    shape: [5, 5, 2],
    build: (x) =>
      conv(
        apply(
          layers.cropping2D({
            cropping: [
              [1, 0],
              [0, 2],
            ],
          }),
          x,
        ),
        2,
        'c',
      ),
  },
  { name: 'channel zero pad', shape: [4, 4, 2], build: (x) => conv(apply(new ChannelZeroPad({ before: 1, after: 2 }), x), 2, 'c') },
  {
    name: 'option-A shortcut odd',
    shape: [7, 7, 2],
    build: (x) => conv(apply(new OptionAShortcut({ outChannels: 4, stride: 2 }), x), 2, 'c'),
  },
  {
    name: 'option-A shortcut even',
    shape: [8, 8, 2],
    build: (x) => conv(apply(new OptionAShortcut({ outChannels: 4, stride: 2 }), x), 2, 'c'),
  },
  {
    name: 'dropout (inference)',
    shape: [6],
    training: false,
    build: (x) => apply(layers.dense({ units: 3 }), apply(layers.dropout({ rate: 0.5 }), x)),
  },
];

/** Seeded weights: kernels in [-0.5, 0.5) (all inside the ternary STE's |W| < 1), positive scales and variances. */
function seedWeights(m: LayersModel, seed: number): void {
  for (const [i, w] of m.weights.entries()) {
    const name = w.originalName;
    const [lo, hi] = /(gamma|moving_variance)$/.test(name) ? [0.5, 1.5] : [-0.5, 0.5];
    const shape = w.shape as number[];
    const t = tf.tensor(
      values(
        shape.reduce((a, b) => a * b, 1),
        seed + 7 * i,
        lo,
        hi,
      ),
      shape,
    );
    w.write(t);
    t.dispose();
  }
}

interface CaseFile {
  name: string;
  model: string;
  /** The ternary layers' settings, as the torch engine's job carries them. */
  quant: Record<string, TorchLayerQuant>;
  training: boolean;
  xShape: number[];
  x: number[];
  dy: number[];
  y: number[];
  dx: number[];
  grads: Record<string, number[]>;
  weightsAfter: Record<string, number[]>;
  classes: string[];
  /** The job's rule for input ranges and the epoch the step belongs to (int8 layers observe in the first epochs only). */
  activationRanges: TorchActivationRanges;
  epoch: number;
}

async function runCase(c: LayerCase, index: number, dir: string): Promise<CaseFile> {
  const inp = input({ shape: c.shape });
  const m = model({ inputs: inp, outputs: c.build(inp) });
  seedWeights(m, 1000 * (index + 1));
  if (c.inputRange) {
    for (const w of m.weights.filter((w) => w.originalName.endsWith(`/${INPUT_RANGE_WEIGHT}`))) w.write(tf.tensor1d(c.inputRange.start));
    setRangeObserving(m, c.inputRange.observe);
  }
  const xShape = [c.batch ?? 4, ...c.shape];
  const x = values(
    xShape.reduce((a, b) => a * b, 1),
    17 + index,
    ...(c.range ?? [-2, 2]),
  );
  const training = c.training ?? true;
  // Saved before the step: BatchNormalization's moving statistics change in it.
  const modelDir = join(dir, `case${index}`);
  await saveModel(m, modelDir);
  const xv = tf.variable(tf.tensor(x, xShape));
  const trainable = m.trainableWeights.map((w) => ({ name: w.originalName, v: w.read() as tf.Variable }));
  let y: tf.Tensor | undefined;
  let dy: number[] = [];
  const { grads, value } = tf.variableGrads(() => {
    y = tf.keep(m.apply(xv, { training }) as tf.Tensor);
    dy = values(y.size, 29 + index);
    return tf.sum(tf.mul(y, tf.tensor(dy, y.shape)));
  }, [xv, ...trainable.map((t) => t.v)]);
  const out: CaseFile = {
    name: c.name,
    model: join(modelDir, 'model.json'),
    quant: torchLayerQuant(m),
    training,
    xShape,
    x,
    dy,
    y: Array.from(y!.dataSync()),
    dx: Array.from(grads[xv.name]!.dataSync()),
    grads: Object.fromEntries(trainable.map((t) => [t.name, Array.from(grads[t.v.name]!.dataSync())])),
    weightsAfter: Object.fromEntries(m.weights.map((w) => [w.originalName, Array.from(w.read().dataSync())])),
    classes: m.layers.map((l) => l.getClassName()),
    activationRanges: { observeEpochs: ACTIVATION_OBSERVE_EPOCHS, momentum: ACTIVATION_RANGE_MOMENTUM },
    epoch: c.inputRange?.observe === false ? ACTIVATION_OBSERVE_EPOCHS : 0,
  };
  tf.dispose([xv, value, y!, ...Object.values(grads)]);
  m.dispose();
  return out;
}

interface CheckResult {
  classes: string[];
  activations: string[];
  cases: Record<string, Record<string, number>>;
}

test('torch engine: every layer class the studio emits, forward and backward = tfjs-layers (≤ 1e-5 relative)', async (t) => {
  const found = await torchPython();
  if (!found.python) return t.skip(found.skip);
  await tf.setBackend('cpu');
  const dir = mkdtempSync(join(tmpdir(), 'tern-torch-layers-'));
  try {
    const cases: CaseFile[] = [];
    for (const [i, c] of CASES.entries()) cases.push(await runCase(c, i, dir));
    const path = join(dir, 'cases.json');
    writeFileSync(path, JSON.stringify(cases));
    const result = runTorchCheck<CheckResult>(found.python.path, 'check_layers', [path]);

    const missing = MODEL_LAYER_CLASSES.filter((c) => !result.classes.includes(c));
    assert.deepEqual(missing, [], `layer classes the TypeScript side emits that the torch engine lacks: ${missing.join(', ')}`);
    const covered = new Set(cases.flatMap((c) => c.classes));
    const untested = result.classes.filter((c) => !covered.has(c));
    assert.deepEqual(untested, [], `classes the torch engine claims with no case here: ${untested.join(', ')}`);
    const tfjsNames = new Set<string>(ACTIVATIONS.map((a) => (a === 'hardSigmoid' ? 'hard_sigmoid' : a)));
    const untestedActivations = result.activations.filter((a) => !tfjsNames.has(a));
    assert.deepEqual(untestedActivations, [], `activations the torch engine claims with no case here: ${untestedActivations.join(', ')}`);

    const failures: string[] = [];
    for (const c of cases) {
      const metrics = result.cases[c.name];
      assert.ok(metrics, `case '${c.name}' was checked`);
      const expected = [
        'y',
        'dx',
        ...Object.keys(c.grads).map((k) => `grad ${k}`),
        ...Object.keys(c.weightsAfter).map((k) => `after ${k}`),
      ];
      for (const key of expected) {
        const v = metrics[key];
        if (typeof v !== 'number' || !(v <= TOLERANCE)) failures.push(`${c.name}: ${key} differs by ${v} (relative)`);
      }
    }
    t.diagnostic(`${cases.length} cases, worst ${Math.max(...Object.values(result.cases).flatMap((m) => Object.values(m)))}`);
    assert.deepEqual(failures, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
