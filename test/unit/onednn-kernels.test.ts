// The oneDNN backend's kernels (server/backends/onednn) against the cpu backend on random inputs
// of several shapes (strides 1/2, 'same'/'valid', batch 1, odd sizes), forward and gradients:
// relative error max|a − b| / max|b| ≤ 1e-4. Skipped, with the reason, when the addon is not built.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { addonLoadError, ONEDNN_BACKEND, registerOnednnBackend } from '../../server/backends/onednn';
import { loadAddon } from '../../server/backends/onednn/addon';
import { BROADCAST_SCALED, RELU_GRAD } from '../../server/backends/onednn/gradients';
import { BATCH_NORM_TRAINING, BATCH_NORM_TRAINING_GRAD, batchNormTraining } from '../../server/backends/onednn/kernels/batchNormTraining';
import * as tfl from '@tensorflow/tfjs-layers';
import { createOptimizer, SGD_UPDATE } from '../../server/train/optimizers';
import { overriddenKernels } from '../../server/backends/onednn/register';

const skip = loadAddon() ? false : `oneDNN addon not available: ${addonLoadError()}`;
if (skip) process.stdout.write(`# SKIPPED onednn kernel tests: ${skip}\n`);
before(async () => {
  if (!skip) assert.ok(await registerOnednnBackend(2));
});

/** Deterministic pseudo-random values in [-1, 1) (mulberry32), identical on every backend. */
function randomValues(count: number, seed: number): Float32Array {
  let state = seed >>> 0;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
const random = (shape: number[], seed: number): tf.Tensor => tf.tensor(randomValues(sizeOf(shape), seed), shape);

function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e) || Number.isNaN(a)) {
      if (Number.isNaN(e) !== Number.isNaN(a)) return Infinity;
      continue;
    }
    maxDiff = Math.max(maxDiff, Math.abs(a - e));
    maxRef = Math.max(maxRef, Math.abs(e));
  }
  return maxRef === 0 ? maxDiff : maxDiff / maxRef;
}

/**
 * Runs `compute` on the cpu backend and on onednn (same inputs, rebuilt from seeds on each) and
 * compares every output tensor: shapes equal, relative error ≤ 1e-4.
 */
async function compareWithCpu(label: string, compute: () => tf.Tensor[]): Promise<void> {
  const run = async (backend: string): Promise<{ shape: number[]; values: Float32Array }[]> => {
    await tf.setBackend(backend);
    const outputs = tf.tidy(compute);
    const result = outputs.map((t) => ({ shape: t.shape, values: t.dataSync() as Float32Array }));
    tf.dispose(outputs);
    return result;
  };
  const expected = await run('cpu');
  const actual = await run(ONEDNN_BACKEND);
  assert.equal(actual.length, expected.length);
  expected.forEach((e, i) => {
    assert.deepEqual(actual[i]!.shape, e.shape, `${label}: output ${i} shape`);
    const error = relativeError(actual[i]!.values, e.values);
    assert.ok(error <= 1e-4, `${label}: output ${i} relative error ${error.toExponential(2)} > 1e-4`);
  });
}

/** Output and gradients (w.r.t. every input) of sum(f(inputs) · r) with a fixed random r. */
function valueAndGrads(f: (...inputs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[], seed: number): tf.Tensor[] {
  const y = f(...inputs);
  const r = random(y.shape, seed);
  const grads = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(f(...xs), r)))(inputs);
  return [y, ...grads];
}

test('the backend replaces the hot kernels and keeps every other cpu kernel', { skip }, () => {
  for (const name of [
    'Cast',
    'Conv2D',
    'FusedConv2D',
    'AvgPoolGrad',
    'MaxPool',
    'MaxPoolGrad',
    'BatchMatMul',
    '_FusedMatMul',
    'Conv2DBackpropInput',
    'Conv2DBackpropFilter',
    'Multiply',
    'Sum',
    'Mean',
    'FusedBatchNorm',
    'Relu',
  ]) {
    assert.ok(overriddenKernels.includes(name), `${name} is overridden`);
  }
  const cpuNames = tf
    .getKernelsForBackend('cpu')
    .map((k) => k.kernelName)
    .sort();
  // Plus the backend's own kernels: helpers of the Mean and Relu gradients, training batch norm.
  const own = new Set([BROADCAST_SCALED, RELU_GRAD, BATCH_NORM_TRAINING, BATCH_NORM_TRAINING_GRAD, SGD_UPDATE]);
  const onednnNames = tf
    .getKernelsForBackend(ONEDNN_BACKEND)
    .map((k) => k.kernelName)
    .filter((n) => !own.has(n))
    .sort();
  assert.deepEqual(onednnNames, cpuNames);
});

