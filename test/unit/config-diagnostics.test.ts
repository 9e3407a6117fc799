/**
 * `ternary/validateConfig`'s answer (server/config/configDiagnostics.ts): every problem of a
 * config text with the loader's message and the range an editor underlines; "did you mean" for
 * near-miss property names; a warning on an experiment name another config of the folder uses.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { configDiagnostics } from '../../server/config/configDiagnostics';
import { editDistance, nearestName } from '../../server/config/nearestName';

const example = readFileSync(resolve(__dirname, '..', '..', 'examples', 'fashion-mnist.tern.json'), 'utf8');

/** The text a range covers (0-based lines and characters). */
function covered(text: string, range: { start: { line: number; character: number }; end: { line: number; character: number } }): string {
  const lines = text.split('\n');
  assert.equal(range.start.line, range.end.line, 'one-line range');
  return lines[range.start.line]!.slice(range.start.character, range.end.character);
}

test('edit distance and nearest name', () => {
  assert.equal(editDistance('experimentz', 'experiments'), 1);
  assert.equal(editDistance('lr', 'rl'), 1);
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(nearestName('experimentz', ['experiments']), 'experiments');
  assert.equal(nearestName('Experiments', ['experiments', 'name']), 'experiments');
  assert.equal(nearestName('epoch', ['epochs', 'batchSize', 'optimizer']), 'epochs');
  assert.equal(nearestName('banana', ['epochs', 'batchSize', 'lr']), undefined);
  assert.equal(nearestName('x', ['lr']), undefined);
});

test('{"experimentz": []}: one error on the misspelled name, with did you mean "experiments"', async () => {
  const text = '{"experimentz": []}';
  const { problems } = await configDiagnostics('/nowhere/x.tern.json', text);
  assert.equal(problems.length, 1, JSON.stringify(problems));
  const [p] = problems;
  assert.equal(p!.severity, 'error');
  assert.match(p!.message, /^experimentz: is not a known property; did you mean "experiments"\?/);
  assert.equal(covered(text, p!.range), '"experimentz"');
  assert.deepEqual([p!.line, p!.column], [1, 2]);
});

test('the example with "lr": -1 and a misspelled property: both errors, each on its own text', async () => {
  const text = example.replace('"lr": 0.002', '"lr": -1').replace('"weightDecay": 0,', '"weightDecey": 0,');
  assert.notEqual(text, example);
  const dir = mkdtempSync(join(tmpdir(), 'tern-diag-'));
  const { problems } = await configDiagnostics(join(dir, 'fashion-mnist.tern.json'), text);
  const lr = problems.find((p) => p.property === 'experiments[0].train.lr');
  const typo = problems.find((p) => p.property === 'experiments[0].train.weightDecey');
  assert.ok(lr && typo, JSON.stringify(problems, null, 1));
  assert.equal(lr.severity, 'error');
  assert.equal(covered(text, lr.range), '-1');
  assert.match(lr.message, /^experiments\[0\]\.train\.lr: must be > ?=? ?0/);
  assert.equal(covered(text, typo.range), '"weightDecey"');
  assert.match(typo.message, /did you mean "weightDecay"\?/);
  assert.equal(problems.length, 2, JSON.stringify(problems, null, 1));
});

test('a valid config has no problem; broken JSON has one error at the broken place', async () => {
  assert.deepEqual((await configDiagnostics('/nowhere/fashion-mnist.tern.json', example)).problems, []);
  const { problems } = await configDiagnostics('/nowhere/x.tern.json', '{\n  "experiments": [\n    { "name": "a" ]\n}');
  assert.equal(problems[0]!.severity, 'error');
  assert.match(problems[0]!.message, /is not valid JSON/);
  assert.equal(problems[0]!.range.start.line, 2);
});

test('an experiment name another config of the folder uses: a warning on the name, saying where the runs go', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tern-diag-'));
  const original = join(dir, 'fashion-mnist.tern.json');
  writeFileSync(original, example);
  assert.deepEqual((await configDiagnostics(original)).problems, [], 'alone in its folder: no warning');
  writeFileSync(join(dir, 'fashion-mnist-copy.tern.json'), example);
  const { problems } = await configDiagnostics(original);
  assert.deepEqual(
    problems.map((p) => p.severity),
    ['warning', 'warning'],
  );
  assert.equal(covered(example, problems[0]!.range), '"fmnist-cnn-tern"');
  assert.match(
    problems[0]!.message,
    /^experiments\[0\]\.name: "fmnist-cnn-tern" is also an experiment of fashion-mnist-copy\.tern\.json in this folder: .* runs\/fmnist-cnn-tern@fashion-mnist\//,
  );
});
