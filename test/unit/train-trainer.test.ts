/**
 * The trainer end to end on a tiny synthetic IDX dataset (8×8 images, 4 classes: a bright
 * quadrant per class plus noise): resume equivalence bit for bit, no tensor leaks, NaN stop,
 * cancellation, and the run files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../server/backends/ladder';
import { addonLoadError } from '../../server/backends/onednn';
import { loadAddon } from '../../server/backends/onednn/addon';
import { trainWithEngine as train } from '../../server/engines/dispatch';
import { readRunHistory } from '../../server/runs';
import type { RunConfigRecord, RunSummary } from '../../shared/runRecords';
import { epochMetrics, setup, useWasm } from './trainFixture';

const summaryOf = (runDir: string) => JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as RunSummary;

/** A resumed run ends with the same final weights and optimizer state as the uninterrupted one. */
function assertSameFinalState(resumedDir: string, fullDir: string): void {
  const same = (...path: string[]) => readFileSync(join(resumedDir, ...path)).equals(readFileSync(join(fullDir, ...path)));
  assert.ok(same('model', 'weights.bin'), 'final weights differ');
  assert.ok(same('checkpoints', 'last', 'optimizer.bin'), 'optimizer state differs');
}

test('3 epochs uninterrupted = 2 epochs + resume 1, bit for bit; no tensor leak; run files', async () => {
  await useWasm();
  const { experiment, configPath, runsDir } = setup();
  const tensorsAfterEpoch: number[] = [];
  const full = await train({
    experiment,
    configPath,
    runsDir,
    backend: { name: 'wasm', threads: 1 },
    listener: {
      onMetrics: (r) => {
        if (r.kind === 'epoch') tensorsAfterEpoch.push(tf.memory().numTensors);
      },
    },
  });
  assert.equal(full.summary.status, 'completed');
  assert.equal(full.summary.epochs, 3);
  assert.equal(tensorsAfterEpoch.length, 3);
  assert.equal(
    tensorsAfterEpoch[2],
    tensorsAfterEpoch[0],
    `tensors after epoch 1: ${tensorsAfterEpoch[0]}, after epoch 3: ${tensorsAfterEpoch[2]}`,
  );

  const first = await train({ experiment, configPath, runsDir, epochs: 2, backend: { name: 'wasm', threads: 1 } });
  assert.equal(first.summary.epochs, 2);
  // A killed session may have appended lines after its last checkpoint: resume drops them.
  writeFileSync(
    join(first.runDir, 'metrics.jsonl'),
    readFileSync(join(first.runDir, 'metrics.jsonl'), 'utf8') +
      JSON.stringify({ kind: 'batch', epoch: 3, step: 9, lr: 1, loss: 9, top1: 0, time: 1 }) +
      '\n{"kind":"ba',
  );
  const resumed = await train({
    experiment,
    configPath,
    runsDir,
    resumeDir: first.runDir,
    epochs: 3,
    backend: { name: 'wasm', threads: 1 },
  });
  assert.equal(resumed.runDir, first.runDir);
  assert.equal(resumed.summary.status, 'completed');
  assert.deepEqual(epochMetrics(resumed.runDir), epochMetrics(full.runDir));
  assert.deepEqual(resumed.summary.final, full.summary.final);
  assert.deepEqual(resumed.summary.best, full.summary.best);
  assertSameFinalState(resumed.runDir, full.runDir);

  // The run files of docs/architecture.md (The run folder).
  const dir = full.runDir;
  assert.match(dir, /runs\/tiny\/\d{8}-\d{6}-[0-9a-f]{4}$/);
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as RunConfigRecord;
  assert.equal(config.backend, 'wasm');
  assert.equal(config.seed, 7);
  assert.equal(config.experiment.train.epochs, 3);
  assert.ok(config.versions.tfjsCore);
  assert.deepEqual(readdirSync(join(dir, 'histograms')).sort(), ['epoch-001.json', 'epoch-002.json', 'epoch-003.json']);
  const history = await readRunHistory(dir, { histograms: true });
  assert.deepEqual(
    history.layers.map((l) => l.epoch),
    [1, 2, 3],
  );
  assert.equal(history.layers[0]!.layers.filter((l) => l.ternary).length, 4);
  assert.ok(existsSync(join(dir, 'model', 'model.json')));
  const bestCheckpoint = JSON.parse(readFileSync(join(dir, 'checkpoints', 'best', 'checkpoint.json'), 'utf8')) as { epoch: number };
  assert.equal(bestCheckpoint.epoch, summaryOf(dir).best.epoch);
  const epochs = history.metrics.filter((m) => m.kind === 'epoch');
  assert.deepEqual(
    epochs.map((m) => m.lr),
    [0.05, 0.05, 0.05 * 0.1],
  );
  const s = summaryOf(dir);
  assert.equal(s.status, 'completed');
  assert.equal(s.final.top1, epochs[2]!.valTop1);
  assert.ok(s.compression > 10, `compression ${s.compression}`);
  assert.ok(s.final.top1 > 0.5, `the synthetic task is easy: top-1 ${s.final.top1}`);
});

