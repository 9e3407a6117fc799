/**
 * Optimal thresholds (server/core/optimalThresholds.ts): t_ex 1 is the least-squares ternarization
 * (checked against every T ∈ {−1, 0, +1}ⁿ on small tensors, and against every threshold on larger
 * ones), REL is greedy residual fitting (checked against the plain reference), and the training
 * path computes with that weight and the same straight-through gradient as fixed thresholds.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { optimalCut, optimalFit } from '../../server/core/optimalThresholds';
import { ternarizeBranches, ternaryWeight, type LayerQuant } from '../../server/core/quantizer';
import { optimalBranchesReference, steGradientReference } from '../../server/core/quantizerReference';

/** Deterministic uniform numbers in [0, 1) (a small LCG). */
function uniform(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 4294967296;
}

/** Random float32 weights: mixtures of scales, with exact zeros and repeated values now and then. */
function weights(n: number, seed: number): Float32Array {
  const next = uniform(seed);
  const w = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = next();
    if (u < 0.05) w[i] = 0;
    else if (u < 0.15 && i > 0) w[i] = -w[i - 1];
    else if (u < 0.25) w[i] = Math.round((next() - 0.5) * 8) / 16;
    else w[i] = (next() - 0.5) * (next() < 0.3 ? 1 : 0.1);
  }
  return w;
}

function squaredError(w: ArrayLike<number>, t: ArrayLike<number>): number {
  let e = 0;
  for (let i = 0; i < w.length; i++) e += (w[i] - t[i]) ** 2;
  return e;
}

/** min over every T ∈ {−1, 0, +1}ⁿ and α ∈ ℝ of ‖W − α·T‖² (α = ⟨W, T⟩ / ⟨T, T⟩ is optimal for a given T). */
function bruteForceError(w: Float32Array): number {
  let best = squaredError(w, new Float32Array(w.length));
  const t = new Int8Array(w.length).fill(-1);
  for (;;) {
    let dot = 0;
    let norm = 0;
    for (let i = 0; i < w.length; i++) {
      dot += w[i] * t[i];
      norm += t[i] * t[i];
    }
    if (norm > 0)
      best = Math.min(
        best,
        squaredError(
          w,
          Array.from(t, (s) => (s * dot) / norm),
        ),
      );
    let i = 0;
    while (i < t.length && t[i] === 1) t[i++] = -1;
    if (i === t.length) return best;
    t[i]++;
  }
}

before(async () => {
  await tf.setBackend('cpu');
});

test('t_ex 1: the least-squares ternarization over every T ∈ {−1, 0, +1}ⁿ (n ≤ 7)', () => {
  for (let seed = 1; seed <= 60; seed++) {
    const w = weights(1 + (seed % 7), seed);
    const fit = optimalFit(w, 1);
    const best = bruteForceError(w);
    // α is rounded to float32, so the error can exceed the real-valued optimum by that rounding.
    const error = squaredError(w, fit.weight);
    assert.ok(error <= best * (1 + 1e-6) + 1e-12, `seed ${seed}: ${error} vs brute force ${best} (w = ${Array.from(w)})`);
    // The closed form: ΣW² − S_k²/k.
    const cut = fit.cuts[0];
    if (cut.count > 0) {
      let sum = 0;
      for (let i = 0; i < w.length; i++) if (Math.abs(w[i]) >= cut.delta) sum += Math.abs(w[i]);
      assert.ok(
        Math.abs(squaredError(w, new Float32Array(w.length)) - (sum * sum) / cut.count - best) <= 1e-12 + 1e-9 * best,
        `seed ${seed}`,
      );
    }
  }
});

