import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { UsageError } from '../../server/cli/command';
import { command as statsCommand, run as runStats, type CommandIO } from '../../server/cli/commands/stats';
import { command as ternarizeCommand, run as runTernarize } from '../../server/cli/commands/ternarize';
import { buildModel } from '../../server/models';
import { saveModel } from '../../server/core/modelIO';
import { loadModel } from '../../server/models/loadModel';
import { ternarizeBranchesReference } from '../../server/core/quantizerReference';
import type { LayerStats, ModelSummary } from '../../server/stats';

type Run = (argv: string[], io: CommandIO) => Promise<number>;

/** Runs a command in-process with buffers for stdout and stderr (the test runner owns the real ones). */
async function runCli(run: Run, argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const sink = (append: (s: string) => void): NodeJS.WritableStream =>
    ({
      write: (chunk: string | Uint8Array) => {
        append(String(chunk));
        return true;
      },
    }) as unknown as NodeJS.WritableStream;
  const code = await run(argv, {
    out: sink((s) => {
      out += s;
    }),
    err: sink((s) => {
      err += s;
    }),
  });
  return { code, out, err };
}

function parseJsonLines(out: string): { layers: LayerStats[]; summary: ModelSummary } {
  const lines = out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const last = lines.pop();
  assert.ok(last.summary, 'last line is {"summary": …}');
  return { layers: lines, summary: last.summary };
}

const dir = mkdtempSync(join(tmpdir(), 'tern-cli-'));
const floatDir = join(dir, 'float');

test('fixture: a float fmnist-cnn saved with modelIO', async () => {
  await tf.setBackend('cpu');
  const model = buildModel({ arch: 'fmnist-cnn', classes: 10, quant: { method: 'none' }, seed: 11 });
  await saveModel(model, floatDir);
});

test('tern stats --json on the float model: float rows with the required keys, then the summary', async () => {
  const { code, out } = await runCli(runStats, [join(floatDir, 'model.json'), '--json']);
  assert.equal(code, 0);
  const { layers, summary } = parseJsonLines(out);
  assert.deepEqual(
    layers.map((l) => [l.layer, l.type, l.ternary]),
    [
      ['conv1', 'Conv2D', false],
      ['conv2', 'Conv2D', false],
      ['fc1', 'Dense', false],
      ['fc2', 'Dense', false],
    ],
  );
  for (const l of layers) {
    for (const key of ['layer', 'type', 'shape', 'params', 'delta', 'alpha', 'sparsity', 'counts'])
      assert.ok(key in l, `${l.layer} has ${key}`);
  }
  assert.deepEqual(layers[3].shape, [128, 10]);
  assert.equal(layers[3].params, 1290);
  assert.equal(summary.params, 422314);
  assert.equal(summary.ternaryLayers, 0);
  assert.equal(summary.compression, 1);
});

test('tern ternarize writes the twin; tern stats --json on it matches the JS reference on the float kernels', async () => {
  const outDir = join(dir, 'tern');
  const t = await runCli(runTernarize, [floatDir, '--out', outDir, '--tex', '2', '--first-last', 'float', '--json']);
  assert.equal(t.code, 0, t.err);
  assert.ok(existsSync(join(outDir, 'model.json')) && existsSync(join(outDir, 'weights.bin')));
  const { code, out } = await runCli(runStats, [outDir, '--json']);
  assert.equal(code, 0);
  assert.equal(out, t.out, 'ternarize prints the same stats as stats');
  const { layers, summary } = parseJsonLines(out);
  assert.deepEqual(
    layers.map((l) => [l.type, l.bits]),
    [
      ['Conv2D', 32],
      ['TernaryConv2D', 3],
      ['TernaryDense', 3],
      ['Dense', 32],
    ],
  );
  // Latent weights are the float weights, so the reference applied to the float kernels gives the figures.
  const float = await loadModel(floatDir);
  for (const l of layers.filter((x) => x.ternary)) {
    const kernel = float.getLayer(l.layer).getWeights()[0].dataSync();
    const ref = ternarizeBranchesReference(kernel, { method: 'he2019', thresholdFactor: 0.05, tex: 2 });
    assert.equal(l.branches.length, 2);
    l.branches.forEach((b, k) => {
      assert.equal(b.factor, [0.05, 0.1][k]);
      assert.equal(b.delta, ref[k].delta);
      assert.equal(b.alpha, ref[k].alpha);
      assert.deepEqual(b.counts, ref[k].counts);
      assert.equal(b.sparsity, ref[k].counts.zero / kernel.length);
    });
    assert.deepEqual(l.counts, ref[0].counts);
  }
  // t_ex 2, fixed thresholds: nested codes c ∈ [−2, 2] in 3 bits, + 2 levels of 4 bytes per kernel (model.tern's minimum).
  const ternaryBytes = (18432 * 3) / 8 + 8 + (401408 * 3) / 8 + 8 + (422314 - 18432 - 401408) * 4;
  assert.equal(summary.ternaryBytes, ternaryBytes);
  assert.equal(summary.compression, (422314 * 4) / ternaryBytes);
});

test('text output: the table with Δ/α columns and the size line', async () => {
  const { code, out } = await runCli(runStats, [join(dir, 'tern')]);
  assert.equal(code, 0);
  assert.match(out, /^Layer\s+Type\s+Shape/);
  assert.match(out, /conv2\s+TernaryConv2D\s+3×3×32×64\s+18,432\s+3\s/);
  assert.match(out, /└ branch 2\s+f = 0\.1\s/);
  assert.match(out, /× smaller\n$/);
});

test('errors: missing file, not a LayersModel, unknown layer → exit 1 with a message; bad options → usage error', async () => {
  const missing = await runCli(runStats, [join(dir, 'nope.json')]);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /Model file not found: .*nope\.json/);
  writeFileSync(join(dir, 'other.json'), '{"name": "not a model"}');
  const other = await runCli(runStats, [join(dir, 'other.json')]);
  assert.equal(other.code, 1);
  assert.match(other.err, /not a tfjs model\.json/);
  writeFileSync(
    join(dir, 'unknown.json'),
    JSON.stringify({
      format: 'layers-model',
      modelTopology: {
        class_name: 'Sequential',
        config: { name: 's', layers: [{ class_name: 'QuantConv', config: { name: 'q', batch_input_shape: [null, 2] } }] },
      },
      weightsManifest: [],
    }),
  );
  const unknown = await runCli(runTernarize, [join(dir, 'unknown.json'), '--out', join(dir, 'u')]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.err, /layer class 'QuantConv'/);
  await assert.rejects(
    ternarizeCommand.run([floatDir]),
    (e: unknown) => e instanceof UsageError && /--out DIR is required/.test(e.message),
  );
  await assert.rejects(
    ternarizeCommand.run([floatDir, '--out', join(dir, 'x'), '--method', 'twn', '--tex', '4']),
    /--tex must be 1 with --method "twn"/,
  );
  await assert.rejects(ternarizeCommand.run([floatDir, '--out', join(dir, 'x'), '--threshold-factor', '2']), /in \[0, 1\]/);
  await assert.rejects(statsCommand.run([]), UsageError);
});

test('cleanup', () => {
  rmSync(dir, { recursive: true, force: true });
});
