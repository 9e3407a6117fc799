/**
 * Least-squares thresholds (docs/method.md, Optimal thresholds): the Δ and α that minimize
 * ‖R − α·T‖² over T ∈ {−1, 0, +1}ⁿ, and REL as greedy residual fitting, each branch fitting what
 * the previous ones left: R_1 = W, R_{k+1} = R_k − α_k·T_k.
 *
 * For k non-zero entries the best T keeps the k largest |R| with their signs and α is their mean,
 * leaving ΣR² − S_k²/k (S_k the sum of the k largest |R|): the optimum maximizes S_k²/k. Only k
 * that a threshold can produce count (the k-th largest |R| strictly above the next one), so
 * T = sign(R)·1[|R| ≥ Δ] with Δ the k-th largest |R|.
 *
 * Sorting every layer at every step would cost more than the rest of the quantizer, so the search
 * buckets |R| by value (one pass: count, sum, min and max per bucket), evaluates S²/k exactly at
 * every bucket boundary, and sorts only the buckets where a cut inside could beat the best
 * boundary: for j of the c entries of a bucket taken, (S + j·v)²/(K + j) with v its largest value
 * bounds every cut inside, and that bound is convex in j, so its largest value is at j = c.
 * Arithmetic is float64 (|R| of float32 weights is exact there); α is rounded to float32, the
 * precision the layers compute with. quantizerReference.ts holds the plain sort-every-value
 * version the tests compare with.
 */

/** One branch's fit: Δ (the smallest |R| kept), α (float32), and how many entries are non-zero. */
export interface OptimalCut {
  delta: number;
  alpha: number;
  count: number;
}

/** A layer's REL fit: per branch Δ_k, α_k and codes s_k ∈ {−1, 0, +1}; `weight` = Σ_k α_k·s_k. */
export interface OptimalFit {
  cuts: OptimalCut[];
  /** Per branch, s_k per weight (same order as W). */
  codes: Int8Array[];
  /** Σ_k α_k·s_k summed in float32 in branch order, as server/formats/packedModel.ts decodes it. */
  weight: Float32Array;
}

/** Most buckets: enough that a bucket of a 400 K-weight layer holds ~100 values. */
const MAX_BUCKETS = 4096;
/** Rounding slack when comparing a bucket's bound with the best cut (sums in different orders). */
const BOUND_SLACK = 1e-12;

/** max|r|. */
export function maxAbs(r: Float64Array): number {
  let max = 0;
  for (let i = 0; i < r.length; i++) {
    const a = Math.abs(r[i]);
    if (a > max) max = a;
  }
  return max;
}

/**
 * The least-squares cut of |r| (see the module comment); `max` is max|r| when the caller has it.
 * All zero: count 0, α 0, Δ 0. Float64Array only: one element type keeps the loops monomorphic
 * (mixing typed array types here cost 3× in V8), and the bucketing pass does no more than count
 * and sum (tracking each bucket's min and max tripled its cost).
 */