type Shape4 = [number, number, number, number];
const convCases: { x: Shape4; filter: Shape4; stride: number; pad: 'same' | 'valid'; dilation?: number }[] = [];
for (const [x, filter] of [
  [
    [1, 7, 9, 3],
    [3, 3, 3, 5],
  ],
  [
    [2, 8, 8, 4],
    [3, 3, 4, 6],
  ],
  [
    [3, 5, 5, 2],
    [1, 1, 2, 3],
  ],
  [
    [1, 9, 7, 16],
    [3, 3, 16, 16],
  ],
  [
    [2, 6, 7, 5],
    [2, 2, 5, 4],
  ],
] as [Shape4, Shape4][]) {
  for (const stride of [1, 2]) for (const pad of ['same', 'valid'] as const) convCases.push({ x, filter, stride, pad });
}
convCases.push({ x: [1, 9, 9, 3], filter: [3, 3, 3, 4], stride: 1, pad: 'same', dilation: 2 });

test('Conv2D, Conv2DBackpropInput and Conv2DBackpropFilter match the cpu backend', { skip }, async () => {
  let seed = 1;
  for (const c of convCases) {
    seed += 10;
    const s = seed;
    const conv = (x: tf.Tensor, w: tf.Tensor): tf.Tensor =>
      tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.stride, c.pad, 'NHWC', c.dilation ?? 1);
    // tfjs has no gradient for dilated convolutions: compare their forward pass only.
    await compareWithCpu(`conv ${JSON.stringify(c)}`, () =>
      c.dilation ? [conv(random(c.x, s), random(c.filter, s + 1))] : valueAndGrads(conv, [random(c.x, s), random(c.filter, s + 1)], s + 2),
    );
  }
});

test('FusedConv2D (bias, relu / relu6 / linear) and its gradients match the cpu backend', { skip }, async () => {
  let seed = 300;
  for (const activation of ['relu', 'relu6', 'linear'] as const) {
    for (const [x, filter, stride, pad] of [
      [[2, 7, 9, 3], [3, 3, 3, 5], 2, 'same'],
      [[1, 8, 8, 4], [3, 3, 4, 6], 1, 'valid'],
    ] as [Shape4, Shape4, number, 'same' | 'valid'][]) {
      seed += 4;
      const s = seed;
      await compareWithCpu(`fusedConv2d ${activation} ${JSON.stringify([x, filter, stride, pad])}`, () =>
        valueAndGrads(
          (xs, w, b) => tf.fused.conv2d({ x: xs as tf.Tensor4D, filter: w as tf.Tensor4D, strides: stride, pad, bias: b, activation }),
          [random(x, s), random(filter, s + 1), random([filter[3]], s + 2)],
          s + 3,
        ),
      );
    }
  }
});

test('broadcasting binary ops match the cpu backend (equal shapes, scalars, per-channel, [N,1,1,C], irregular)', { skip }, async () => {
  const pairs: [number[], number[]][] = [
    [
      [2, 5, 7, 3],
      [2, 5, 7, 3],
    ],
    [[2, 5, 7, 3], []],
    [[], [2, 5, 7, 3]],
    [[2, 5, 7, 3], [3]],
    [
      [1, 1, 1, 3],
      [2, 5, 7, 3],
    ],
    [
      [2, 5, 7, 3],
      [2, 1, 1, 3],
    ],
    [
      [2, 1, 1, 3],
      [2, 5, 7, 3],
    ],
    [
      [2, 5, 7, 3],
      [2, 5, 1, 1],
    ],
    [
      [4, 1, 6],
      [1, 5, 1],
    ],
    [
      [2, 5, 7, 3],
      [5, 1, 3],
    ],
    [[1], [1]],
    [[17], [17]],
    [
      [3, 3, 16, 16],
      [3, 3, 16, 16],
    ],
    [[40000], []],
  ];
  const ops: [string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor][] = [
    ['add', tf.add],
    ['sub', tf.sub],
    ['mul', tf.mul],
    ['div', tf.div],
    ['squaredDifference', tf.squaredDifference],
    ['maximum', tf.maximum],
    ['minimum', tf.minimum],
  ];
  let seed = 500;
  for (const [aShape, bShape] of pairs) {
    for (const [name, op] of ops) {
      seed += 2;
      const s = seed;
      const inputs = (): tf.Tensor[] => [random(aShape, s), random(bShape, s + 1)];
      // tfjs-core's SquaredDifference, Maximum and Minimum gradients do not reduce over broadcast
      // axes (on any backend): compare their forward pass only when the shapes differ.
      const noGradient = ['squaredDifference', 'maximum', 'minimum'].includes(name) && JSON.stringify(aShape) !== JSON.stringify(bShape);
      await compareWithCpu(`${name} ${JSON.stringify(aShape)} ${JSON.stringify(bShape)}`, () =>
        noGradient ? [op(...(inputs() as [tf.Tensor, tf.Tensor]))] : valueAndGrads(op, inputs(), s + 3),
      );
    }
  }
});

