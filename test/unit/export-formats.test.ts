import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import type { QuantConfig } from '../../shared/experimentConfig';
import { buildModel } from '../../server/models';
import { loadModel, resolveModelJsonPath } from '../../server/models/loadModel';
import { ModelFileError } from '../../server/core/modelFileError';
import { saveModel } from '../../server/core/modelIO';
import { kernelCodes } from '../../server/core/quantizer';
import { codeBits, decodeCodes, latentFromCodes, packModel, packTernary } from '../../server/formats/packedModel';
import { decodeTern, encodeTern, minimumBytes, packCodes, TernFormatError, unpackCodes } from '../../server/formats/tern/ternFile';
import { customClassesIn } from '../../server/formats/tfjs/stockTfjs';
import { compareLogits, exportModelFiles, ParityError, assertParity } from '../../server/export/exportModel';
import { exportModelTarget } from '../../server/export';
import { ExportGraphError, exportOnnx } from '../../server/formats/onnx/export/toOnnx';
import { decodeModel, tensorToFloat32 } from '../../server/formats/onnx/proto';

const REPO = resolve(__dirname, '..', '..');
const quant = (tex: 1 | 2 | 4): QuantConfig => ({ method: 'he2019', thresholdFactor: 0.05, threshold: 'fixed', tex, firstLast: 'float' });
const tmp = () => mkdtempSync(join(tmpdir(), 'tern-export-'));

test('setup: cpu backend', async () => {
  await tf.setBackend('cpu');
});

test('codes and levels by hand: t_ex 1 and nested REL levels, as the quantizer computes them', () => {
  const pack = (w: Float32Array, tex: 1 | 2, ternary?: number[]): ReturnType<typeof packTernary> => {
    const quant = { method: 'he2019', thresholdFactor: 0.05, threshold: 'fixed', tex } as const;
    const latent = tf.tensor(w);
    const kernel = kernelCodes(latent, quant);
    latent.dispose();
    return packTernary('k', [5], w, ternary ? { ...kernel, ternary: Float32Array.from(ternary) } : kernel, quant);
  };
  // t_ex 1, f = 0.05: max|W| = 1 → Δ = 0.05; large: 1, −0.5, 0.25 → α = (1 + 0.5 + 0.25)/3.
  const w = Float32Array.from([1, -0.5, 0.01, 0.25, -0.04]);
  const alpha = Math.fround(1.75 / 3);
  const t1 = pack(w, 1);
  assert.deepEqual(Array.from(t1.codes), [1, -1, 0, 1, 0]);
  assert.deepEqual(Array.from(t1.levels), [alpha]);
  // t_ex 2: Δ1 = 0.05, Δ2 = 0.1; |W| = 1, 0.5, 0.07, 0.2, 0.01 → levels 2, 2, 1, 2, 0.
  const w2 = Float32Array.from([1, -0.5, 0.07, 0.2, 0.01]);
  const a1 = Math.fround((1 + 0.5 + 0.07 + 0.2) / 4);
  const a2 = Math.fround((1 + 0.5 + 0.2) / 3);
  const A2 = Math.fround(a1 + a2);
  const t2 = pack(w2, 2);
  assert.deepEqual(Array.from(t2.codes), [2, -2, 1, 2, 0]);
  assert.deepEqual(Array.from(t2.levels), [a1, A2]);
  assert.deepEqual(Array.from(decodeCodes(t2.codes, t2.levels)), [A2, -A2, a1, A2, 0]);
  // Weights that are not the nested levels of their codes (here a weight below Δ1 that is not 0) are refused, not exported wrongly.
  assert.throws(() => pack(w2, 2, [A2, -A2, a1, A2, a2]), /not the nested levels/);
  assert.deepEqual([1, 2, 4].map(codeBits), [2, 3, 4]);
});

test("code packing: b bits two's complement, least-significant first; round trip for 2, 3, 4 bits", () => {
  assert.deepEqual(Array.from(packCodes(Int8Array.from([-1, 0, 1, -1]), 2)), [0b11_01_00_11]);
  // 3 bits: 2 → 010, −2 → 110, 1 → 001: bits 010 | 110<<3 | 001<<6 = 0b01_110_010, then the high bit of the third in byte 1.
  assert.deepEqual(Array.from(packCodes(Int8Array.from([2, -2, 1]), 3)), [0b01_110_010, 0]);
  for (const [bits, t] of [
    [2, 1],
    [3, 2],
    [4, 4],
  ]) {
    const codes = Int8Array.from({ length: 1001 }, (_, i) => ((i * 7919) % (2 * t + 1)) - t);
    assert.deepEqual(unpackCodes(packCodes(codes, bits), bits, codes.length), codes);
    assert.equal(packCodes(codes, bits).length, Math.ceil((codes.length * bits) / 8));
  }
});

