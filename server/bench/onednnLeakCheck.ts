/**
 * Leak check of the onednn backend: trains ResNet-20 for N steps on one fixed batch and
 * prints one JSON line every `--every` steps with the resident set size and tfjs's tensor count,
 * then a summary line: growth of both between the first report and the last.
 *
 *   node --import tsx server/bench/onednnLeakCheck.ts [--steps 500] [--batch 16] [--every 50] [--threads 2]
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import type { TrainConfig } from '../../shared/experimentConfig';
import { buildModel } from '../models';
import { createOptimizer } from '../train/optimizers';
import { makeTrainStep } from '../train/step';
import { RECIPE } from './trainStep';
import { addonLoadError, ONEDNN_BACKEND, registerOnednnBackend } from '../backends/onednn';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

async function main(): Promise<void> {
  const steps = arg('steps', 500);
  const batchSize = arg('batch', 16);
  const every = arg('every', 50);
  if (!(await registerOnednnBackend(arg('threads', 2)))) throw new Error(addonLoadError());
  await tf.setBackend(ONEDNN_BACKEND);
  const recipe: TrainConfig = { ...RECIPE, batchSize, lr: 0.01 };
  const model = buildModel({
    arch: 'resnet20',
    classes: 10,
    seed: 1,
    quant: { method: 'he2019', thresholdFactor: 0.05, threshold: 'fixed', tex: 1, firstLast: 'ternary' },
  });
  const params = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const optimizer = createOptimizer(recipe, params);
  const step = makeTrainStep(model, optimizer, params, 10);
  const x = new Float32Array(batchSize * 32 * 32 * 3).map((_, i) => Math.sin(i * 12.9898) * 0.5);
  const y = new Int32Array(batchSize).map((_, i) => i % 10);
  let first: { rssMB: number; numTensors: number } | undefined;
  let last = { rssMB: 0, numTensors: 0 };
  const started = performance.now();
  for (let i = 1; i <= steps; i++) {
    const { loss } = await step({ x, y, n: batchSize }, recipe.lr);
    if (i % every === 0 || i === 1) {
      last = { rssMB: Number((process.memoryUsage().rss / 2 ** 20).toFixed(1)), numTensors: tf.memory().numTensors };
      // The first report comes after warm-up (primitive caches, optimizer slots): step `every`.
      if (i === every) first = last;
      process.stdout.write(JSON.stringify({ step: i, loss: Number(loss.toFixed(4)), ...last }) + '\n');
    }
  }
  optimizer.dispose();
  model.dispose();
  process.stdout.write(
    JSON.stringify({
      summary: true,
      steps,
      batch: batchSize,
      seconds: Number(((performance.now() - started) / 1000).toFixed(1)),
      rssGrowthMB: first ? Number((last.rssMB - first.rssMB).toFixed(1)) : null,
      tensorGrowth: first ? last.numTensors - first.numTensors : null,
    }) + '\n',
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`leakCheck: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
