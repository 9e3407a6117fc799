import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import {
  ternarize,
  ternarizeBranches,
  ternaryWeight,
  steTernarize,
  branchFactors,
  deltaFactors,
  kernelCodes,
  type LayerQuant,
} from '../../server/core/quantizer';
import { TernaryDense } from '../../server/core/layers';
import { isUserError } from '../../shared/userError';
import {
  ternarizeReference,
  summedTernaryReference,
  steGradientReference,
  ternarizeBranchesReference,
} from '../../server/core/quantizerReference';

const f32 = Math.fround;

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    const scale = Math.max(1, Math.abs(expected[i]));
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol * scale, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

/** Deterministic normal-ish numbers (Box–Muller on a small LCG). */
function randn(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0;
  const next = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 4294967296;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = scale * Math.sqrt(-2 * Math.log(next())) * Math.cos(2 * Math.PI * next());
  return out;
}

before(async () => {
  await tf.setBackend('cpu');
});

// Δ = 0.25 · 0.8 = 0.2 exactly in float32 (a power-of-two scaling), so ±0.2 sit on the boundary.
const W = [0.8, -0.2, 0.2, 0.1, -0.5, 0.0, -0.19, 0.3];

test('he2019: hand-computed Δ, α, T, with W = ±Δ on the boundary', () => {
  const r = ternarize(tf.tensor1d(W), { method: 'he2019', thresholdFactor: 0.25 });
  assert.equal(r.delta.dataSync()[0], f32(0.2));
  // |W| ≥ 0.2: 0.8, 0.2, 0.2, 0.5, 0.3 → α = 2.0 / 5
  close(r.alpha.dataSync(), [0.4], 1e-6, 'alpha');
  close(r.ternary.dataSync(), [0.4, -0.4, 0.4, 0, -0.4, 0, 0, 0.4], 1e-6, 'T');
  const ref = ternarizeReference(new Float32Array(W), 'he2019', 0.25);
  assert.deepEqual(ref.counts, { neg: 2, zero: 3, pos: 3 });
  close(ref.ternary, r.ternary.dataSync(), 1e-6, 'reference T');
});

test('he2019 with the default f = 0.05', () => {
  const w = [1.0, 0.04, -0.05, 0.06, -0.6, 0.0];
  const r = ternarize(tf.tensor1d(w), { method: 'he2019', thresholdFactor: 0.05 });
  // Δ = 0.05; large: 1.0, 0.05, 0.06, 0.6 → α = 1.71 / 4
  close(r.delta.dataSync(), [0.05], 1e-7, 'delta');
  close(r.alpha.dataSync(), [1.71 / 4], 1e-6, 'alpha');
  const a = 1.71 / 4;
  close(r.ternary.dataSync(), [a, 0, -a, a, -a, 0], 1e-6, 'T');
});

test('twn: Δ = 0.7·mean|W|, α over |W| > Δ (strict)', () => {
  const r = ternarize(tf.tensor1d(W), { method: 'twn', thresholdFactor: 0.05 });
  const mean = 2.29 / 8; // Σ|W| / n
  close(r.delta.dataSync(), [0.7 * mean], 1e-6, 'delta');
  // 0.7·0.28625 = 0.200375 > 0.2, so ±0.2 are zeros now; large: 0.8, 0.5, 0.3
  const a = 1.6 / 3;
  close(r.alpha.dataSync(), [a], 1e-6, 'alpha');
  close(r.ternary.dataSync(), [a, 0, 0, 0, -a, 0, 0, a], 1e-6, 'T');
});

test('twn: equal magnitudes all exceed Δ = 0.7·|w|, so α = |w|', () => {
  const r = ternarize(tf.tensor1d([0.3, -0.3, 0.3, -0.3]), { method: 'twn', thresholdFactor: 0.05 });
  close(r.alpha.dataSync(), [0.3], 1e-6, 'alpha');
  close(r.ternary.dataSync(), [0.3, -0.3, 0.3, -0.3], 1e-6, 'T');
});