export function optimalCut(r: Float64Array, max = maxAbs(r)): OptimalCut {
  const n = r.length;
  if (max === 0) return { delta: 0, alpha: 0, count: 0 };
  const buckets = Math.max(1, Math.min(MAX_BUCKETS, n >> 4));
  // Bucket b holds |r| with ⌊|r|·scale⌋ = b; |r| = max lands in bucket `buckets`, one past the
  // others. The index is monotone in |r| (correctly rounded ops are), so a higher bucket holds only
  // larger values. Zeros land in bucket 0; they never help (they add to k and nothing to S).
  const scale = buckets / max;
  const counts = new Int32Array(buckets + 1);
  const sums = new Float64Array(buckets + 1);
  for (let i = 0; i < n; i++) {
    const a = Math.abs(r[i]);
    const b = (a * scale) | 0;
    counts[b]++;
    sums[b] += a;
  }
  // Cuts at bucket boundaries, from the top; what lies above each bucket, for refining inside it.
  const aboveCount = new Float64Array(buckets + 1);
  const aboveSum = new Float64Array(buckets + 1);
  const bound = new Float64Array(buckets + 1);
  let k = 0;
  let s = 0;
  let best = -1;
  let bestCount = 0;
  let bestSum = 0;
  let bestBucket = -1;
  for (let b = buckets; b >= 0; b--) {
    const c = counts[b];
    if (c === 0) continue;
    aboveCount[b] = k;
    aboveSum[b] = s;
    // No bucket value exceeds its upper edge (b + 1) / scale (max for the top one), up to rounding.
    const hi = b === buckets ? max : ((b + 1) / scale) * (1 + 1e-9);
    bound[b] = ((s + c * hi) * (s + c * hi)) / (k + c);
    k += c;
    s += sums[b];
    // Bucket 0 may hold zeros: its cuts are all tried below.
    if (b === 0) continue;
    const f = (s * s) / k;
    if (f > best) {
      best = f;
      bestCount = k;
      bestSum = s;
      bestBucket = b;
    }
  }
  // Sorted values of the buckets where a cut inside may beat the best boundary, and of the best
  // boundary's bucket (its smallest value is Δ).
  const slot = new Int32Array(buckets + 1).fill(-1);
  const refined: Float64Array[] = [];
  for (let b = 0; b <= buckets; b++) {
    if (counts[b] > 0 && (b === bestBucket || b === 0 || (counts[b] > 1 && bound[b] > best * (1 - BOUND_SLACK)))) {
      slot[b] = refined.length;
      refined.push(new Float64Array(counts[b]));
    }
  }
  const filled = new Int32Array(refined.length);
  for (let i = 0; i < n; i++) {
    const a = Math.abs(r[i]);
    const j = slot[(a * scale) | 0];
    if (j >= 0) refined[j][filled[j]++] = a;
  }
  let bestDelta = 0;
  for (let b = 0; b <= buckets; b++) {
    if (slot[b] < 0) continue;
    // Ascending (typed arrays sort numerically), read from the top.
    const values = refined[slot[b]].sort();
    let kk = aboveCount[b];
    let ss = aboveSum[b];
    let smallest = 0;
    for (let j = values.length - 1; j >= 0 && values[j] > 0; j--) {
      kk++;
      ss += values[j];
      smallest = values[j];
      // A threshold at values[j] keeps exactly these kk only if the next value is smaller.
      if (j > 0 && values[j - 1] === values[j]) continue;
      const f = (ss * ss) / kk;
      if (f > best) {
        best = f;
        bestCount = kk;
        bestSum = ss;
        bestDelta = values[j];
        bestBucket = -1;
      }
    }
    if (b === bestBucket) bestDelta = smallest;
  }
  return { delta: bestDelta, alpha: Math.fround(bestSum / bestCount), count: bestCount };
}

/** The residual buffer, kept between calls: allocating and freeing megabytes per layer and step cost as much as a cut. */
let scratch = new Float64Array(0);

/** Greedy residual fitting of `w` with `tex` branches (tex = 1: the single least-squares ternarization). */
export function optimalFit(w: ArrayLike<number>, tex: number): OptimalFit {
  const n = w.length;
  // The residual in float64: α_k·s_k is exact there, so R_k is W minus the branches, unrounded.
  if (scratch.length < n) scratch = new Float64Array(n);
  const residual = scratch.subarray(0, n);
  residual.set(w);
  const weight = new Float32Array(n);
  const cuts: OptimalCut[] = [];
  const codes: Int8Array[] = [];
  let max = maxAbs(residual);
  for (let k = 0; k < tex; k++) {
    const cut = optimalCut(residual, max);
    const s = new Int8Array(n);
    const { delta, alpha } = cut;
    if (cut.count > 0 && k === tex - 1) {
      // The last branch: no residual to form.
      for (let i = 0; i < n; i++) {
        const r = residual[i];
        // Branch-free: about half the weights pass, so a branch would be mispredicted often.
        const sign = (r >= delta ? 1 : 0) - (r <= -delta ? 1 : 0);
        s[i] = sign;
        // Float32Array stores round to float32: the sum in branch order, as the decoder forms it.
        weight[i] += sign * alpha;
      }
    } else if (cut.count > 0) {
      // max|R_{k+1}|, found while R_{k+1} is formed (the next cut needs it).
      let next = 0;
      for (let i = 0; i < n; i++) {
        let r = residual[i];
        if (r >= delta) {
          s[i] = 1;
          weight[i] += alpha;
          r -= alpha;
          residual[i] = r;
        } else if (r <= -delta) {
          s[i] = -1;
          weight[i] -= alpha;
          r += alpha;
          residual[i] = r;
        }
        const a = Math.abs(r);
        if (a > next) next = a;
      }
      max = next;
    }
    cuts.push(cut);
    codes.push(s);
  }
  return { cuts, codes, weight };
}

