// `tern bench`: case expansion, quantization per case, argument errors, and one real (tiny) timed
// training step on wasm that leaks no tensors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../server/backends/ladder';
import { benchCases, benchTrainStep, quantOf } from '../../server/bench/trainStep';
import { command } from '../../server/cli/commands/bench';
import { isUserError } from '../../shared/userError';

test('bench cases: fp once, tern once per t_ex, each with its quantization', () => {
  const cases = benchCases('resnet20', 128, ['fp', 'tern'], [1, 2, 4]);
  assert.deepEqual(
    cases.map((c) => [c.mode, c.tex]),
    [
      ['fp', null],
      ['tern', 1],
      ['tern', 2],
      ['tern', 4],
    ],
  );
  assert.equal(quantOf(cases[0]!).method, 'none');
  assert.deepEqual(quantOf(cases[3]!), {
    method: 'he2019',
    thresholdFactor: 0.05,
    threshold: 'fixed',
    tex: 4,
    firstLast: 'ternary',
    activations: 'float',
  });
  // Fixed and optimal thresholds side by side per t_ex.
  const both = benchCases('fmnist-cnn', 32, ['tern'], [1, 2], ['fixed', 'optimal']);
  assert.deepEqual(
    both.map((c) => [c.tex, c.threshold]),
    [
      [1, 'fixed'],
      [1, 'optimal'],
      [2, 'fixed'],
      [2, 'optimal'],
    ],
  );
  assert.equal((quantOf(both[1]!) as { threshold: string }).threshold, 'optimal');
});

test('bad bench arguments are usage errors (invalidArgument: usage, exit code 2) that name the option', async () => {
  const usage = (option: string) => (err: unknown) => isUserError(err) && err.code === 'invalidArgument' && err.message.includes(option);
  await assert.rejects(command.run(['--tex', '3']), usage('--tex'));
  await assert.rejects(command.run(['--threshold', 'best']), usage('--threshold'));
  await assert.rejects(command.run(['--mode', 'int8']), usage('--mode'));
  await assert.rejects(command.run(['--steps', '0']), usage('--steps'));
  await assert.rejects(command.run(['--backend', 'tpu']), usage('--backend'));
});

test('a timed ternary REL training step runs on wasm without leaking tensors', async () => {
  await initBackend({ backend: 'wasm' });
  const result = await benchTrainStep(
    { model: 'fmnist-cnn', mode: 'tern', tex: 2, batch: 4 },
    { classes: 10, steps: 2, warmup: 1, seed: 3 },
  );
  assert.equal(result.steps, 2);
  assert.equal(result.tensorsLeaked, 0);
  assert.ok(result.msPerStep > 0);
  // msPerStep is printed to 0.1 ms and imgPerSec to 0.1 img/s, both from the unrounded median: imgPerSec lies
  // between what the ends of msPerStep's rounding interval give (a fast machine makes that interval wide in img/s).
  const slowest = (4 * 1000) / (result.msPerStep + 0.05) - 0.05;
  const fastest = result.msPerStep > 0.05 ? (4 * 1000) / (result.msPerStep - 0.05) + 0.05 : Infinity;
  assert.ok(result.imgPerSec >= slowest && result.imgPerSec <= fastest, `${result.imgPerSec} img/s for ${result.msPerStep} ms per step`);
});