test('comparisons (Less, LessEqual, Greater, GreaterEqual, Equal, NotEqual) match the cpu backend', { skip }, async () => {
  const ops = [tf.less, tf.lessEqual, tf.greater, tf.greaterEqual, tf.equal, tf.notEqual];
  let seed = 800;
  for (const [aShape, bShape] of [
    [[2, 5, 7, 3], []],
    [
      [3, 3, 16, 16],
      [3, 3, 16, 16],
    ],
    [[2, 5, 7, 3], [3]],
    [
      [128, 10],
      [128, 1],
    ],
  ] as [number[], number[]][]) {
    seed += 2;
    const s = seed;
    // Rounded values, so that equal elements occur and Equal/NotEqual are really exercised.
    const input = (shape: number[], k: number): tf.Tensor => tf.round(tf.mul(random(shape, k), 3));
    await compareWithCpu(`comparisons ${JSON.stringify([aShape, bShape])}`, () =>
      ops.map((op) => tf.cast(op(input(aShape, s), input(bShape, s + 1)), 'float32')),
    );
  }
});

test('unary ops (Relu, Step, Square, Neg, Abs, Sign, Sqrt, Rsqrt, Relu6) match the cpu backend, gradients too', { skip }, async () => {
  const ops: [string, (x: tf.Tensor) => tf.Tensor][] = [
    ['relu', tf.relu],
    ['step', (x) => tf.step(x, 0.25)],
    ['square', tf.square],
    ['neg', tf.neg],
    ['abs', tf.abs],
    ['sign', tf.sign],
    ['sqrt', (x) => tf.sqrt(tf.abs(x))],
    ['rsqrt', (x) => tf.rsqrt(tf.add(tf.abs(x), 0.1))],
    ['relu6', (x) => tf.relu6(tf.mul(x, 8))],
  ];
  let seed = 900;
  for (const shape of [[2, 5, 7, 3], [1], [40000]]) {
    for (const [name, op] of ops) {
      seed += 2;
      const s = seed;
      await compareWithCpu(`${name} ${JSON.stringify(shape)}`, () => valueAndGrads(op, [random(shape, s)], s + 1));
    }
  }
});

test('Sum and Mean over leading, middle, trailing, all and non-contiguous axes match the cpu backend', { skip }, async () => {
  const cases: [number[], number | number[] | null, boolean][] = [
    [[4, 5, 7, 3], [0, 1, 2], false],
    [[4, 5, 7, 3], [1, 2], false],
    [[4, 5, 7, 3], [3], true],
    [[4, 5, 7, 3], null, false],
    [[4, 5, 7, 3], [0, 2], false],
    [[4, 5, 7, 3], -1, false],
    [[1, 1, 9, 3], [0, 1, 2], true],
    [[64, 40, 30, 16], [0, 1, 2], false],
    [[2, 3], 0, false],
  ];
  let seed = 1300;
  for (const [shape, axis, keepDims] of cases) {
    seed += 2;
    const s = seed;
    const ax = axis ?? undefined;
    await compareWithCpu(`sum/mean ${JSON.stringify(shape)} axis ${JSON.stringify(axis)}`, () => [
      ...valueAndGrads((x) => tf.sum(x, ax, keepDims), [random(shape, s)], s + 1),
      ...valueAndGrads((x) => tf.mean(x, ax, keepDims), [random(shape, s)], s + 1),
    ]);
  }
});

