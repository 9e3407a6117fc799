import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfigFile, parseConfigText, resolveExperiment } from '../../server/config/loadConfig';

const minimal = {
  name: 'a',
  model: { arch: 'fmnist-cnn', classes: 10 },
  data: { format: 'idx', path: 'data' },
};

function withExperiment(patch: (e: Record<string, any>) => void): string {
  const e = structuredClone(minimal) as Record<string, any>;
  patch(e);
  return JSON.stringify({ experiments: [e] }, null, 2);
}

function errorOf(text: string): ConfigError {
  try {
    parseConfigText(text, 'x.tern.json');
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a ConfigError');
}

test('defaults: he2019 / 0.05 / tex 1 / ternary and the CIFAR recipe', () => {
  const cfg = parseConfigText(JSON.stringify({ experiments: [minimal] }), 'x.tern.json');
  const e = cfg.experiments[0]!;
  assert.deepEqual(e.quant, {
    method: 'he2019',
    thresholdFactor: 0.05,
    threshold: 'fixed',
    tex: 1,
    firstLast: 'ternary',
    activations: 'float',
  });
  assert.deepEqual(e.train, {
    epochs: 200,
    batchSize: 128,
    optimizer: 'sgd',
    lr: 0.1,
    momentum: 0.9,
    nesterov: true,
    weightDecay: 3e-4,
    schedule: [80, 120, 160],
    gammas: [0.1, 0.1, 0.5],
    seed: 5000,
  });
  assert.deepEqual(e.data.augment, []);
});

test('explicit values override defaults; comments and trailing commas are allowed', () => {
  const text = `{
    // a comment
    "experiments": [{
      "name": "b", "model": {"arch": "fmnist-cnn", "classes": 10},
      "quant": {"tex": 2}, /* block */
      "data": {"format": "idx", "path": "d", "normalize": {"mean": [0.5], "std": [0.25]}},
      "train": {"lr": 0.01, "schedule": [3], "gammas": [0.5],},
    }],
  }`;
  const e = parseConfigText(text, 'x').experiments[0]!;
  assert.deepEqual(e.quant, {
    method: 'he2019',
    thresholdFactor: 0.05,
    threshold: 'fixed',
    tex: 2,
    firstLast: 'ternary',
    activations: 'float',
  });
  assert.equal(e.train.lr, 0.01);
  assert.deepEqual(e.train.schedule, [3]);
  assert.equal(e.train.batchSize, 128);
  assert.deepEqual(e.data.normalize, { mean: [0.5], std: [0.25] });
});

test('syntax error: line and column', () => {
  const err = errorOf('{\n  "experiments": [\n    {"name": "a",, }\n  ]\n}');
  assert.equal(err.line, 3);
  assert.equal(err.column, 18);
  assert.match(err.message, /^x\.tern\.json:3:18: is not valid JSON \(PropertyNameExpected\)/);
});

test('type error names the property path and the expected type', () => {
  const err = errorOf(withExperiment((e) => (e.train = { lr: 'fast' })));
  assert.equal(err.property, 'experiments[0].train.lr');
  assert.match(err.detail, /must be a number/);
  assert.equal(err.line, 14);
});

test('missing required property', () => {
  const err = errorOf(withExperiment((e) => delete e.data.format));
  assert.equal(err.property, 'experiments[0].data.format');
  assert.match(err.detail, /required/);
  const top = errorOf('{}');
  assert.equal(top.property, 'experiments');
});

test('unknown property lists the allowed ones', () => {
  const err = errorOf(withExperiment((e) => (e.train = { banana: 0.1 })));
  assert.equal(err.property, 'experiments[0].train.banana');
  assert.match(err.detail, /not a known property\. Expected one of: epochs, batchSize, optimizer, lr,/);
});

test('a near-miss property name gets "did you mean"', () => {
  const err = errorOf(withExperiment((e) => (e.train = { lrr: 0.1 })));
  assert.equal(err.property, 'experiments[0].train.lrr');
  assert.match(err.detail, /^is not a known property; did you mean "lr"\? Expected one of: epochs, batchSize, optimizer, lr,/);
});

test('{"experimentz": []} says did you mean "experiments" (not only "experiments is required")', () => {
  const err = errorOf('{"experimentz": []}');
  assert.equal(err.property, 'experimentz');
  assert.match(err.message, /^x\.tern\.json:1:2: experimentz: is not a known property; did you mean "experiments"\?/);
  assert.doesNotMatch(err.message, /more problem/);
});

test('enum error lists the allowed values', () => {
  const err = errorOf(withExperiment((e) => (e.quant = { tex: 3 })));
  assert.equal(err.property, 'experiments[0].quant.tex');
  assert.match(err.detail, /must be one of 1, 2, 4/);
  const opt = errorOf(withExperiment((e) => (e.train = { optimizer: 'rmsprop' })));
  assert.match(opt.detail, /must be one of "sgd", "adam"/);
});

test('augment names are checked', () => {
  const err = errorOf(withExperiment((e) => (e.data.augment = ['hflip', 'flipv'])));
  assert.equal(err.property, 'experiments[0].data.augment[1]');
  assert.match(err.detail, /not a known augmentation/);
  const ok = parseConfigText(
    withExperiment((e) => (e.data.augment = ['crop28pad2', 'hflip'])),
    'x',
  );
  assert.deepEqual(ok.experiments[0]!.data.augment, ['crop28pad2', 'hflip']);
});

test('range errors', () => {
  const lr = errorOf(withExperiment((e) => (e.train = { lr: 0 })));
  assert.equal(lr.property, 'experiments[0].train.lr');
  assert.match(lr.detail, /must be > 0/);
  const epochs = errorOf(withExperiment((e) => (e.train = { epochs: 1.5 })));
  assert.match(epochs.detail, /must be an integer/);
});

test('normalize: wrong shape and bad std', () => {
  const shape = errorOf(withExperiment((e) => (e.data.normalize = 3)));
  assert.equal(shape.property, 'experiments[0].data.normalize');
  assert.match(shape.detail, /preset name .* or an object/);
  const preset = errorOf(withExperiment((e) => (e.data.normalize = 'cifar')));
  assert.equal(preset.property, 'experiments[0].data.normalize');
  const std = errorOf(withExperiment((e) => (e.data.normalize = { mean: [0.1], std: [0] })));
  assert.equal(std.property, 'experiments[0].data.normalize.std[0]');
});

test('semantic checks: arch/from, schedule vs gammas, order, twn+tex, names', () => {
  assert.match(errorOf(withExperiment((e) => (e.model = { classes: 10 }))).detail, /either "arch".*or "from"/);
  assert.equal(errorOf(withExperiment((e) => (e.model.from = 'm.json'))).property, 'experiments[0].model.from');
  const g = errorOf(withExperiment((e) => (e.train = { schedule: [1, 2], gammas: [0.1] })));
  assert.equal(g.property, 'experiments[0].train.gammas');
  assert.equal(
    errorOf(withExperiment((e) => (e.train = { schedule: [5, 2], gammas: [0.1, 0.1] }))).property,
    'experiments[0].train.schedule[1]',
  );
  assert.equal(errorOf(withExperiment((e) => (e.quant = { method: 'twn', tex: 2 }))).property, 'experiments[0].quant.tex');
  assert.match(errorOf(withExperiment((e) => (e.name = 'a b'))).detail, /names a folder/);
  const dup = errorOf(JSON.stringify({ experiments: [minimal, minimal] }));
  assert.equal(dup.property, 'experiments[1].name');
});

test('resolveExperiment: by name, the only one, or an error listing names', () => {
  const cfg = parseConfigText(JSON.stringify({ experiments: [minimal, { ...minimal, name: 'b' }] }), 'two.tern.json');
  assert.equal(resolveExperiment(cfg, 'b').name, 'b');
  assert.throws(() => resolveExperiment(cfg), /holds 2 experiments \(a, b\); choose one with --experiment NAME/);
  assert.throws(() => resolveExperiment(cfg, 'c'), /no experiment named "c"; its experiments are: a, b/);
  const one = parseConfigText(JSON.stringify({ experiments: [minimal] }), 'one');
  assert.equal(resolveExperiment(one).name, 'a');
});

test('loadConfigFile: missing file and a real file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tern-config-'));
  await assert.rejects(loadConfigFile(join(dir, 'nope.tern.json')), /file not found/);
  const path = join(dir, 'ok.tern.json');
  writeFileSync(path, JSON.stringify({ experiments: [minimal] }));
  const cfg = await loadConfigFile(path);
  assert.equal(cfg.path, path);
  assert.equal(cfg.experiments.length, 1);
});

test('a UTF-8 byte order mark at the start of a config file is accepted; errors keep their positions', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tern-config-'));
  const path = join(dir, 'bom.tern.json');
  writeFileSync(path, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify({ experiments: [minimal] }))]));
  const cfg = await loadConfigFile(path);
  assert.equal(cfg.experiments[0]!.name, 'a');
  const err = errorOf(
    '\ufeff' +
      withExperiment((e) => {
        e.train = { lr: -1 };
      }),
  );
  assert.equal(err.property, 'experiments[0].train.lr');
  assert.equal(
    err.line,
    errorOf(
      withExperiment((e) => {
        e.train = { lr: -1 };
      }),
    ).line,
  );
});
