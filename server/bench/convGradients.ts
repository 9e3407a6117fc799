/**
 * Micro-benchmark of the three convolutions of a training step on one thread: forward, gradient
 * w.r.t. the input, gradient w.r.t. the filter; wasm with and without the project's kernels, and
 * the cpu backend for reference. Prints one JSON object per measurement.
 *
 *   node --import tsx server/bench/convGradients.ts [--batch 128] [--size 32] [--channels 16] [--kernel 3] [--reps 3] [--with-cpu]
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { startWasmBackend } from '../backends/wasm/setupWasm';
import { registerWasmKernels, unregisterWasmKernels } from '../backends/wasm/kernels';

function numberArg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const batch = numberArg('batch', 128);
const size = numberArg('size', 32);
const channels = numberArg('channels', 16);
const kernel = numberArg('kernel', 3);
const reps = numberArg('reps', 3);
const flops = 2 * batch * size * size * channels * channels * kernel * kernel;

type Op = 'forward' | 'backpropInput' | 'backpropFilter';

/**
 * Median wall time and median CPU time (process user + system) of `reps` runs, after one warm-up,
 * of one conv op on the current backend. Both kernels run on one thread, so on a machine shared
 * with other work the CPU time is the load-independent figure.
 */
async function timeOp(op: Op): Promise<{ ms: number; cpuMs: number }> {
  const x = tf.randomNormal([batch, size, size, channels], 0, 1, 'float32', 1) as tf.Tensor4D;
  const w = tf.randomNormal([kernel, kernel, channels, channels], 0, 0.1, 'float32', 2) as tf.Tensor4D;
  const dy = tf.randomNormal([batch, size, size, channels], 0, 1, 'float32', 3) as tf.Tensor4D;
  const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC' };
  const run = (): tf.Tensor => {
    switch (op) {
      case 'forward':
        return tf.conv2d(x, w, 1, 'same');
      case 'backpropInput':
        return tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, { ...attrs, inputShape: x.shape }) as tf.Tensor;
      case 'backpropFilter':
        return tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: w.shape }) as tf.Tensor;
    }
  };
  const times: number[] = [];
  const cpuTimes: number[] = [];
  for (let i = 0; i <= reps; i++) {
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    const out = run();
    await out.data();
    const cpu = process.cpuUsage(cpuStart);
    out.dispose();
    if (i > 0) {
      times.push(performance.now() - start);
      cpuTimes.push((cpu.user + cpu.system) / 1000);
    }
  }
  tf.dispose([x, w, dy]);
  const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
  return { ms: median(times), cpuMs: median(cpuTimes) };
}

function report(backend: string, kernels: string, op: Op, time: { ms: number; cpuMs: number } | null, note?: string): void {
  const gflops = (ms: number): number => Number((flops / ms / 1e6).toFixed(2));
  const figures =
    time === null
      ? { ms: null, gflops: null }
      : {
          ms: Number(time.ms.toFixed(1)),
          gflops: gflops(time.ms),
          cpuMs: Number(time.cpuMs.toFixed(1)),
          gflopsPerCpuSecond: gflops(time.cpuMs),
        };
  process.stdout.write(
    JSON.stringify({
      backend,
      kernels,
      op,
      shape: [batch, size, size, channels],
      kernel,
      threads: 1,
      ...figures,
      ...(note ? { note } : {}),
    }) + '\n',
  );
}

async function main(): Promise<void> {
  await startWasmBackend();
  unregisterWasmKernels();
  report('wasm', 'tfjs', 'forward', await timeOp('forward'));
  report('wasm', 'tfjs', 'backpropInput', await timeOp('backpropInput'));
  report('wasm', 'tfjs', 'backpropFilter', null, 'tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter kernel');
  registerWasmKernels();
  report('wasm', 'ternary-studio', 'backpropInput', await timeOp('backpropInput'));
  report('wasm', 'ternary-studio', 'backpropFilter', await timeOp('backpropFilter'));
  if (process.argv.includes('--with-cpu')) {
    // Slow (minutes at batch 128); the reference point for "how much does wasm buy us".
    await tf.setBackend('cpu');
    for (const op of ['forward', 'backpropInput', 'backpropFilter'] as const) report('cpu', 'tfjs', op, await timeOp(op));
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`convGradients: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
