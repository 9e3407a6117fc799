import { test } from 'node:test';
import assert from 'node:assert/strict';
import { locateExperiments } from '../../extension/experimentLocator';

test('finds each experiment, its name, offset and model.from in JSON with comments', () => {
  const text = [
    '// two experiments',
    '{',
    '  "experiments": [',
    '    { "name": "a", "model": { "arch": "fmnist-cnn", "classes": 10 } },',
    '    /* the second */ { "name": "b", "model": { "from": "float/model.json", "classes": 10 }, },',
    '  ],',
    '}',
  ].join('\n');
  const found = locateExperiments(text);
  assert.equal(found.length, 2);
  assert.deepEqual(
    found.map((e) => e.name),
    ['a', 'b'],
  );
  assert.equal(found[0]!.offset, text.indexOf('{ "name": "a"'));
  assert.equal(found[1]!.offset, text.indexOf('{ "name": "b"'));
  assert.equal(text[found[0]!.end - 1], '}');
  assert.equal(found[0]!.modelFrom, undefined);
  assert.equal(found[1]!.modelFrom, 'float/model.json');
});

test('tolerates a half-written file: unnamed experiments keep their place, no array means none', () => {
  const found = locateExperiments('{ "experiments": [ { "model": {} }, { "name": "x" ');
  assert.equal(found[0]!.name, undefined);
  assert.equal(found[0]!.index, 0);
  assert.deepEqual(locateExperiments('{ "experiment": [] }'), []);
  assert.deepEqual(locateExperiments(''), []);
});

test("an experiment's sweep: where its property starts (the Sweep lens) and how many points its grid has", () => {
  const text =
    '{ "experiments": [ { "name": "a", "sweep": { "quant.tex": [1, 2], "quant.threshold": ["fixed", "optimal"] } }, { "name": "b", "sweep": {"quant.tex": 2} } ] }';
  const [a, b] = locateExperiments(text);
  assert.deepEqual(a!.sweep, { offset: text.indexOf('"sweep"'), points: 4 });
  // Not a grid (yet): no lens.
  assert.equal(b!.sweep, undefined);
});
