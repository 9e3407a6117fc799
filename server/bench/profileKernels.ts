/**
 * Where does a training step's time go? Wraps every kernel of the chosen backend with a timer,
 * runs a few training steps of one bench case and prints one JSON object per kernel name (self
 * time in ms per step: nested kernel calls are charged to the inner kernel; calls per step), most
 * expensive first. The first line compares the summed kernel time with the wall time of a step.
 *
 *   node --import tsx server/bench/profileKernels.ts [--backend wasm] [--model resnet20] [--batch 32] [--mode tern] [--tex 1] [--steps 3]
 */
import * as tf from '@tensorflow/tfjs-core';
import { backendOptionsFromArgs } from '../backends/options';
import { describeBackend, initBackend } from '../backends/ladder';
import { benchTrainStep, type BenchMode } from './trainStep';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
}

async function main(): Promise<void> {
  const backend = await initBackend(
    backendOptionsFromArgs(
      process.argv.slice(2).filter((a) => a.startsWith('--backend') || a.startsWith('--threads') || /^[a-z0-9-]+$/.test(a)),
      { backend: 'wasm' },
    ).options,
  );
  process.stderr.write(`${describeBackend(backend)}\n`);
  const steps = Number(arg('steps', '3'));
  const totals = new Map<string, { ms: number; calls: number }>();
  let counting = false;
  const childTime: number[] = [];
  const tfBackendName = tf.getBackend();
  for (const config of tf.getKernelsForBackend(tfBackendName)) {
    const inner = config.kernelFunc;
    tf.unregisterKernel(config.kernelName, tfBackendName);
    tf.registerKernel({
      ...config,
      kernelFunc: (args) => {
        if (!counting) return inner(args);
        // Self time: composite kernels (our conv gradients) call other kernels; their time is
        // charged to the inner kernel, not counted twice.
        childTime.push(0);
        const start = performance.now();
        const out = inner(args);
        const elapsed = performance.now() - start;
        const self = elapsed - childTime.pop()!;
        if (childTime.length) childTime[childTime.length - 1] += elapsed;
        const entry = totals.get(config.kernelName) ?? { ms: 0, calls: 0 };
        entry.ms += self;
        entry.calls++;
        totals.set(config.kernelName, entry);
        return out;
      },
    });
  }
  const c = {
    model: arg('model', 'resnet20'),
    mode: arg('mode', 'tern') as BenchMode,
    tex: Number(arg('tex', '1')) as 1 | 2 | 4,
    batch: Number(arg('batch', '32')),
  };
  // Warm-up outside the counted region, then count `steps` steps (benchTrainStep warms up once more).
  counting = false;
  await benchTrainStep(c, { classes: 10, steps: 1, warmup: 1, seed: 1 });
  counting = true;
  const result = await benchTrainStep(c, { classes: 10, steps, warmup: 0, seed: 1 });
  counting = false;
  const rows = [...totals.entries()].map(([kernel, t]) => ({ kernel, msPerStep: t.ms / steps, callsPerStep: t.calls / steps }));
  rows.sort((a, b) => b.msPerStep - a.msPerStep);
  const kernelMs = rows.reduce((a, r) => a + r.msPerStep, 0);
  process.stdout.write(
    JSON.stringify({ ...c, backend: backend.name, msPerStep: result.msMean, kernelMsPerStep: Number(kernelMs.toFixed(1)) }) + '\n',
  );
  for (const r of rows)
    process.stdout.write(
      JSON.stringify({
        kernel: r.kernel,
        msPerStep: Number(r.msPerStep.toFixed(2)),
        share: Number((r.msPerStep / kernelMs).toFixed(3)),
        callsPerStep: r.callsPerStep,
      }) + '\n',
    );
}

main().catch((err: unknown) => {
  process.stderr.write(`profileKernels: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
