/**
 * Export benchmark: for fmnist-cnn and ResNet-20 (ternary, firstLast ternary as the example config,
 * and the float twin with the same seed), the file sizes of every export format, ONNX Runtime
 * latency at batch 1 and 64 for the float and the ternary model.onnx, and the parity figures.
 * Prints one JSON object. Models are seeded random inits with randomized BatchNorm statistics:
 * sizes and latency do not depend on training; parity runs on 256 seeded random inputs.
 *
 *   node --import tsx scripts/bench-export.ts [--runs 30] [--threads N] [--tex 1]
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { randomizeBatchNorm } from './randomBatchNorm';
import { buildModel } from '../server/models';
import { exportModelFiles } from '../server/export/exportModel';
import { packModel } from '../server/formats/packedModel';
import { exportOnnx } from '../server/formats/onnx/export/toOnnx';
import { openSession } from '../server/formats/onnx/runtime';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '30' }, threads: { type: 'string' }, tex: { type: 'string', default: '1' } },
});
const runs = Number(values.runs);
const threads = values.threads ? Number(values.threads) : undefined;
const tex = Number(values.tex) as 1 | 2 | 4;

/** Median and 10th/90th percentile of `runs` timed ONNX Runtime runs (after 3 warm-up runs), in ms. */
async function latency(
  bytes: Uint8Array,
  inputShape: number[],
  batch: number,
): Promise<{ medianMs: number; p10Ms: number; p90Ms: number }> {
  const session = await openSession(bytes, { threads });
  const shape = [batch, ...inputShape];
  const x = new Float32Array(shape.reduce((a, b) => a * b, 1)).map((_, i) => Math.sin(i));
  const times: number[] = [];
  for (let i = 0; i < runs + 3; i++) {
    const t0 = process.hrtime.bigint();
    await session.run(x, shape);
    if (i >= 3) times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  await session.release();
  times.sort((a, b) => a - b);
  const at = (q: number) => Number(times[Math.min(times.length - 1, Math.floor(q * times.length))].toFixed(3));
  return { medianMs: at(0.5), p10Ms: at(0.1), p90Ms: at(0.9) };
}

async function main(): Promise<void> {
  await tf.setBackend('cpu');
  const results: Record<string, unknown> = {};
  for (const arch of ['fmnist-cnn', 'resnet20']) {
    const ternary = buildModel({
      arch,
      classes: 10,
      quant: { method: 'he2019', thresholdFactor: 0.05, threshold: 'fixed', tex, firstLast: 'ternary' },
      seed: 7,
    });
    const float = buildModel({ arch, classes: 10, quant: { method: 'none' }, seed: 7 });
    randomizeBatchNorm(ternary, 1);
    randomizeBatchNorm(float, 1);
    const inputShape = ternary.inputs[0].shape.slice(1) as number[];
    const dir = mkdtempSync(join(tmpdir(), 'tern-bench-export-'));
    const summary = await exportModelFiles(ternary, dir, { randomSamples: 256 });
    const floatOnnx = exportOnnx(float, packModel(float)).bytes;
    const ternaryOnnx = readFileSync(join(dir, 'model.onnx'));
    const size = (p: string) => statSync(join(dir, p)).size;
    const fp32Params = float.countParams();
    results[arch] = {
      params: fp32Params,
      sizes: {
        floatWeightsFp32: fp32Params * 4,
        floatOnnx: floatOnnx.byteLength,
        ternaryOnnx: ternaryOnnx.byteLength,
        onnxCodes: summary.onnx.codeTypes,
        modelTern: size('model.tern'),
        modelTernMinimum: summary.tern.minimumBytes,
        modelTernOverhead: summary.tern.overheadBytes,
        stockTfjsModelJson: size('tfjs/model.json'),
        stockTfjsWeights: size('tfjs/weights.bin'),
      },
      ortLatency: {
        float: { batch1: await latency(floatOnnx, inputShape, 1), batch64: await latency(floatOnnx, inputShape, 64) },
        ternary: { batch1: await latency(ternaryOnnx, inputShape, 1), batch64: await latency(ternaryOnnx, inputShape, 64) },
      },
      parity: summary.parity,
    };
    ternary.dispose();
    float.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
  const cpuInfo = readFileSync('/proc/cpuinfo', 'utf8');
  const flags = /^flags\s*:\s*(.*)$/m.exec(cpuInfo)?.[1].split(' ') ?? [];
  process.stdout.write(
    JSON.stringify(
      {
        date: new Date().toISOString(),
        cpu: cpus()[0]?.model,
        cpuCount: cpus().length,
        simdFlags: flags.filter((f) => /^(avx|avx2|avx512f|avx512_vnni|avx_vnni|fma|sse4_2|amx\w*)$/.test(f)),
        ortThreads: threads ?? 'default',
        tex,
        runs,
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