test('degenerate tensors: all zeros give α = 0 (not NaN) for both methods; f = 0 sends W = 0 to +α', () => {
  for (const method of ['he2019', 'twn'] as const) {
    const r = ternarize(tf.zeros([5]), { method, thresholdFactor: 0.05 });
    assert.equal(r.alpha.dataSync()[0], 0, method);
    assert.deepEqual(Array.from(r.ternary.dataSync()), [0, 0, 0, 0, 0], method);
    const ref = ternarizeReference(new Float32Array(5), method, 0.05);
    assert.equal(ref.alpha, 0);
  }
  // Δ = 0: every weight has |W| ≥ Δ, α = mean|W| = 1/3, and W = 0 ≥ Δ → +α (docs/method.md: W ≥ Δ is tested first).
  const r = ternarize(tf.tensor1d([0, 0.5, -0.5]), { method: 'he2019', thresholdFactor: 0 });
  close(r.ternary.dataSync(), [1 / 3, 1 / 3, -1 / 3], 1e-6, 'T');
  const ref = ternarizeReference(new Float32Array([0, 0.5, -0.5]), 'he2019', 0);
  assert.deepEqual(ref.counts, { neg: 1, zero: 0, pos: 2 });
  // The training path (sign-based, fewer kernels) agrees on these edge cases.
  close(
    ternaryWeight(tf.tensor1d([0, 0.5, -0.5]), { method: 'he2019', thresholdFactor: 0, tex: 1 }).dataSync(),
    [1 / 3, 1 / 3, -1 / 3],
    1e-6,
    'ternaryWeight f = 0',
  );
  for (const method of ['he2019', 'twn'] as const) {
    assert.deepEqual(Array.from(ternaryWeight(tf.zeros([4]), { method, thresholdFactor: 0.05, tex: 1 }).dataSync()), [0, 0, 0, 0], method);
  }
  assert.deepEqual(Array.from(ternaryWeight(tf.zeros([4]), { method: 'he2019', thresholdFactor: 0.05, tex: 4 }).dataSync()), [0, 0, 0, 0]);
});

/** Fixed-threshold settings the random-tensor tests run: both methods, every REL branch count. */
const FIXED_SETTINGS: LayerQuant[] = [
  { method: 'he2019', thresholdFactor: 0.05, tex: 1 },
  { method: 'he2019', thresholdFactor: 0.05, tex: 2 },
  { method: 'he2019', thresholdFactor: 0.05, tex: 4 },
  { method: 'twn', thresholdFactor: 0.05, tex: 1 },
];

test('tfjs quantizer equals the JS reference on random tensors (both methods, every REL branch)', () => {
  const values = randn(3 * 3 * 16 * 32, 7, 0.2);
  const w = tf.tensor4d(values, [3, 3, 16, 32]);
  for (const quant of FIXED_SETTINGS) {
    const branches = ternarizeBranches(w, quant);
    const refs = ternarizeBranchesReference(values, quant);
    assert.equal(branches.length, quant.tex);
    branches.forEach((b, k) => {
      close(b.delta.dataSync(), [refs[k].delta], 1e-7, `${quant.method} delta ${k}`);
      close(b.alpha.dataSync(), [refs[k].alpha], 1e-6, `${quant.method} alpha ${k}`);
      close(b.ternary.dataSync(), refs[k].ternary, 1e-6, `${quant.method} T ${k}`);
    });
    close(ternaryWeight(w, quant).dataSync(), summedTernaryReference(values, quant), 1e-6, 'summed');
  }
  assert.deepEqual(branchFactors({ thresholdFactor: 0.07, tex: 1 }), [0.07]);
  assert.deepEqual(branchFactors({ thresholdFactor: 0.07, tex: 2 }), [0.05, 0.1]);
  assert.deepEqual(branchFactors({ thresholdFactor: 0.07, tex: 4 }), [0.05, 0.1, 0.15, 0.2]);
  // What the torch engine is given: Δ_k = f_k·max|W| (he2019), f_k·mean|W| with TWN's 0.7 (TWN).
  assert.deepEqual(deltaFactors({ method: 'he2019', thresholdFactor: 0.07, tex: 1 }), [0.07]);
  assert.deepEqual(deltaFactors({ method: 'he2019', thresholdFactor: 0.07, tex: 2 }), [0.05, 0.1]);
  assert.deepEqual(deltaFactors({ method: 'twn', thresholdFactor: 0.07, tex: 1 }), [0.7]);
});

test("kernelCodes: T is the layer's weight and each code is sign(W) times the branches it passes, as the JS reference finds them", () => {
  const values = randn(3 * 3 * 8 * 16, 11, 0.2);
  const w = tf.tensor4d(values, [3, 3, 8, 16]);
  for (const quant of FIXED_SETTINGS) {
    const kernel = kernelCodes(w, quant);
    assert.equal(kernel.encoding, 'nested');
    assert.deepEqual(kernel.ternary, ternaryWeight(w, quant).dataSync(), `${quant.method} t_ex ${quant.tex}: T`);
    const refs = ternarizeBranchesReference(values, quant);
    const expected = Array.from(values, (_, i) => refs.reduce((c, r) => c + Math.sign(r.ternary[i]), 0));
    assert.deepEqual(Array.from(kernel.codes), expected, `${quant.method} t_ex ${quant.tex}: codes`);
    assert.ok(expected.some((c) => Math.abs(c) === quant.tex) && expected.includes(0), 'every level and zero occur');
  }
  w.dispose();
});