test('FusedBatchNorm (with and without scale/offset) and its gradients match the cpu backend', { skip }, async () => {
  let seed = 1700;
  for (const shape of [
    [2, 5, 7, 3],
    [1, 3, 3, 16],
    [6, 4],
  ]) {
    const c = shape[shape.length - 1]!;
    seed += 10;
    const s = seed;
    await compareWithCpu(`batchNorm ${JSON.stringify(shape)}`, () => {
      const variance = tf.add(tf.abs(random([c], s + 2)), 0.5);
      return [
        ...valueAndGrads(
          (x, m, v, o, g) => tf.batchNorm(x, m, v, o, g, 1e-3),
          [random(shape, s), random([c], s + 1), variance, random([c], s + 3), random([c], s + 4)],
          s + 5,
        ),
        tf.batchNorm(random(shape, s), random([c], s + 1), variance, undefined, undefined, 1e-5),
      ];
    });
  }
});

test('batch-norm statistics in training (moments, then batchNorm) match the cpu backend, gradients too', { skip }, async () => {
  await compareWithCpu('moments + batchNorm', () =>
    valueAndGrads(
      (x, g, b) => {
        const { mean, variance } = tf.moments(x, [0, 1, 2]);
        return tf.batchNorm(x, mean, variance, b, g, 1e-5);
      },
      [random([3, 6, 5, 8], 2001), random([8], 2002), random([8], 2003)],
      2004,
    ),
  );
});

test(
  'the fused training batch norm (y, batch mean, biased variance) and its gradients match moments + batchNorm on cpu',
  { skip },
  async () => {
    let seed = 2050;
    for (const shape of [
      [3, 6, 5, 8],
      [1, 3, 3, 16],
      [2, 5, 7, 3],
      [7, 5],
      [16, 4, 4, 1],
    ]) {
      const c = shape[shape.length - 1]!;
      const axes = shape.slice(0, -1).map((_, i) => i);
      seed += 10;
      const s = seed;
      await compareWithCpu(`training batch norm ${JSON.stringify(shape)}`, () => {
        // The same function on both sides: tfjs-layers' composition on cpu, the fused kernel here.
        const fused = tf.getBackend() === ONEDNN_BACKEND;
        const normalize = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Tensor[] => {
          if (fused) return batchNormTraining(x, g, b, 1e-3);
          const { mean, variance } = tf.moments(x, axes);
          return [tf.batchNorm(x, mean, variance, b, g, 1e-3), mean, variance];
        };
        const x = tf.add(tf.mul(random(shape, s), 3), 0.5);
        const inputs = [x, random([c], s + 1), random([c], s + 2)];
        const r = random(shape, s + 3);
        const grads = tf.grads((xs: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(normalize(xs, g, b)[0]!, r)))(inputs);
        return [...normalize(x, inputs[1]!, inputs[2]!), ...grads];
      });
    }
  },
);

test('a BatchNormalization layer trains the same on onednn as on cpu: output, gradients and moving statistics', { skip }, async () => {
  for (const [shape, options] of [
    [[4, 5, 6, 8], {}],
    [[6, 3], { momentum: 0.9, epsilon: 1e-5 }],
    [[1, 3, 3, 4], { momentum: 0.5 }],
  ] as [number[], Parameters<typeof tfl.layers.batchNormalization>[0]][]) {
    await compareWithCpu(`BatchNormalization ${JSON.stringify([shape, options])}`, () => {
      const layer = tfl.layers.batchNormalization({
        ...options,
        gammaInitializer: tfl.initializers.randomUniform({ minval: 0.5, maxval: 1.5, seed: 1 }),
      });
      const x = tf.add(tf.mul(random(shape, 2201), 2), 1);
      layer.build(x.shape);
      const r = random(shape, 2202);
      const weights = layer.trainableWeights.map((w) => w.read() as tf.Variable);
      const loss = (xs: tf.Tensor): tf.Scalar => tf.sum(tf.mul(layer.apply(xs, { training: true }) as tf.Tensor, r));
      const { value, grads } = weights.length
        ? tf.variableGrads(() => loss(x), weights)
        : { value: loss(x), grads: {} as Record<string, tf.Tensor> };
      const dx = tf.grad(loss)(x);
      const second = layer.apply(tf.mul(x, 0.5), { training: true }) as tf.Tensor;
      const inference = layer.apply(x, { training: false }) as tf.Tensor;
      const out = [value, dx, ...weights.map((w) => grads[w.name]!), second, inference, ...layer.getWeights().map((w) => tf.clone(w))];
      // Applied to concrete tensors only, the layer never counts as used; free its variables directly.
      for (const w of layer.weights) w.dispose();
      return out;
    });
  }
  // And the comparison above really ran the fused kernel on onednn.
  await tf.setBackend(ONEDNN_BACKEND);
  const layer = tfl.layers.batchNormalization();
  const info = await tf.profile(() => tf.tidy(() => layer.apply(random([2, 3, 3, 4], 2203), { training: true }) as tf.Tensor));
  for (const w of layer.weights) w.dispose();
  assert.ok(info.kernelNames.includes(BATCH_NORM_TRAINING), `kernels run: ${info.kernelNames.join(', ')}`);
});