/**
 * A zoo model with trained-looking BatchNorm: random moving statistics, γ and β instead of the
 * defaults (0, 1, 1, 0), so BN's arithmetic is exercised; QAT steps would cost minutes on the
 * plain cpu backend for ResNet-20 and add nothing the exporter reads.
 */
async function trained(arch: string, tex: 1 | 2 | 4, seed = 3): Promise<tfl.LayersModel> {
  const model = buildModel({ arch, classes: 10, quant: quant(tex), seed });
  let s = seed;
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const n = layer.getWeights()[0].shape[0];
    const values = layer.weights.map((w) => {
      const kind = w.originalName.slice(w.originalName.lastIndexOf('/') + 1);
      const u = tf.randomUniform([n], 0, 1, 'float32', s++);
      const v = kind === 'moving_variance' || kind === 'gamma' ? tf.add(u, 0.5) : tf.mul(tf.sub(u, 0.5), 0.2);
      u.dispose();
      return v;
    });
    layer.setWeights(values);
    tf.dispose(values);
  }
  return model;
}

for (const arch of ['fmnist-cnn', 'lenet5', 'resnet20']) {
  test(`${arch}: model.onnx in ONNX Runtime, stock tfjs and model.tern agree with our inference at t_ex 1, 2, 4 (≤ 1e-5 relative); .tern within 4 KiB + 1 % of the minimum`, async () => {
    for (const tex of [1, 2, 4] as const) {
      const model = await trained(arch, tex);
      const dir = tmp();
      const summary = await exportModelFiles(model, dir, { randomSamples: 8 });
      assert.equal(summary.parity?.results.length, 3);
      for (const r of summary.parity!.results) {
        assert.ok(r.maxRelDiff <= 1e-5, `${arch} t_ex ${tex} ${r.file}: relative ${r.maxRelDiff}`);
        assert.equal(r.top1Agreement, 1, `${arch} t_ex ${tex} ${r.file}: top-1`);
      }
      const packed = packModel(model);
      // The arithmetic minimum by hand: code bits of the ternary kernels + 4 bytes per float value and per level.
      let bits = 0;
      for (const w of packed.weights) bits += w.kind === 'float' ? 32 * w.values.length : w.codes.length * codeBits(tex) + 32 * tex;
      assert.equal(summary.tern.minimumBytes, Math.ceil(bits / 8));
      assert.equal(summary.tern.minimumBytes, minimumBytes(packed));
      assert.ok(
        summary.tern.bytes <= summary.tern.minimumBytes * 1.01 + 4096,
        `${arch} t_ex ${tex}: ${summary.tern.bytes} > minimum ${summary.tern.minimumBytes} + 4 KiB + 1 %`,
      );
      assert.equal(summary.tern.bytes, readFileSync(join(dir, 'model.tern')).length);
      // The ONNX codes are the smallest integer type ONNX Runtime runs: INT2 for ternary, INT4 for REL.
      assert.deepEqual(summary.onnx.codeTypes, [tex === 1 ? 'INT2' : 'INT4']);
      assert.equal(summary.onnx.opset, tex === 1 ? 25 : 21);
      model.dispose();
    }
  });
}