test('STE: gradient passes where |W| < 1 and is zero where |W| ≥ 1', () => {
  const w = tf.tensor1d([0.5, -0.99, 1.0, -1.0, 1.5, 0.0, -2.0, 0.999]);
  const dy = tf.tensor1d([1, 2, 3, 4, 5, 6, 7, 8]);
  const grad = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(steTernarize(x, { method: 'he2019', thresholdFactor: 0.05 }), dy)))(w);
  assert.deepEqual(Array.from(grad.dataSync()), [1, 2, 0, 0, 0, 6, 0, 8]);
  for (const tex of [2, 4] as const) {
    const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(ternaryWeight(x, { method: 'he2019', thresholdFactor: 0.05, tex }), dy)))(w);
    assert.deepEqual(
      Array.from(g.dataSync()),
      [1, 2, 0, 0, 0, 6, 0, 8].map((v) => v * tex),
      `tex ${tex}`,
    );
  }
});

test('REL: one conv on Σ T_k equals the sum of t_ex branch convs (≤ 1e-5), and its gradient is the reference one', () => {
  const x = tf.tensor4d(randn(2 * 6 * 6 * 3, 11), [2, 6, 6, 3]);
  const wValues = randn(3 * 3 * 3 * 4, 13, 0.6); // some |W| ≥ 1, so the clip matters
  assert.ok(wValues.some((v) => Math.abs(v) >= 1));
  const w = tf.tensor4d(wValues, [3, 3, 3, 4]);
  const r = tf.tensor4d(randn(2 * 3 * 3 * 4, 17), [2, 3, 3, 4]); // weights of a linear loss
  for (const tex of [1, 2, 4] as const) {
    const quant: LayerQuant = { method: 'he2019', thresholdFactor: 0.05, tex };
    const summed = tf.conv2d(x, ternaryWeight(w, quant) as tf.Tensor4D, 2, 'same');
    const branches = ternarizeBranches(w, quant);
    let separate = tf.zerosLike(summed);
    for (const b of branches) separate = tf.add(separate, tf.conv2d(x, b.ternary as tf.Tensor4D, 2, 'same'));
    close(summed.dataSync(), separate.dataSync(), 1e-5, `output tex ${tex}`);

    const loss = (weight: tf.Tensor): tf.Scalar => tf.sum(tf.mul(tf.conv2d(x, weight as tf.Tensor4D, 2, 'same'), r));
    const ours = tf.grad((v: tf.Tensor) => loss(ternaryWeight(v, quant)))(w);
    // Reference: every branch k gets dL/dT_k = dL/dT (the loss is linear in Σ T_k), and passes it through its STE.
    const dT = tf.grad(loss)(branches[0].ternary);
    const expected = steGradientReference(wValues, dT.dataSync(), tex);
    close(ours.dataSync(), expected, 1e-5, `gradient tex ${tex}`);
  }
});

test('quantizer does not leak tensors', () => {
  const w = tf.variable(tf.tensor2d(randn(64, 3), [8, 8]));
  const step = (): void => {
    tf.tidy(() => {
      const g = tf.grad((v: tf.Tensor) => tf.sum(ternaryWeight(v, { method: 'he2019', thresholdFactor: 0.05, tex: 4 })))(w);
      g.dataSync();
    });
  };
  step();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 5; i++) step();
  assert.equal(tf.memory().numTensors, before);
  w.dispose();
});

test('invalid settings are refused once, where a layer is built, naming the layer and the setting', () => {
  const refused = (args: Record<string, unknown>, message: RegExp) =>
    assert.throws(
      () => new TernaryDense({ name: 'fc', units: 2, ...args }),
      (err: unknown) => isUserError(err) && err.code === 'badModel' && err.data.layer === 'fc' && message.test(err.message),
    );
  refused({ method: 'twn', tex: 2 }, /^Layer 'fc': tex must be 1 with method "twn" \(got 2\)/);
  refused({ tex: 3 }, /^Layer 'fc': tex must be one of 1, 2, 4 \(got 3\)/);
  refused({ method: 'none' }, /^Layer 'fc': method must be one of "he2019", "twn" \(got "none"\)/);
  refused({ thresholdFactor: 1.5 }, /^Layer 'fc': thresholdFactor must be a number in \[0, 1\] \(got 1.5\)/);
  // The tensor functions trust the layer: no check per forward pass (REL's factor list still bounds tex).
  assert.throws(() => ternaryWeight(tf.ones([2]), { method: 'he2019', thresholdFactor: 0.05, tex: 3 as 1 }), /tex must be 1, 2 or 4/);
});