/**
 * Every value Σ_k s_k·α_k a residual fit with these α's can give (s_k ∈ {−1, 0, +1}), summed in
 * float32 in branch order as optimalFit forms it: entry c + half holds the value of the
 * balanced-ternary number c = Σ_k s_k·3^(k−1), half = (3^t − 1)/2 (docs/formats.md, residual codes).
 */
export function residualTable(levels: ArrayLike<number>): { half: number; table: Float32Array } {
  const t = levels.length;
  const half = (3 ** t - 1) / 2;
  const table = new Float32Array(2 * half + 1);
  for (let c = -half; c <= half; c++) {
    let value = 0;
    let rest = c;
    // Balanced-ternary digits of c, least significant (branch 1) first.
    for (let k = 0; k < t; k++) {
      const r = ((rest % 3) + 3) % 3;
      const digit = r === 2 ? -1 : r;
      rest = (rest - digit) / 3;
      if (digit !== 0) value = Math.fround(value + digit * levels[k]);
    }
    table[c + half] = value;
  }
  return { half, table };
}

/**
 * The residual fit a kernel of stored values stands for: a REL layer with optimal thresholds loaded
 * from `.tern` or `model.onnx` holds Σ_k α_k·s_k itself (its latent weights are not in the file, and
 * no latent makes the fit come out at given digits and α's), so its branches are read off the
 * values. Δ_k is the smallest |R_k| branch k keeps, R_k the stored value minus the earlier branches:
 * the cut that gives these digits. Throws when a value is none of the 3^t sums.
 */
export function fitFromValues(values: ArrayLike<number>, levels: ArrayLike<number>, layer: string): OptimalFit {
  const t = levels.length;
  const { half, table } = residualTable(levels);
  // The smallest code of a value first: it has the fewest non-zero digits when sums coincide.
  const codeOf = new Map<number, number>();
  for (let m = 0; m <= half; m++) {
    for (const c of m === 0 ? [0] : [m, -m]) if (!codeOf.has(table[c + half])) codeOf.set(table[c + half], c);
  }
  const n = values.length;
  const codes = Array.from({ length: t }, () => new Int8Array(n));
  for (let i = 0; i < n; i++) {
    const code = codeOf.get(values[i]);
    if (code === undefined) {
      throw new Error(
        `Layer '${layer}': weight ${i} is ${values[i]}, none of the sums of its residual levels ±${Array.from(levels).join(', ±')}; export the model again.`,
      );
    }
    let c: number = code;
    for (let k = 0; k < t; k++) {
      const r = ((c % 3) + 3) % 3;
      const digit = r === 2 ? -1 : r;
      c = (c - digit) / 3;
      codes[k][i] = digit;
    }
  }
  const cuts: OptimalCut[] = [];
  for (let k = 0; k < t; k++) {
    let delta = Infinity;
    let count = 0;
    for (let i = 0; i < n; i++) {
      if (codes[k][i] === 0) continue;
      let r = 0;
      for (let j = k; j < t; j++) r += codes[j][i] * levels[j];
      delta = Math.min(delta, Math.abs(r));
      count++;
    }
    cuts.push({ delta: count > 0 ? delta : 0, alpha: count > 0 ? Math.fround(levels[k]) : 0, count });
  }
  return { cuts, codes, weight: Float32Array.from(values) };
}
