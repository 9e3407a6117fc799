/**
 * The torch engine's quantizer (engines/torch/ternary_torch/quantizer.py) equals ours: the forward
 * and latent-weight gradient of the reference PyTorch code on the shared fixture
 * (test/fixtures/core/torch_reference.json, t_ex 1, 2, 4), and Δ, α and the codes of
 * server/core/quantizer.ts on the same kernels (he2019 t_ex 1/2/4 with fixed and optimal
 * thresholds, TWN; for optimal also the summed weight Σ_k T_k), computed here and
 * handed to engines/torch/tests/check_quantizer.py. On CUDA too when PyTorch sees a GPU.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { ternarizeBranches, ternaryWeight, type LayerQuant } from '../../server/core/quantizer';
import { torchQuantOf } from '../../server/engines/torch/layersRecord';
import { runTorchCheck, torchPython } from '../shared/torchPython';

const root = join(__dirname, '..', '..');
const referencePath = join(root, 'test', 'fixtures', 'core', 'torch_reference.json');
const fixture = JSON.parse(readFileSync(referencePath, 'utf8')) as { cases: { kernel: number[] }[] };

function ourCases(): unknown[] {
  const quants: LayerQuant[] = [
    { method: 'he2019', thresholdFactor: 0.05, tex: 1 },
    { method: 'he2019', thresholdFactor: 0.3, tex: 1 },
    { method: 'he2019', thresholdFactor: 0.05, tex: 2 },
    { method: 'he2019', thresholdFactor: 0.05, tex: 4 },
    { method: 'twn', thresholdFactor: 0.05, tex: 1 },
    { method: 'he2019', thresholdFactor: 0.05, threshold: 'optimal', tex: 1 },
    { method: 'he2019', thresholdFactor: 0.05, threshold: 'optimal', tex: 2 },
    { method: 'he2019', thresholdFactor: 0.05, threshold: 'optimal', tex: 4 },
  ];
  return fixture.cases.flatMap((c) =>
    quants.map((quant) => {
      const w = tf.tensor1d(c.kernel);
      const branches = ternarizeBranches(w, quant).map((b) => {
        const alpha = b.alpha.dataSync()[0]!;
        const codes = Array.from(b.ternary.dataSync(), (v) => (alpha === 0 ? 0 : Math.round(v / alpha)));
        const out = { delta: b.delta.dataSync()[0]!, alpha, codes };
        tf.dispose([b.ternary, b.delta, b.alpha]);
        return out;
      });
      const weight = tf.tidy(() => Array.from(ternaryWeight(w, quant).dataSync()));
      w.dispose();
      return { quant: torchQuantOf(quant), kernel: c.kernel, branches, weight };
    }),
  );
}

for (const device of ['cpu', 'cuda'] as const) {
  test(`torch quantizer (${device}) = reference PyTorch (forward, dL/dW at t_ex 1, 2, 4) and = ours (Δ, α, codes)`, async (t) => {
    const found = await torchPython();
    if (!found.python) return t.skip(found.skip);
    if (device === 'cuda' && !found.python.cuda)
      return t.skip(`no CUDA device visible to PyTorch ${found.python.torch}: the CUDA path runs on a machine with a GPU`);
    await tf.setBackend('cpu');
    const dir = mkdtempSync(join(tmpdir(), 'tern-torch-quant-'));
    try {
      const oursPath = join(dir, 'ours.json');
      // The reference PyTorch code's settings (he2019, f = 0.05) for each t_ex of the fixture.
      const referenceQuant = Object.fromEntries(
        ([1, 2, 4] as const).map((tex) => [tex, torchQuantOf({ method: 'he2019', thresholdFactor: 0.05, tex })]),
      );
      writeFileSync(oursPath, JSON.stringify({ cases: ourCases(), referenceQuant }));
      const result = runTorchCheck<{
        ok: boolean;
        output: number;
        gradient: number;
        delta: number;
        alpha: number;
        codeMismatches: number;
        optimalWeight: number;
      }>(found.python.path, 'check_quantizer', [referencePath, oursPath, device]);
      t.diagnostic(JSON.stringify(result));
      assert.ok(result.output <= 1e-5, `output differs by ${result.output}`);
      assert.ok(result.gradient <= 1e-4, `gradient differs by ${result.gradient}`);
      assert.ok(result.delta <= 1e-6, `Δ differs (relative ${result.delta})`);
      assert.ok(result.alpha <= 1e-6, `α differs (relative ${result.alpha})`);
      assert.equal(result.codeMismatches, 0);
      assert.ok(result.optimalWeight <= 1e-6, `optimal Σ_k T_k differs by ${result.optimalWeight}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
