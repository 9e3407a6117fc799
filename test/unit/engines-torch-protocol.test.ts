/**
 * The engine protocol (shared/engineProtocol.ts): a malformed, unknown or foreign-version message
 * is an EngineMessageError that names the message and the field; every message type the Python side
 * builds (engines/torch/ternary_torch/events.py), with a real model's layer values, passes the
 * TypeScript check; and the layers record made of those values (server/engines/torch/layersRecord.ts)
 * and the histograms record are the ones our own statistics give for the same weights. (The Python side's own unit tests run in
 * engines-torch-package.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { saveModel } from '../../server/core/modelIO';
import { buildModel } from '../../server/models';
import { torchPackageDir } from '../../server/engines/torch/paths';
import { ENGINE_LINE_PREFIX, ENGINE_PROTOCOL_VERSION, parseEngineMessage, type EngineMessageType } from '../../shared/engineProtocol';
import { layersRecordOf, torchLayerQuant } from '../../server/engines/torch/layersRecord';
import { layerStats, modelSummary } from '../../server/stats';
import { histogramOf, weightHistograms } from '../../server/stats/histograms';
import type { LayerStats } from '../../shared/layerStats';
import { QUANT_DEFAULTS } from '../../shared/quant';
import { torchPython } from '../shared/torchPython';

const V = ENGINE_PROTOCOL_VERSION;
const batch = { kind: 'batch', epoch: 1, step: 3, progress: 0.5, lr: 0.1, loss: 2.1, top1: 0.2, top5: 0.6, imgPerSec: 100, time: 1.5 };

test('a malformed, unknown or foreign message is an error naming the message and the field', () => {
  assert.equal(parseEngineMessage(JSON.stringify({ v: V, type: 'batch', record: batch })).type, 'batch');
  assert.throws(() => parseEngineMessage(`{"v":${V},"type":"batch","record":`), /an engine message is not JSON/);
  assert.throws(
    () => parseEngineMessage(JSON.stringify({ v: V, type: 'progress' })),
    /unknown engine message 'progress'; expected one of started, batch/,
  );
  assert.throws(
    () => parseEngineMessage(JSON.stringify({ v: V + 1, type: 'batch', record: batch })),
    new RegExp(`the engine message 'batch' is of protocol version ${V + 1}, this studio speaks ${V}`),
  );
  assert.throws(
    () => parseEngineMessage(JSON.stringify({ v: V, type: 'batch', record: { ...batch, loss: 'NaN' } })),
    (err: Error) => {
      assert.equal(err.name, 'EngineMessageError');
      assert.match(err.message, /malformed engine message 'batch': batch\.record\.loss must be a finite number \(got "NaN"\)/);
      return true;
    },
  );
  assert.throws(
    () => parseEngineMessage(JSON.stringify({ v: V, type: 'ended', end: { status: 'nonFinite', epoch: 1, batch: 2, step: 3, loss: 1 } })),
    /malformed engine message 'ended': ended\.end\.loss must be one of "NaN", "Infinity", "-Infinity"/,
  );
  assert.throws(() => parseEngineMessage(JSON.stringify({ v: V, type: 'started', stepsPerEpoch: 4, restart: 0 })), /started\.resumed/);
});

test("every message Python's events.py builds passes the TypeScript check", async (t) => {
  const found = await torchPython();
  if (!found.python) return t.skip(found.skip);
  await tf.setBackend('cpu');
  const dir = mkdtempSync(join(tmpdir(), 'tern-engine-protocol-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // REL with a t_ex 1 factor of its own (the first branch must still use REL's first factor) and
  // float first/last layers (their histograms say so).
  const quant0 = { ...QUANT_DEFAULTS, tex: 2 as const, thresholdFactor: 0.3, firstLast: 'float' as const };
  const model = buildModel({ arch: 'fmnist-cnn', classes: 10, inputShape: [28, 28, 1], quant: quant0, seed: 1 });
  await saveModel(model, dir);
  const ours = layerStats(model);
  const ourHistograms = weightHistograms(model);
  const sizes = modelSummary(model, ours);
  const quant = JSON.stringify(torchLayerQuant(model));
  model.dispose();

  const script = `
import json, sys
from ternary_torch.events import *
from ternary_torch.graph import load_graph_model
from ternary_torch.job import parse_layer_quant
from ternary_torch.stats import layer_stats, weight_histograms
model, _ = load_graph_model(sys.argv[1], parse_layer_quant(json.loads(sys.argv[2])))
stats = layer_stats(model)
batch = {"kind": "batch", "epoch": 1, "step": 2, "progress": 0.5, "lr": 0.1, "loss": 2.0, "top1": 0.1, "top5": 0.5, "imgPerSec": 10.0, "time": 0.5}
epoch = {**batch, "kind": "epoch", "valLoss": 2.1, "valTop1": 0.1, "valTop5": 0.5}
del epoch["progress"]
for message in [
    Started(steps_per_epoch=4, restart=0, resumed=None),
    Started(steps_per_epoch=4, restart=1, resumed=ResumePoint(epoch=1, step=4, elapsed_seconds=2.5, epochs=[epoch])),
    Batch(batch),
    Epoch(metrics=epoch, layers={"epoch": 1, "layers": stats},
          histograms={"epoch": 1, "histograms": weight_histograms(model, 64)}),
    Checkpoint(epoch=1),
    Log(level="warn", message="a warning"),
    Ended(Completed()),
    Ended(Cancelled(epoch=2)),
    Ended(NonFinite(epoch=1, batch=3, step=3, loss=float("nan"))),
    Ended(NonFinite(epoch=1, batch=3, step=3, loss=float("-inf"))),
    Fatal(rank=0, message="unsupported layer"),
]:
    sys.stdout.write(encode(message))
`;
  const run = spawnSync(found.python.path, ['-c', script, join(dir, 'model.json'), quant], {
    encoding: 'utf8',
    env: { ...process.env, PYTHONPATH: torchPackageDir() },
  });
  assert.equal(run.status, 0, run.stderr);
  const lines = run.stdout.trim().split('\n');
  const types: EngineMessageType[] = [];
  for (const line of lines) {
    assert.ok(line.startsWith(ENGINE_LINE_PREFIX), line);
    types.push(parseEngineMessage(line.slice(ENGINE_LINE_PREFIX.length)).type);
  }
  assert.deepEqual(new Set(types), new Set(['started', 'batch', 'epoch', 'checkpoint', 'log', 'ended', 'fatal']));
  const epoch = parseEngineMessage(lines[3]!.slice(ENGINE_LINE_PREFIX.length));
  assert.ok(epoch.type === 'epoch');
  const record = layersRecordOf(1, epoch.layers.layers, ours, sizes);
  assert.deepEqual(record.summary, sizes);
  assert.equal(record.layers.length, ours.length);
  // Everything but the measured floats is equal; those within float32 rounding of our own arithmetic.
  const fixedPart = ({ delta, alpha, relError, branches, ...rest }: LayerStats) => ({
    ...rest,
    branches: branches.map(({ delta: _d, alpha: _a, ...b }) => b),
    measured: [delta, alpha, relError ?? 0, ...branches.flatMap((b) => [b.delta, b.alpha])],
  });
  for (const [i, theirs] of record.layers.entries()) {
    const mine = fixedPart(ours[i]!);
    const got = fixedPart(theirs);
    assert.deepEqual({ ...got, measured: [] }, { ...mine, measured: [] }, mine.layer);
    got.measured.forEach((v, k) =>
      assert.ok(
        Math.abs(v - mine.measured[k]!) <= 1e-6 * Math.max(1e-3, Math.abs(mine.measured[k]!)),
        `${mine.layer}: ${v} vs ${mine.measured[k]}`,
      ),
    );
  }
  // The histograms record made of what Python binned is ours: the same bins, float layers marked,
  // the first branch's Δ and α within float32 rounding.
  const histograms = epoch.histograms.histograms.map((h) => histogramOf(h.layer, h, h.first));
  assert.deepEqual(
    histograms.map((h) => [h.layer, h.ternary, h.bins, h.counts]),
    ourHistograms.map((h) => [h.layer, h.ternary, h.bins, h.counts]),
  );
  assert.deepEqual(
    histograms.map((h) => h.ternary),
    [false, true, true, false],
  );
  for (const [i, h] of histograms.entries()) {
    const mine = ourHistograms[i]!;
    for (const key of ['min', 'max', 'delta', 'alpha'] as const) {
      assert.ok(Math.abs(h[key] - mine[key]) <= 1e-6 * Math.max(1e-3, Math.abs(mine[key])), `${h.layer} ${key}: ${h[key]} vs ${mine[key]}`);
    }
  }
  assert.throws(
    () => layersRecordOf(1, epoch.layers.layers.slice(1), ours, sizes),
    new RegExp(`layers of epoch 1 lack the ternary layer '${epoch.layers.layers[0]!.layer}'`),
  );
});
