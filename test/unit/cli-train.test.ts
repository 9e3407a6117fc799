/** `tern train`, `tern eval` and `tern export` as a user runs them: exit codes, messages, JSON lines. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTwoClassIdx } from '../shared/idx';
import { tern } from '../shared/ternCli';

function workspace(): { dir: string; config: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tern-cli-'));
  mkdirSync(join(dir, 'data'));
  writeTwoClassIdx(join(dir, 'data'));
  const experiment = (name: string) => ({
    name,
    model: { arch: 'fmnist-cnn', classes: 2 },
    data: { format: 'idx', path: 'data' },
    train: { epochs: 1, batchSize: 16, optimizer: 'adam', lr: 0.01, weightDecay: 0, schedule: [], gammas: [], seed: 3 },
  });
  const config = join(dir, 'two.tern.json');
  writeFileSync(config, JSON.stringify({ experiments: [experiment('a'), experiment('b')] }));
  return { dir, config };
}

test('tern train errors: bad config, several experiments without --experiment, missing data (exit 1, one message, no stack)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tern-cli-'));
  const bad = join(dir, 'bad.tern.json');
  writeFileSync(
    bad,
    '{\n  "experiments": [{"name": "x", "model": {"arch": "fmnist-cnn", "classes": 10},\n    "data": {"format": "idx", "path": "d"}, "train": {"lr": "fast"}}]\n}\n',
  );
  const { dir: ws, config } = workspace();
  const noData = join(ws, 'nodata.tern.json');
  writeFileSync(
    noData,
    JSON.stringify({ experiments: [{ name: 'n', model: { arch: 'fmnist-cnn', classes: 2 }, data: { format: 'idx', path: 'missing' } }] }),
  );
  // Spawned together: each start pays for loading tfjs.
  const [badConfig, several, missing] = await Promise.all([
    tern('train', bad, '--backend', 'wasm'),
    tern('train', config, '--backend', 'wasm'),
    tern('train', noData, '--backend', 'wasm'),
  ]);
  assert.equal(badConfig.code, 1);
  assert.equal(badConfig.err, `tern train: ${bad}:3:55: experiments[0].train.lr: must be a number.\n`);
  assert.equal(several.code, 1);
  assert.match(several.err, /holds 2 experiments \(a, b\); choose one with --experiment NAME/);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /^tern train: .*missing/);
  // The missing data leaves no empty runs folder behind (the config's folder had none).
  assert.equal(existsSync(join(ws, 'runs')), false, 'no runs/ left by a run that never started');
  for (const r of [badConfig, several, missing]) assert.doesNotMatch(r.err, /\n\s+at /);
});

test('tern train (--json and text), then tern eval and tern export on the run', async () => {
  const { dir, config } = workspace();
  const [r, text] = await Promise.all([
    tern('train', config, '--experiment', 'b', '--json', '--backend', 'wasm'),
    tern('train', config, '--experiment', 'a', '--backend', 'wasm'),
  ]);
  // Text mode ends with the per-layer table and the run folder.
  assert.equal(text.code, 0, text.err);
  assert.match(text.out, /conv1/);
  assert.match(text.out, /fc2/);
  assert.match(text.out, /Completed: 1 epoch in /);
  assert.match(text.out, /Run files: .*runs\/a\/\d{8}-\d{6}-[0-9a-f]{4}\n$/);

  assert.equal(r.code, 0, r.err);
  const lines = r.out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(lines[0]!.kind, 'start');
  assert.ok(lines.some((l) => l.kind === 'batch'));
  const epoch = lines.find((l) => l.kind === 'epoch')!;
  const summary = lines[lines.length - 1]!;
  assert.equal(summary.kind, 'summary');
  assert.equal(summary.status, 'completed');
  assert.deepEqual((summary.final as { top1: number }).top1, epoch.valTop1);
  const runDir = summary.runDir as string;
  assert.ok(runDir.startsWith(join(dir, 'runs', 'b')));

  const ev = await tern('eval', ...[runDir, '--config', config, '--experiment', 'b', '--json', '--backend', 'wasm']);
  assert.equal(ev.code, 0, ev.err);
  const result = JSON.parse(ev.out) as { top1: number; loss: number; examples: number };
  assert.equal(result.examples, 16);
  assert.equal(result.top1, epoch.valTop1);
  assert.ok(Math.abs(result.loss - (epoch.valLoss as number)) < 1e-6);

  const out = join(dir, 'export');
  const ex = await tern('export', ...[runDir, '--out', out]);
  assert.equal(ex.code, 0, ex.err);
  for (const f of ['model/model.json', 'metrics.csv', 'layers.csv', 'report.md', 'model.onnx', 'model.tern', 'tfjs/model.json'])
    assert.ok(existsSync(join(out, f)), f);
  assert.match(readFileSync(join(out, 'report.md'), 'utf8'), /\| status \| completed \|/);
  // Parity printed: one line per exported file, on the experiment's test images.
  assert.match(ex.out, /model\.onnx +ONNX Runtime +max \|Δ logit\| \S+, relative \S+, top-1 agreement 100\.00% of 16/);
  assert.match(ex.out, /model\.tern [\d,]+ bytes, arithmetic minimum [\d,]+ bytes/);

  const missing = await tern('export', ...[join(dir, 'nope')]);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /^tern export: Model file not found: .*nope\./);
});