test(
  'on onednn too (the backend auto picks when it is built): uninterrupted = resumed, bit for bit, and no tensor leak',
  { skip: loadAddon() ? false : `oneDNN addon not available: ${addonLoadError()}` },
  async () => {
    const backend = { name: 'onednn' as const, threads: 2 };
    await initBackend({ backend: 'onednn', threads: 2 });
    const { experiment, configPath, runsDir } = setup();
    const tensorsAfterEpoch: number[] = [];
    const full = await train({
      experiment,
      configPath,
      runsDir,
      backend,
      listener: {
        onMetrics: (r) => {
          if (r.kind === 'epoch') tensorsAfterEpoch.push(tf.memory().numTensors);
        },
      },
    });
    assert.equal(full.summary.status, 'completed');
    assert.equal(full.summary.backend, 'onednn');
    assert.equal(
      tensorsAfterEpoch[2],
      tensorsAfterEpoch[0],
      `tensors after epoch 1: ${tensorsAfterEpoch[0]}, after epoch 3: ${tensorsAfterEpoch[2]}`,
    );
    const first = await train({ experiment, configPath, runsDir, epochs: 2, backend });
    const resumed = await train({ experiment, configPath, runsDir, resumeDir: first.runDir, epochs: 3, backend });
    assert.deepEqual(epochMetrics(resumed.runDir), epochMetrics(full.runDir));
    assert.deepEqual(resumed.summary.final, full.summary.final);
    assertSameFinalState(resumed.runDir, full.runDir);
    assert.ok(full.summary.final.top1 > 0.5, `the synthetic task is easy: top-1 ${full.summary.final.top1}`);
  },
);

test('a NaN/Inf loss stops the run as failed with advice; the last good checkpoint stays', async () => {
  await useWasm();
  // The learning rate explodes at the second epoch.
  const { experiment, configPath, runsDir } = setup({ schedule: [1], gammas: [1e30], epochs: 3 });
  const before = tf.memory().numTensors;
  const result = await train({ experiment, configPath, runsDir });
  assert.equal(result.summary.status, 'failed');
  assert.match(result.summary.reason ?? '', /Training loss became (NaN|Infinity) at epoch 2/);
  assert.match(result.summary.reason ?? '', /lower learning rate/);
  assert.match(result.summary.reason ?? '', /normalization/);
  assert.equal(result.summary.epochs, 1);
  assert.equal(summaryOf(result.runDir).status, 'failed');
  const checkpoint = JSON.parse(readFileSync(join(result.runDir, 'checkpoints', 'last', 'checkpoint.json'), 'utf8')) as { epoch: number };
  assert.equal(checkpoint.epoch, 1);
  assert.equal(tf.memory().numTensors, before, 'a failed run disposes its model');
});

test('cancel stops within one batch as cancelled; the checkpoint stays', async () => {
  await useWasm();
  const { experiment, configPath, runsDir } = setup();
  const controller = new AbortController();
  let batchesAfterAbort = 0;
  const result = await train({
    experiment,
    configPath,
    runsDir,
    signal: controller.signal,
    listener: {
      onMetrics: (r) => {
        if (controller.signal.aborted) batchesAfterAbort++;
        if (r.kind === 'batch' && r.epoch === 2) controller.abort();
      },
    },
  });
  assert.equal(result.summary.status, 'cancelled');
  assert.equal(result.summary.epochs, 1);
  assert.equal(batchesAfterAbort, 0);
  assert.ok(existsSync(join(result.runDir, 'checkpoints', 'last', 'checkpoint.json')));
  assert.equal(summaryOf(result.runDir).status, 'cancelled');
});

test('a run cancelled in its first epoch says there is no checkpoint (not "the checkpoint of epoch 0")', async () => {
  await useWasm();
  const { experiment, configPath, runsDir } = setup();
  const controller = new AbortController();
  const logs: string[] = [];
  const result = await train({
    experiment,
    configPath,
    runsDir,
    signal: controller.signal,
    listener: {
      onMetrics: (r) => {
        if (r.kind === 'batch') controller.abort();
      },
      onLog: (_level, message) => logs.push(message),
    },
  });
  assert.equal(result.summary.status, 'cancelled');
  assert.equal(result.summary.epochs, 0);
  for (const text of [result.summary.reason ?? '', summaryOf(result.runDir).reason ?? '']) {
    assert.doesNotMatch(text, /checkpoint of epoch 0/);
    assert.match(text, /^Cancelled during epoch 1; no epoch had completed, so there is no checkpoint to resume from; start a new run\.$/);
  }
  assert.ok(!existsSync(join(result.runDir, 'checkpoints', 'last', 'checkpoint.json')));
});

test('two configs of one folder with the same experiment name get separate run folders and a warning', async () => {
  await useWasm();
  const { experiment, configPath, runsDir } = setup({ epochs: 1 });
  const root = join(configPath, '..');
  // Alone in its folder: runs/<experiment>/.
  const alone = await train({ experiment, configPath, runsDir });
  assert.equal(join(alone.runDir, '..'), join(runsDir, 'tiny'));
  // A copy of the config next to it: each one's runs go to runs/<experiment>@<config-stem>/.
  const copyPath = join(root, 'tiny-copy.tern.json');
  writeFileSync(copyPath, readFileSync(configPath, 'utf8'));
  for (const [path, stem] of [
    [configPath, 'tiny'],
    [copyPath, 'tiny-copy'],
  ] as const) {
    const warnings: string[] = [];
    const result = await train({
      experiment,
      configPath: path,
      runsDir,
      listener: {
        onLog: (level, m) => {
          if (level === 'warn') warnings.push(m);
        },
      },
    });
    assert.equal(join(result.runDir, '..'), join(runsDir, `tiny@${stem}`));
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(
      warnings[0]!,
      new RegExp(
        `"tiny" is also an experiment of ${stem === 'tiny' ? 'tiny-copy' : 'tiny'}\\.tern\\.json in this folder: .* go to runs/tiny@${stem}/`,
      ),
    );
  }
  // The first run stays where it was, readable.
  assert.equal(summaryOf(alone.runDir).status, 'completed');
});