test('Slice and PadV2 (the option-A shortcut of CIFAR ResNets) match the cpu backend', { skip }, async () => {
  await compareWithCpu('slice/pad', () => [
    ...valueAndGrads((x) => tf.slice(x, [0, 1, 1, 0], [-1, 6, 5, -1]), [random([2, 7, 7, 3], 2101)], 2102),
    ...valueAndGrads((x) => tf.slice(x, [0, 0, 0, 0], [2, 7, 7, 2]), [random([2, 7, 7, 3], 2103)], 2104),
    ...valueAndGrads((x) => tf.slice(x, [1, 2], [2, 3]), [random([4, 6], 2105)], 2106),
    ...valueAndGrads(
      (x) =>
        tf.pad(
          x,
          [
            [0, 0],
            [1, 0],
            [1, 2],
            [0, 3],
          ],
          0.5,
        ),
      [random([2, 5, 4, 3], 2107)],
      2108,
    ),
    ...valueAndGrads((x) => tf.pad(x, [[2, 1]]), [random([5], 2109)], 2110),
  ]);
});

test('AvgPool and AvgPoolGrad match the cpu backend (1×1 stride-2 subsampling, 3×3 same, 2×2 valid)', { skip }, async () => {
  const cases: [number[], number, number, 'same' | 'valid'][] = [
    [[2, 31, 31, 5], 1, 2, 'valid'],
    [[1, 7, 9, 3], 3, 1, 'same'],
    [[3, 8, 7, 4], 2, 2, 'valid'],
    [[1, 9, 9, 2], 3, 2, 'same'],
  ];
  let seed = 2300;
  for (const [shape, filter, stride, pad] of cases) {
    seed += 2;
    const s = seed;
    await compareWithCpu(`avgPool ${JSON.stringify([shape, filter, stride, pad])}`, () =>
      valueAndGrads((x) => tf.avgPool(x as tf.Tensor4D, filter, stride, pad), [random(shape, s)], s + 1),
    );
  }
});

test(
  'MaxPool and MaxPoolGrad match the cpu backend (2×2 stride 2, 3×3 same, 3×3 stride 2 valid, odd sizes, batch 1)',
  { skip },
  async () => {
    const cases: [number[], number, number, 'same' | 'valid'][] = [
      [[2, 28, 28, 8], 2, 2, 'valid'],
      [[1, 7, 9, 3], 3, 1, 'same'],
      [[3, 9, 7, 4], 3, 2, 'valid'],
      [[1, 5, 5, 2], 2, 2, 'same'],
      [[2, 13, 13, 5], 2, 2, 'valid'],
    ];
    let seed = 2400;
    for (const [shape, filter, stride, pad] of cases) {
      seed += 2;
      const s = seed;
      // Random inputs have no ties, so "the first maximum" is the same on both sides.
      await compareWithCpu(`maxPool ${JSON.stringify([shape, filter, stride, pad])}`, () =>
        valueAndGrads((x) => tf.maxPool(x as tf.Tensor4D, filter, stride, pad), [random(shape, s)], s + 1),
      );
    }
  },
);