test('t_ex 1: the bucketed search finds the cut of trying every threshold, exactly', () => {
  // Sizes around the bucket count (n / 16, at most 4096), ties, zeros, and a layer-sized tensor.
  const sizes = [1, 2, 3, 15, 16, 17, 100, 1000, 4095, 20000, 70000];
  for (const [s, n] of sizes.entries()) {
    const w = weights(n, 100 + s);
    const [ref] = optimalBranchesReference(w, 1);
    const fit = optimalFit(w, 1);
    assert.equal(fit.cuts[0].delta, ref.delta, `n = ${n}: Δ`);
    assert.equal(fit.cuts[0].alpha, ref.alpha, `n = ${n}: α`);
    assert.deepEqual(fit.weight, ref.ternary, `n = ${n}: T`);
    let count = 0;
    for (const v of fit.weight) if (v !== 0) count++;
    assert.equal(fit.cuts[0].count, count, `n = ${n}: count`);
  }
  // All equal magnitudes: every weight kept. All zero: nothing kept, α = 0.
  assert.deepEqual(optimalCut(Float64Array.of(0.5, -0.5, 0.5)), { delta: 0.5, alpha: 0.5, count: 3 });
  assert.deepEqual(optimalCut(new Float64Array(3)), { delta: 0, alpha: 0, count: 0 });
  assert.deepEqual(optimalFit([0, 0], 2).weight, new Float32Array(2));
});

test('REL (t_ex 2, 4): greedy residual fitting, as the plain reference does it', () => {
  for (const tex of [2, 4]) {
    for (const [s, n] of [5, 64, 3000, 30000].entries()) {
      const w = weights(n, 7 * tex + s);
      const ref = optimalBranchesReference(w, tex);
      const fit = optimalFit(w, tex);
      const sum = new Float32Array(n);
      for (let k = 0; k < tex; k++) {
        assert.equal(fit.cuts[k].delta, ref[k].delta, `t_ex ${tex}, n ${n}, branch ${k + 1}: Δ`);
        assert.equal(fit.cuts[k].alpha, ref[k].alpha, `t_ex ${tex}, n ${n}, branch ${k + 1}: α`);
        for (let i = 0; i < n; i++) {
          assert.equal(fit.codes[k][i] * fit.cuts[k].alpha, ref[k].ternary[i], `t_ex ${tex}, n ${n}, branch ${k + 1}, weight ${i}`);
          sum[i] += ref[k].ternary[i];
        }
      }
      assert.deepEqual(fit.weight, sum, `t_ex ${tex}, n ${n}: Σ_k α_k·T_k`);
      // Each branch can only lower the error (the residual's least-squares fit is never worse than none).
      const one = optimalFit(w, 1).weight;
      assert.ok(squaredError(w, fit.weight) <= squaredError(w, one), `t_ex ${tex}, n ${n}: REL error ≤ t_ex 1 error`);
    }
  }
});

test('the training weight is the fit, and the gradient is the straight-through one of fixed thresholds', () => {
  for (const tex of [1, 2, 4] as const) {
    const quant: LayerQuant = { method: 'he2019', thresholdFactor: 0.05, threshold: 'optimal', tex };
    const w = weights(600, 40 + tex).map((v, i) => (i % 50 === 0 ? v * 30 : v));
    const x = tf.tensor(w, [20, 30]);
    const dy = tf.randomNormal([20, 30], 0, 1, 'float32', tex);
    const grad = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(ternaryWeight(v, quant), dy)))(x);
    assert.deepEqual(ternaryWeight(x, quant).dataSync(), optimalFit(w, tex).weight, `t_ex ${tex}: forward`);
    // + 0 turns −0 (dY·0 for a negative dY) into 0, which the reference writes.
    const plusZero = (a: ArrayLike<number>) => Array.from(a, (v) => v + 0);
    assert.deepEqual(plusZero(grad.dataSync()), plusZero(steGradientReference(w, dy.dataSync(), tex)), `t_ex ${tex}: gradient`);
    const branches = ternarizeBranches(x, quant);
    const ref = optimalBranchesReference(w, tex);
    assert.deepEqual(
      branches.map((b) => [b.delta.dataSync()[0], b.alpha.dataSync()[0]]),
      ref.map((b) => [Math.fround(b.delta), b.alpha]),
      `t_ex ${tex}: per-branch Δ, α`,
    );
    branches.forEach((b, k) => assert.deepEqual(b.ternary.dataSync(), ref[k].ternary, `t_ex ${tex}: branch ${k + 1}`));
    tf.dispose([x, dy, grad, ...branches.flatMap((b) => [b.ternary, b.delta, b.alpha])]);
  }
});
