/**
 * `.tern` keeps every code of layers of any size, and a loaded `.tern` shows the Δ and α it was
 * made with: layers beyond 2^24 weights (where float32 g-units of the rebuilt latent weights run
 * out) and code streams beyond 2^31 bits (where 32-bit bit offsets overflow; tested on the packing
 * functions at those offsets, without allocating gigabytes).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { buildModel } from '../../server/models';
import { latentFromCodes, type TernaryWeight } from '../../server/formats/packedModel';
import {
  decodeTern,
  encodeTern,
  loadTernModel,
  packCodesRange,
  unpackCodesRange,
  type CodeBytes,
} from '../../server/formats/tern/ternFile';
import { exportModelFiles } from '../../server/export/exportModel';
import { ternarizeReference } from '../../server/core/quantizerReference';
import { layerStats } from '../../server/stats';

test('setup: cpu backend', async () => {
  await tf.setBackend('cpu');
});

test('code packing at bit offsets beyond 2^31 and 2^32: each code lands at bit i·b and reads back', () => {
  for (const bits of [2, 3, 4]) {
    const t = bits === 2 ? 1 : bits === 3 ? 2 : 4;
    const code = (i: number) => ((((i * 7919) % (2 * t + 1)) + 2 * t + 1) % (2 * t + 1)) - t;
    // Code indices whose bit offsets i·b straddle 2^31 and 2^32; the codes are computed, not stored.
    for (const around of [2 ** 31 / bits, 2 ** 32 / bits, 2 ** 31]) {
      const first = Math.floor(around) - 37;
      const end = first + 80;
      const codes = new Proxy({} as ArrayLike<number>, { get: (_, key) => (key === 'length' ? end : code(Number(key))) });
      const bytes: CodeBytes = {};
      packCodesRange(codes, bits, bytes, first, end);
      // The bytes written are exactly those covering bits [first·b, end·b), computed in exact integers.
      const keys = Object.keys(bytes)
        .map(Number)
        .sort((a, b) => a - b);
      const firstByte = Number((BigInt(first) * BigInt(bits)) / 8n);
      const lastByte = Number((BigInt(end) * BigInt(bits) - 1n) / 8n);
      assert.deepEqual([keys[0], keys[keys.length - 1], keys.length], [firstByte, lastByte, lastByte - firstByte + 1], `${bits} bits`);
      // Code i at bits [i·b, (i+1)·b), least significant first.
      const i = first + 5;
      const bit = BigInt(i) * BigInt(bits);
      let raw = 0;
      for (let j = 0; j < bits; j++) {
        const at = bit + BigInt(j);
        raw |= ((bytes[Number(at / 8n)] >> Number(at % 8n)) & 1) << j;
      }
      assert.equal(raw >= 1 << (bits - 1) ? raw - (1 << bits) : raw, code(i), `${bits} bits, code ${i}`);
      const back: number[] = [];
      unpackCodesRange(bytes, bits, first, end, back);
      assert.deepEqual(
        back,
        Array.from({ length: end - first }, (_, k) => code(first + k)),
      );
    }
  }
});

test('a ternary layer of more than 2^24 weights keeps every code, Δ and α through .tern', () => {
  // 4100 × 4100 = 16 810 000 > 2^24 = 16 777 216 (a 4000 × 4000 Gemm already lost codes).
  const shape = [4100, 4100];
  const n = shape[0] * shape[1];
  const codes = new Int8Array(n);
  let seed = 12345;
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    codes[i] = (seed >>> 16) % 10 < 3 ? 0 : seed & 1 ? 1 : -1;
  }
  const weight: TernaryWeight = {
    kind: 'ternary',
    name: 'big/kernel',
    shape,
    quant: { method: 'he2019', thresholdFactor: 0.05, tex: 1 },
    codes,
    levels: Float32Array.of(0.03),
    maxAbs: Math.fround(0.1),
  };
  const packed = { topology: {}, weights: [weight] };
  const decoded = decodeTern(encodeTern(packed)).packed.weights[0];
  assert.ok(decoded.kind === 'ternary');
  const latent = latentFromCodes(decoded);
  const again = ternarizeReference(latent, 'he2019', 0.05);
  let lost = 0;
  for (let i = 0; i < n; i++) if (Math.sign(again.ternary[i]) !== codes[i]) lost++;
  assert.equal(lost, 0, `${lost} of ${n} codes lost`);
  assert.equal(again.delta, Math.fround(Math.fround(0.05) * Math.fround(0.1)));
  assert.ok(Math.abs(again.alpha - 0.03) <= 1e-6 * 0.03, `α ${again.alpha}`);
});

test('a loaded model.tern shows the Δ, α and counts of the model it was exported from', async () => {
  for (const tex of [1, 2] as const) {
    const model = buildModel({
      arch: 'fmnist-cnn',
      classes: 10,
      quant: { method: 'he2019', thresholdFactor: 0.05, threshold: 'fixed', tex, firstLast: 'float' },
      seed: 7,
    });
    const dir = mkdtempSync(join(tmpdir(), 'tern-size-'));
    await exportModelFiles(model, dir, { parity: false });
    const back = await loadTernModel(join(dir, 'model.tern'));
    const [want, got] = [layerStats(model), layerStats(back)];
    assert.equal(got.length, want.length);
    want.forEach((w, i) => {
      const g = got[i];
      assert.equal(g.layer, w.layer);
      assert.equal(g.ternary, w.ternary);
      g.branches.forEach((b, k) => {
        assert.equal(b.delta, w.branches[k].delta, `t_ex ${tex} ${w.layer} Δ_${k + 1}`);
        assert.ok(Math.abs(b.alpha - w.branches[k].alpha) <= 1e-6 * w.branches[k].alpha, `t_ex ${tex} ${w.layer} α_${k + 1}`);
        assert.deepEqual(b.counts, w.branches[k].counts, `t_ex ${tex} ${w.layer} counts ${k + 1}`);
      });
    });
    back.dispose();
    model.dispose();
  }
});
