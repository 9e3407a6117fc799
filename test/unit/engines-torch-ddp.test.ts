/**
 * DDP equivalence of the torch engine: 2 processes (gloo, CPU) with batch B/2 each give the same
 * losses as 1 process with batch B, over 20 steps from the same initial weights (ternary LeNet-5
 * built by our zoo, saved as model.json) and the same global batches (engines/torch/tests/check_ddp.py).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { saveModel } from '../../server/core/modelIO';
import { buildModel } from '../../server/models';
import { runTorchCheck, torchPython } from '../shared/torchPython';
import { torchLayerQuant } from '../../server/engines/torch/layersRecord';

test('DDP: 2 processes × batch 8 = 1 process × batch 16 over 20 steps (≤ 1e-4 relative)', async (t) => {
  const found = await torchPython();
  if (!found.python) return t.skip(found.skip);
  await tf.setBackend('cpu');
  const dir = mkdtempSync(join(tmpdir(), 'tern-torch-ddp-'));
  try {
    const model = buildModel({
      arch: 'lenet5',
      classes: 10,
      quant: { method: 'he2019', thresholdFactor: 0.05, threshold: 'fixed', tex: 1, firstLast: 'ternary' },
      seed: 3,
    });
    await saveModel(model, dir);
    const quant = JSON.stringify(torchLayerQuant(model));
    model.dispose();
    const result = runTorchCheck<{ single: number[]; ddp: number[]; maxRelative: number }>(found.python.path, 'check_ddp', [
      join(dir, 'model.json'),
      quant,
      '20',
      '16',
    ]);
    t.diagnostic(
      `max relative loss difference ${result.maxRelative.toExponential(2)}; losses ${result.single[0]!.toFixed(4)} → ${result.single[19]!.toFixed(4)}`,
    );
    assert.equal(result.single.length, 20);
    assert.equal(result.ddp.length, 20);
    assert.ok(result.single[19]! < result.single[0]!, 'the model learns (loss goes down)');
    assert.ok(result.maxRelative <= 1e-4, `losses differ by ${result.maxRelative} relative`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
