/**
 * A small seedable PRNG (xoshiro128**, seeded through splitmix32) with a state that can be saved
 * in a checkpoint and restored, so a resumed run draws exactly the numbers an uninterrupted one
 * would. Used for shuffling, augmentation and weight initialization; never Math.random.
 */

/** The full generator state: four unsigned 32-bit words (JSON-friendly). */
export type RngState = [number, number, number, number];

/** splitmix32: spreads a 32-bit seed into well-mixed words (used for seeding only). */
function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * Combines a seed with further integers (epoch, a stream tag, …) into one 32-bit seed, so that
 * independent streams (shuffle of epoch 3, augmentation of epoch 3, init) never overlap.
 */
export function deriveSeed(seed: number, ...parts: number[]): number {
  let h = splitmix32(seed >>> 0)();
  for (const p of parts) {
    // Fold negative or fractional parts into 32 bits deterministically.
    const v = Math.floor(p) >>> 0;
    h = splitmix32((h ^ Math.imul(v, 0x27d4eb2d)) >>> 0)();
  }
  return h >>> 0;
}

/** Stream tags for deriveSeed, so callers agree on who draws from which stream. */
export const RngStream = { shuffle: 1, augment: 2, init: 3, dropout: 4 } as const;

export class Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;

  constructor(seed: number) {
    const mix = splitmix32(seed >>> 0);
    this.s0 = mix();
    this.s1 = mix();
    this.s2 = mix();
    this.s3 = mix();
    // xoshiro must not start from the all-zero state.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** A generator restored from `getState()`. */
  static fromState(state: RngState): Rng {
    const r = new Rng(0);
    r.setState(state);
    return r;
  }

  getState(): RngState {
    return [this.s0, this.s1, this.s2, this.s3];
  }

  setState(state: RngState): void {
    if (!Array.isArray(state) || state.length !== 4 || state.some((v) => !Number.isInteger(v))) {
      throw new Error(`invalid RNG state ${JSON.stringify(state)}: expected four 32-bit unsigned integers`);
    }
    [this.s0, this.s1, this.s2, this.s3] = state.map((v) => v >>> 0) as RngState;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Next unsigned 32-bit integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform float in [0, 1) with 32 bits of randomness. */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform float in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Uniform integer in [0, n), unbiased (rejection sampling). */
  nextInt(n: number): number {
    if (!(n >= 1) || n > 4294967296) throw new Error(`nextInt(${n}): n must be in [1, 2^32]`);
    const limit = 4294967296 - (4294967296 % n);
    let v: number;
    do v = this.nextUint32();
    while (v >= limit);
    return v % n;
  }

  /** Standard normal draw (Box–Muller; no cached second value, so the state says it all). */
  normal(): number {
    let u = this.next();
    while (u === 0) u = this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Shuffles `a` in place (Fisher–Yates) and returns it. */
  shuffle<T extends { length: number; [i: number]: unknown }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const tmp = a[i];
      a[i] = a[j];
      a[j] = tmp;
    }
    return a;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** A permutation of 0..n-1 drawn from `rng`. */
export function permutation(n: number, rng: Rng): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  return rng.shuffle(p);
}