test('model.onnx holds the codes and α of each ternary layer (read back with the ONNX schema)', async () => {
  const model = await trained('fmnist-cnn', 1);
  const packed = packModel(model);
  const onnx = decodeModel(exportOnnx(model, packed).bytes);
  const init = new Map((onnx.graph?.initializer ?? []).map((t) => [t.name, t]));
  const conv2 = packed.weights.find((w) => w.name === 'conv2/kernel');
  assert.ok(conv2 && conv2.kind === 'ternary');
  const codes = tensorToFloat32(init.get('conv2_codes')!);
  const [kh, kw, cin, cout] = conv2.shape;
  // ONNX [out, in, kh, kw] element (o, i, y, x) is tfjs [y, x, i, o].
  for (const [o, i, y, x] of [
    [0, 0, 0, 0],
    [5, 17, 1, 2],
    [cout - 1, cin - 1, kh - 1, kw - 1],
  ]) {
    assert.equal(codes[((o * cin + i) * kh + y) * kw + x], conv2.codes[((y * kw + x) * cin + i) * cout + o]);
  }
  // Gather table [0, α, −α]: code c ≥ 0 picks entry c, c = −1 the last one.
  assert.deepEqual(Array.from(tensorToFloat32(init.get('conv2_levels')!)), [0, conv2.levels[0], -conv2.levels[0]]);
  // Cast → Gather, which ONNX Runtime constant-folds, not DequantizeLinear, which it runs every time.
  assert.ok((onnx.graph?.node ?? []).some((n) => n.opType === 'Gather'));
  assert.ok(!(onnx.graph?.node ?? []).some((n) => n.opType === 'DequantizeLinear'));
  assert.ok((onnx.graph?.node ?? []).some((n) => n.opType === 'BatchNormalization'));
  model.dispose();
});

