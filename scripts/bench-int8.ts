/**
 * Ternary inference speed in ONNX Runtime: for fmnist-cnn, CIFAR ResNet-20 (the zoo's, t_ex 1,
 * `firstLast: ternary` as the examples) and an imported torchvision ResNet-18 at 224 px
 * (`--resnet18 FILE`: an .onnx from torch.onnx.export, e.g. of torchvision's resnet18() at random
 * init, ternarized here), the ONNX Runtime latency of the float model (the same network with
 * float32 weights), the ternary model.onnx (INT2 codes) and model-int8.onnx (8-bit activations,
 * QDQ), at batch 1 and 64 with 1 thread and with all threads, measured side by side (rounds that
 * run each model once in turn: server/export/latency.ts); file sizes; agreement of model-int8.onnx
 * with our fake-quantized inference and of model.onnx with our inference. Models are seeded random
 * inits (zoo models with randomized BatchNorm statistics); calibration and agreement use seeded
 * random inputs. Prints one JSON object.
 *
 *   nice -n 19 node --import tsx scripts/bench-int8.ts [--resnet18 resnet18.onnx] [--rounds 20] [--rounds64 3] [--only resnet20]
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { randomizeBatchNorm } from './randomBatchNorm';
import { initBackend } from '../server/backends/ladder';
import { buildModel } from '../server/models';
import { convertToTernary } from '../server/models/convert';
import { loadModel } from '../server/models/loadModel';
import { packModel } from '../server/formats/packedModel';
import { compareLogits, floatTwin } from '../server/export/exportModel';
import { calibrate, fakeQuantPredict } from '../server/export/int8Activations';
import { sideBySideLatency } from '../server/export/latency';
import { exportOnnx } from '../server/formats/onnx/export/toOnnx';
import { nchwToNhwc, openSession } from '../server/formats/onnx/runtime';

const { values } = parseArgs({
  options: {
    resnet18: { type: 'string' },
    rounds: { type: 'string', default: '20' },
    rounds64: { type: 'string', default: '3' },
    only: { type: 'string' },
  },
});
const QUANT = { method: 'he2019', thresholdFactor: 0.05, threshold: 'fixed', tex: 1, firstLast: 'ternary' } as const;

async function ternaryModel(arch: string): Promise<LayersModel> {
  if (arch === 'resnet18-224') {
    if (!values.resnet18) throw new Error('--resnet18 FILE (an .onnx of torchvision resnet18) is needed for resnet18-224');
    const float = await loadModel(values.resnet18);
    const ternary = await convertToTernary(float, QUANT);
    float.dispose();
    return ternary;
  }
  const model = buildModel({ arch, classes: 10, quant: QUANT, seed: 7 });
  randomizeBatchNorm(model, 1);
  return model;
}

function seededImages(shape: number[], n: number, seed: number): Float32Array {
  return tf.tidy(() => Float32Array.from(tf.randomNormal([n, ...shape], 0, 1, 'float32', seed).dataSync() as Float32Array));
}

async function onnxLogits(bytes: Uint8Array, x: Float32Array, shape: number[], n: number): Promise<Float32Array> {
  const session = await openSession(bytes);
  try {
    const out = await session.run(x, [n, ...shape]);
    return Float32Array.from(nchwToNhwc(out.data, out.dims).data);
  } finally {
    await session.release();
  }
}

async function bench(arch: string): Promise<Record<string, unknown>> {
  const model = await ternaryModel(arch);
  const shape = model.inputs[0].shape.slice(1) as number[];
  const packed = packModel(model);
  const small = arch === 'resnet18-224';
  const calibration = { x: seededImages(shape, small ? 8 : 64, 1), n: small ? 8 : 64, source: 'random' };
  const int8 = calibrate(model, packed, calibration);
  const files = {
    float: exportOnnx(model, floatTwin(packed)).bytes,
    ternary: exportOnnx(model, packed).bytes,
    ternaryInt8: exportOnnx(model, packed, { activations: int8.quant }).bytes,
  };
  const n = small ? 8 : 128;
  const x = seededImages(shape, n, 2);
  const xs = tf.tensor(x, [n, ...shape]);
  const ours = (model.predict(xs) as tf.Tensor).dataSync() as Float32Array;
  const fakeQuant = fakeQuantPredict(model, int8, xs).dataSync() as Float32Array;
  const agreement = {
    inputs: `${n} seeded random inputs`,
    ternaryOnnxVsOurs: compareLogits(ours, await onnxLogits(files.ternary, x, shape, n), n),
    int8OnnxVsOurFakeQuant: compareLogits(fakeQuant, await onnxLogits(files.ternaryInt8, x, shape, n), n),
    ourFakeQuantVsOurs: compareLogits(ours, fakeQuant, n),
  };
  xs.dispose();
  const dims = [shape[2], shape[0], shape[1]];
  const latency: Record<string, unknown> = {};
  for (const threads of [1, cpus().length]) {
    for (const batch of [1, 64]) {
      const targets = [
        { model: 'float', file: 'float', bytes: files.float },
        { model: 'ternary', file: 'model.onnx', bytes: files.ternary },
        { model: 'ternary int8', file: 'model-int8.onnx', bytes: files.ternaryInt8 },
      ];
      const rounds = Number(batch === 1 ? values.rounds : values.rounds64);
      const load = loadavg()[0];
      const results = await sideBySideLatency(targets, [batch, ...dims], rounds, threads);
      const float = results[0].medianMs;
      latency[`threads${threads}_batch${batch}`] = {
        rounds,
        loadAverageBefore: Number(load.toFixed(2)),
        loadAverageAfter: Number(loadavg()[0].toFixed(2)),
        results: results.map((r) => ({ ...r, speedupVsFloat: Number((float / r.medianMs).toFixed(2)) })),
      };
    }
  }
  model.dispose();
  return {
    params: model.countParams(),
    int8Layers: int8.plan.layers.length,
    quantizedTensors: int8.plan.points.length,
    bytes: { float: files.float.byteLength, ternary: files.ternary.byteLength, ternaryInt8: files.ternaryInt8.byteLength },
    agreement,
    latency,
  };
}

async function main(): Promise<void> {
  await initBackend({ backend: 'auto' });
  const archs = values.only ? values.only.split(',') : ['fmnist-cnn', 'resnet20', ...(values.resnet18 ? ['resnet18-224'] : [])];
  const results: Record<string, unknown> = {};
  for (const arch of archs) {
    process.stderr.write(`bench-int8: ${arch}\n`);
    results[arch] = await bench(arch);
  }
  const flags = /^flags\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1].split(' ') ?? [];
  const ort = JSON.parse(readFileSync(require.resolve('onnxruntime-node/package.json'), 'utf8')) as { version: string };
  process.stdout.write(
    JSON.stringify(
      {
        date: new Date().toISOString(),
        cpu: cpus()[0]?.model,
        cpuCount: cpus().length,
        simdFlags: flags.filter((f) => /^(avx|avx2|avx512f|avx512_vnni|avx_vnni|fma|amx\w*)$/.test(f)),
        onnxruntimeNode: ort.version,
        tfjsBackend: tf.getBackend(),
        results,
      },
      null,
      2,
    ) + '\n',
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