test(
  'BatchMatMul (rank 2 and 3, every transpose, a shared side, a 1-row batch) and its gradients match the cpu backend',
  { skip },
  async () => {
    const cases: [number[], number[], boolean, boolean][] = [
      [[128, 64], [64, 10], false, false],
      [[7, 5], [3, 5], false, true],
      [[5, 7], [5, 3], true, false],
      [[5, 7], [3, 5], true, true],
      [[1, 9], [9, 4], false, false],
      [[3, 4, 6], [3, 6, 2], false, false],
      [[3, 4, 6], [6, 5], false, false],
      [[4, 6], [2, 6, 3], false, false],
      [[2, 6, 4], [2, 3, 6], true, true],
    ];
    let seed = 2500;
    for (const [aShape, bShape, transposeA, transposeB] of cases) {
      seed += 3;
      const s = seed;
      const f = (a: tf.Tensor, b: tf.Tensor): tf.Tensor => tf.matMul(a, b, transposeA, transposeB);
      // tfjs-core has no gradient for a broadcast batch (rank 3 by rank 2): forward only there.
      await compareWithCpu(`matMul ${JSON.stringify([aShape, bShape, transposeA, transposeB])}`, () =>
        aShape.length === bShape.length
          ? valueAndGrads(f, [random(aShape, s), random(bShape, s + 1)], s + 2)
          : [f(random(aShape, s), random(bShape, s + 1))],
      );
    }
  },
);

test('_FusedMatMul (bias, relu / linear, transposes) and its gradients match the cpu backend', { skip }, async () => {
  let seed = 2600;
  for (const activation of ['relu', 'linear'] as const) {
    for (const [aShape, bShape, transposeA, transposeB] of [
      [[16, 12], [12, 5], false, false],
      [[12, 16], [5, 12], true, true],
    ] as [number[], number[], boolean, boolean][]) {
      seed += 4;
      const s = seed;
      await compareWithCpu(`fused matMul ${activation} ${JSON.stringify([aShape, bShape, transposeA, transposeB])}`, () =>
        valueAndGrads(
          (a, b, bias) => tf.fused.matMul({ a, b, transposeA, transposeB, bias, activation }),
          [random(aShape, s), random(bShape, s + 1), random([5], s + 2)],
          s + 3,
        ),
      );
    }
  }
});

test("SGD (momentum, Nesterov or not, weight decay or not): the one-pass update gives bit-for-bit the ops' result", { skip }, async () => {
  for (const [nesterov, weightDecay] of [
    [true, 1e-4],
    [false, 0],
    [true, 0],
  ] as [boolean, number][]) {
    const run = async (backend: string): Promise<Float32Array[]> => {
      await tf.setBackend(backend);
      const params = [tf.variable(random([300, 70], 2701)), tf.variable(random([5], 2702))];
      const optimizer = createOptimizer(
        { epochs: 1, batchSize: 1, optimizer: 'sgd', lr: 0.05, momentum: 0.9, nesterov, weightDecay, schedule: [], gammas: [], seed: 0 },
        params,
      );
      for (let step = 0; step < 4; step++) {
        tf.tidy(() =>
          optimizer.apply(
            params.map((p, i) => random(p.shape, 2710 + 10 * step + i)),
            0.05 / (step + 1),
          ),
        );
      }
      const state = await optimizer.getState();
      const out = [...params.map((p) => p.dataSync() as Float32Array), ...state.slots['momentum']!.map((v) => v!)];
      optimizer.dispose();
      tf.dispose(params);
      return out;
    };
    const expected = await run('cpu');
    await tf.setBackend(ONEDNN_BACKEND);
    assert.ok(tf.getKernel(SGD_UPDATE, ONEDNN_BACKEND), 'onednn has the one-pass SGD kernel');
    const actual = await run(ONEDNN_BACKEND);
    expected.forEach((e, i) =>
      assert.deepEqual(Array.from(actual[i]!), Array.from(e), `nesterov ${nesterov}, wd ${weightDecay}: tensor ${i}`),
    );
  }
});

test('Cast of bool and int32 to float32 gives real float arrays that the native kernels take', { skip }, async () => {
  await compareWithCpu('cast', () => {
    const x = random([40, 30], 2801);
    const mask = tf.cast(tf.greater(x, 0), 'float32');
    const ints = tf.cast(tf.cast(tf.mul(x, 10), 'int32'), 'float32');
    return [mask, ints, tf.mul(x, mask), tf.add(ints, mask)];
  });
  await tf.setBackend(ONEDNN_BACKEND);
  const mask = tf.cast(tf.greater(random([8], 2802), 0), 'float32');
  const backend = tf.backend() as unknown as { data: { get(id: object): { values: unknown } } };
  assert.ok(backend.data.get(mask.dataId).values instanceof Float32Array);
  mask.dispose();
});