test('the stock tfjs model loads in a fresh tfjs that has none of our classes, and predicts what ours does', async () => {
  const model = await trained('resnet20', 1);
  const dir = tmp();
  await exportModelFiles(model, dir, { parity: false });
  const modelJson = JSON.parse(readFileSync(join(dir, 'tfjs', 'model.json'), 'utf8'));
  assert.deepEqual(customClassesIn(modelJson), []);
  const x = tf.randomNormal([3, 32, 32, 3], 0, 1, 'float32', 11);
  writeFileSync(join(dir, 'x.json'), JSON.stringify(Array.from(x.dataSync())));
  const ours = (model.predict(x) as tf.Tensor).dataSync() as Float32Array;
  // Only tfjs packages: no import of this project's layers.
  const script = `
    const tf = require('@tensorflow/tfjs-core'); require('@tensorflow/tfjs-backend-cpu');
    const tfl = require('@tensorflow/tfjs-layers'); const fs = require('fs'); const path = require('path');
    (async () => {
      await tf.setBackend('cpu');
      const dir = process.argv[1];
      const json = JSON.parse(fs.readFileSync(path.join(dir, 'tfjs', 'model.json'), 'utf8'));
      const w = fs.readFileSync(path.join(dir, 'tfjs', 'weights.bin'));
      const m = await tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights,
        weightData: w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength) }));
      const x = tf.tensor(JSON.parse(fs.readFileSync(path.join(dir, 'x.json'), 'utf8')), [3, 32, 32, 3]);
      process.stdout.write(JSON.stringify(Array.from(m.predict(x).dataSync())));
    })().catch((e) => { console.error(e.message); process.exit(1); });`;
  const out = execFileSync(process.execPath, ['-e', script, dir], { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const stock = Float32Array.from(JSON.parse(out) as number[]);
  const c = compareLogits(ours, stock, 3);
  assert.ok(c.maxRelDiff <= 1e-5, `relative ${c.maxRelDiff}`);
  model.dispose();
});

test('model.tern loads wherever a model is taken (loadModel, a folder holding it) and re-packs to the same codes', async () => {
  const model = await trained('lenet5', 4);
  const dir = tmp();
  await exportModelFiles(model, dir, { parity: false });
  assert.equal(await resolveModelJsonPath(dir), join(dir, 'model.tern'));
  const back = await loadModel(join(dir, 'model.tern'));
  assert.deepEqual(
    back.layers.map((l) => l.getClassName()),
    model.layers.map((l) => l.getClassName()),
  );
  const a = packModel(model);
  const b = packModel(back);
  a.weights.forEach((w, i) => {
    const v = b.weights[i];
    if (w.kind === 'ternary' && v.kind === 'ternary') {
      assert.deepEqual(v.codes, w.codes, w.name);
      for (let k = 0; k < w.levels.length; k++)
        assert.ok(Math.abs(v.levels[k] - w.levels[k]) <= 1e-6 * w.levels[k], `${w.name} level ${k}`);
    }
  });
  back.dispose();
  model.dispose();
});

test('rebuilt latent weights give the stored α even when the backend sums in float32 (as wasm does)', async () => {
  const model = await trained('fmnist-cnn', 1);
  // fc1 (401 408 weights) at t_ex 1, conv2 (18 432) with REL; larger REL layers fall back to level means.
  for (const [tex, name] of [
    [1, 'fc1/kernel'],
    [2, 'conv2/kernel'],
    [4, 'conv2/kernel'],
  ] as const) {
    const source = tex === 1 ? model : buildModel({ arch: 'fmnist-cnn', classes: 10, quant: quant(tex), seed: 5 });
    const w = packModel(source).weights.find((x) => x.name === name);
    if (source !== model) source.dispose();
    assert.ok(w && w.kind === 'ternary');
    const latent = latentFromCodes(w);
    let max = 0;
    for (const v of latent) max = Math.max(max, Math.abs(v));
    const deltas = [0.05, 0.1, 0.15, 0.2].slice(0, tex).map((f) => Math.fround(Math.fround(f) * max));
    for (let k = 0; k < tex; k++) {
      // α_k the way a float32 backend computes it: a running float32 sum over the weights.
      let sum = 0;
      let count = 0;
      for (const v of latent)
        if (Math.abs(v) >= deltas[k]) {
          sum = Math.fround(sum + Math.abs(v));
          count++;
        }
      const alpha = Math.fround(sum / count);
      const stored = w.levels[k] - (k ? w.levels[k - 1] : 0);
      assert.ok(Math.abs(alpha - stored) <= 5e-7 * stored, `t_ex ${tex} α_${k + 1}: ${alpha} vs ${stored}`);
    }
  }
  model.dispose();
});

test('bad inputs get clear errors: truncated or foreign .tern, unsupported layers, failed parity', async () => {
  const model = await trained('fmnist-cnn', 2);
  const bytes = encodeTern(packModel(model));
  assert.throws(
    () => decodeTern(bytes.subarray(0, bytes.length - 10), 'cut.tern'),
    (e: Error) => e instanceof TernFormatError && /cut\.tern.*truncated/.test(e.message),
  );
  assert.throws(
    () => decodeTern(new TextEncoder().encode('{"modelTopology": {}}'), 'x.tern'),
    (e: Error) => e instanceof TernFormatError && /does not start with "TERN"/.test(e.message),
  );
  const future = Uint8Array.from(bytes);
  future[4] = 9;
  assert.throws(() => decodeTern(future, 'new.tern'), /version 9/);
  const dir = tmp();
  writeFileSync(join(dir, 'model.tern'), bytes.subarray(0, 100));
  await assert.rejects(
    loadModel(join(dir, 'model.tern')),
    (e: Error) => e instanceof ModelFileError && e.message.includes(join(dir, 'model.tern')),
  );
  // A layer with no ONNX form: named, with its class and the supported list.
  const inp = tfl.input({ shape: [8, 8, 2] });
  const up = tfl.layers.upSampling2d({ name: 'up', size: [2, 2] }).apply(inp) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({ units: 3 }).apply(tfl.layers.flatten().apply(up)) as tfl.SymbolicTensor;
  const odd = tfl.model({ inputs: inp, outputs: out });
  assert.throws(
    () => exportOnnx(odd, packModel(odd)),
    (e: Error) => e instanceof ExportGraphError && /'up' \(UpSampling2D\).*Supported layers: .*Conv2D/.test(e.message),
  );
  // Parity above the tolerance is an error, not a warning.
  const summary = await exportModelFiles(model, tmp(), { randomSamples: 4 });
  summary.parity!.results[0] = { ...summary.parity!.results[0], maxRelDiff: 2e-4, ok: false };
  assert.throws(
    () => assertParity(summary),
    (e: Error) => e instanceof ParityError && /model\.onnx.*relative 0\.000200 > 0\.0001/.test(e.message),
  );
  model.dispose();
});

test('exportModelTarget exports a model.json (no run) with report.md; --no-parity skips ONNX Runtime', async () => {
  const model = await trained('fmnist-cnn', 1);
  const src = tmp();
  await saveModel(model, src);
  const out = tmp();
  const result = await exportModelTarget(join(src, 'model.json'), out, { parity: true });
  assert.deepEqual(result.files, ['model.onnx', 'model.tern', 'tfjs/model.json', 'tfjs/weights.bin', 'report.md']);
  const report = readFileSync(join(out, 'report.md'), 'utf8');
  assert.match(report, /\| model\.onnx \| ONNX Runtime \| .* \| ok \|/);
  assert.match(report, /arithmetic minimum/);
  const skipped = await exportModelTarget(join(src, 'model.json'), tmp(), { parity: false });
  assert.equal(skipped.model?.parity, undefined);
  assert.match(skipped.model?.paritySkipped ?? '', /no-parity/);
  model.dispose();
});
