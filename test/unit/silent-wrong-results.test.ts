/**
 * Inputs that used to give a wrong result without a word: out-of-range test labels, an empty
 * training set, a one-class image folder, NaN weights in the layer statistics, weight files that
 * do not match their model.json or lie outside its folder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { PNG } from 'pngjs';
import { ConfigError, parseConfigText } from '../../server/config/loadConfig';
import { loadModel } from '../../server/models/loadModel';
import { saveModel } from '../../server/core/modelIO';
import { isDataError } from '../../server/data/errors';
import { buildModel } from '../../server/models';
import { layerStats } from '../../server/stats';
import { trainWithEngine as train } from '../../server/engines/dispatch';
import { setup, useWasm, userErrorMessage } from './trainFixture';
import { IDX_IMAGES, IDX_LABELS, idxFile } from '../shared/idx';

const backend = { name: 'wasm', threads: 1 };

function idxLabels(path: string, labels: number[]): void {
  writeFileSync(path, idxFile(IDX_LABELS, [labels.length], labels));
}

function idxImages(path: string, count: number, size: number): void {
  writeFileSync(path, idxFile(IDX_IMAGES, [count, size, size], new Uint8Array(count * size * size).fill(100)));
}

test('a test label out of range (200 of 4 classes) is an error naming the classes, not a silent miss', async () => {
  await useWasm();
  const f = setup();
  const data = join(dirname(f.configPath), 'data');
  idxLabels(
    join(data, 't10k-labels-idx1-ubyte'),
    Array.from({ length: 32 }, (_, i) => (i === 5 ? 200 : i % 4)),
  );
  const err = await train({ ...f, backend }).then(
    () => assert.fail('expected an error'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ConfigError, String(err));
  assert.match(err.message, /model\.classes \(experiment "tiny"\): is 4 but the test data has labels up to 200; fix the test labels/);
});

test('a training set of zero images is an error, not a run that completes with loss 0', async () => {
  await useWasm();
  const f = setup();
  const data = join(dirname(f.configPath), 'data');
  idxImages(join(data, 'train-images-idx3-ubyte'), 0, 8);
  idxLabels(join(data, 'train-labels-idx1-ubyte'), []);
  const err = await train({ ...f, backend }).then(
    () => assert.fail('expected an error'),
    (e: unknown) => e,
  );
  assert.ok(isDataError(err), String(err));
  assert.match((err as Error).message, /the training split holds no images; check data\.path \(experiment "tiny"\)/);
});

test('a one-class image folder trains with a warning saying what 100 % means there', async () => {
  await useWasm();
  const root = mkdtempSync(join(tmpdir(), 'tern-oneclass-'));
  const p = new PNG({ width: 8, height: 8 });
  p.data.fill(128);
  for (const split of ['train', 'test']) {
    mkdirSync(join(root, 'img', split, 'cat'), { recursive: true });
    for (let i = 0; i < 4; i++) writeFileSync(join(root, 'img', split, 'cat', `${i}.png`), PNG.sync.write(p));
  }
  const text = JSON.stringify({
    experiments: [
      {
        name: 'one',
        model: { arch: 'fmnist-cnn', classes: 2 },
        data: { format: 'image-folder', path: 'img', augment: [] },
        train: { epochs: 1, batchSize: 4, seed: 1 },
      },
    ],
  });
  const configPath = join(root, 'one.tern.json');
  writeFileSync(configPath, text);
  const logs: string[] = [];
  const result = await train({
    experiment: parseConfigText(text, configPath).experiments[0]!,
    configPath,
    runsDir: join(root, 'runs'),
    backend,
    listener: { onLog: (l, m) => logs.push(`${l}: ${m}`) },
  });
  assert.equal(result.summary.status, 'completed');
  assert.ok(
    logs.some((l) => /^warn: .*img.*: the training data has a single class \(cat\); the model will learn to answer it always/.test(l)),
    logs.join('\n'),
  );
});

test('all-NaN weights: layer statistics refuse with a message instead of Δ 0, α 0, 100 % sparse', () => {
  const model = buildModel({
    arch: 'fmnist-cnn',
    classes: 4,
    inputShape: [8, 8, 1],
    quant: { method: 'he2019', thresholdFactor: 0.05, threshold: 'fixed', tex: 1, firstLast: 'ternary' },
    seed: 1,
  });
  try {
    const kernel = model.layers.find((l) => l.getWeights().length > 0)!;
    kernel.setWeights(kernel.getWeights().map((w) => tf.fill(w.shape, NaN)));
    assert.throws(
      () => layerStats(model),
      (err: unknown) =>
        isDataError(err) && /^Layer ".+" has \d+ of \d+ weights that are NaN or infinite: the model is broken/.test((err as Error).message),
    );
  } finally {
    model.dispose();
  }
});

test('weight files: longer than the manifest, shorter (named), or outside the model folder are refused', async () => {
  await useWasm();
  const dir = mkdtempSync(join(tmpdir(), 'tern-weights-'));
  const model = buildModel({ arch: 'fmnist-cnn', classes: 4, inputShape: [8, 8, 1], quant: { method: 'none' }, seed: 1 });
  await saveModel(model, join(dir, 'm'));
  model.dispose();
  const weights = join(dir, 'm', 'weights.bin');
  const original = readFileSync(weights);
  const message = async () => {
    const err = await loadModel(join(dir, 'm', 'model.json')).then(
      (m) => {
        m.dispose();
        return undefined;
      },
      (e: unknown) => e,
    );
    assert.ok(err, 'the model loaded');
    return userErrorMessage(err) ?? `not a user error: ${err instanceof Error ? err.message : typeof err}`;
  };

  appendFileSync(weights, Buffer.alloc(16));
  assert.match(
    await message(),
    new RegExp(
      `^Weight file ${weights} \\(listed in .*model\\.json\\) has ${original.length + 16} bytes but model\\.json describes ${original.length}: longer than its manifest`,
    ),
  );

  writeFileSync(weights, original);
  truncateSync(weights, original.length - 100);
  assert.match(
    await message(),
    new RegExp(
      `^Weight file ${weights} \\(listed in .*model\\.json\\) has ${original.length - 100} bytes but model\\.json describes ${original.length}: truncated`,
    ),
  );

  writeFileSync(weights, original);
  writeFileSync(join(dir, 'x.bin'), original);
  const json = JSON.parse(readFileSync(join(dir, 'm', 'model.json'), 'utf8'));
  json.weightsManifest[0].paths = ['../x.bin'];
  writeFileSync(join(dir, 'm', 'model.json'), JSON.stringify(json));
  assert.match(await message(), /model\.json lists the weight file "\.\.\/x\.bin", which is outside its folder .*; refusing to read it/);
});
