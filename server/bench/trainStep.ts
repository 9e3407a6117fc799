/**
 * Times full training steps of a zoo model (BENCHMARKS.md, `tern bench`): forward pass in training mode, softmax
 * cross-entropy, backward pass, and the reference recipe's SGD update (momentum 0.9, Nesterov,
 * weight decay 3e-4) of every trainable variable. It runs the trainer's own step
 * (`makeTrainStep`), so the numbers are what `tern train` gets per batch, minus data loading:
 * one fixed random batch of the model's input shape is fed every step.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { QuantConfig, TrainConfig } from '../../shared/experimentConfig';
import { QUANT_DEFAULTS, type ThresholdMode } from '../../shared/quant';
import { ARCHITECTURES, buildModel } from '../models';
import { createOptimizer } from '../train/optimizers';
import { makeTrainStep } from '../train/step';

export type BenchMode = 'fp' | 'tern';

export interface BenchCase {
  model: string;
  mode: BenchMode;
  /** REL expansion (ternary only; null for fp). */
  tex: 1 | 2 | 4 | null;
  /** How Δ and α are chosen (ternary only; absent: fixed). */
  threshold?: ThresholdMode;
  batch: number;
}

export interface BenchSettings {
  classes: number;
  steps: number;
  warmup: number;
  seed: number;
}

export interface BenchResult extends BenchCase {
  /** Median wall time of one step over the timed steps (robust to other load on the machine). */
  msPerStep: number;
  /** Mean wall time of one step. */
  msMean: number;
  /** Images per second at the median step time. */
  imgPerSec: number;
  /**
   * CPU time (user + system, all threads of this process) per step, mean. On a machine shared
   * with other work this is the load-independent figure for a single-threaded backend (wasm):
   * wall time ≈ CPU time when the machine is otherwise idle.
   */
  cpuMsPerStep: number;
  /** Timed steps (after `warmup` untimed ones). */
  steps: number;
  /** Tensors still alive after the timed steps minus after the first one (0 = no leak). */
  tensorsLeaked: number;
}

/** The CIFAR ResNet recipe's SGD settings (momentum, Nesterov, weight decay), as the benchmarks train. */
export const RECIPE: TrainConfig = {
  epochs: 1,
  batchSize: 128,
  optimizer: 'sgd',
  lr: 0.1,
  momentum: 0.9,
  nesterov: true,
  weightDecay: 3e-4,
  schedule: [],
  gammas: [],
  seed: 0,
};

/** The quantization of a case: float, or he2019 with t_ex branches and its thresholds (every layer ternary). */
export function quantOf(c: Pick<BenchCase, 'mode' | 'tex' | 'threshold'>): QuantConfig {
  if (c.mode === 'fp') return { method: 'none' };
  return { ...QUANT_DEFAULTS, method: 'he2019', tex: c.tex ?? 1, threshold: c.threshold ?? 'fixed', firstLast: 'ternary' };
}

/** A deterministic batch of uniform(−1, 1) pixels and labels (mulberry32 from `seed`). */
function randomBatch(n: number, inputShape: number[], classes: number, seed: number): { x: Float32Array; y: Int32Array; n: number } {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const x = new Float32Array(n * inputShape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < x.length; i++) x[i] = next() * 2 - 1;
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) y[i] = Math.floor(next() * classes);
  return { x, y, n };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Builds the case's model and times `settings.steps` training steps after `settings.warmup`. */
export async function benchTrainStep(c: BenchCase, settings: BenchSettings): Promise<BenchResult> {
  const info = ARCHITECTURES[c.model];
  if (!info) throw new Error(`unknown model '${c.model}'; available: ${Object.keys(ARCHITECTURES).join(', ')}`);
  const model = buildModel({ arch: c.model, classes: settings.classes, quant: quantOf(c), seed: settings.seed });
  const params = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const optimizer = createOptimizer(RECIPE, params);
  const step = makeTrainStep(model, optimizer, params, settings.classes);
  const batch = randomBatch(c.batch, info.inputShape, settings.classes, settings.seed);
  try {
    for (let i = 0; i < settings.warmup; i++) await step(batch, RECIPE.lr);
    const times: number[] = [];
    let tensorsAfterFirst = 0;
    const cpuStart = process.cpuUsage();
    for (let i = 0; i < settings.steps; i++) {
      const start = performance.now();
      const result = await step(batch, RECIPE.lr);
      times.push(performance.now() - start);
      if (!Number.isFinite(result.loss)) throw new Error(`the loss became ${result.loss} at timed step ${i + 1}`);
      if (i === 0) tensorsAfterFirst = tf.memory().numTensors;
    }
    const cpu = process.cpuUsage(cpuStart);
    const msPerStep = median(times);
    return {
      ...c,
      msPerStep: Number(msPerStep.toFixed(1)),
      msMean: Number((times.reduce((a, b) => a + b, 0) / times.length).toFixed(1)),
      imgPerSec: Number(((c.batch * 1000) / msPerStep).toFixed(1)),
      cpuMsPerStep: Number(((cpu.user + cpu.system) / 1000 / settings.steps).toFixed(1)),
      steps: settings.steps,
      tensorsLeaked: tf.memory().numTensors - tensorsAfterFirst,
    };
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}

/** The cases of a `tern bench` invocation: fp once, tern once per t_ex and threshold rule (side by side). */
export function benchCases(
  model: string,
  batch: number,
  modes: BenchMode[],
  texes: (1 | 2 | 4)[],
  thresholds: ThresholdMode[] = ['fixed'],
): BenchCase[] {
  const cases: BenchCase[] = [];
  for (const mode of modes) {
    if (mode === 'fp') cases.push({ model, mode, tex: null, batch });
    else for (const tex of texes) for (const threshold of thresholds) cases.push({ model, mode, tex, threshold, batch });
  }
  return cases;
}
