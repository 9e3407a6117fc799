/** Command-line option values (shared/optionText.ts): the checks and the wording every `tern` command shares. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { integerOption, listOption } from '../../shared/optionText';
import { TEX_VALUES } from '../../shared/quant';

class OptionError extends Error {}
const error = (message: string) => new OptionError(message);

/** The message of the caller's error that `work` throws. */
function refusal(work: () => unknown): string {
  try {
    work();
  } catch (err) {
    assert.ok(err instanceof OptionError, String(err));
    return err.message;
  }
  return assert.fail('expected a refusal');
}

test('integerOption: integers from min up; anything else names the option and what was typed', () => {
  assert.equal(integerOption('steps', '12', 1, error), 12);
  assert.equal(integerOption('warmup', '0', 0, error), 0);
  for (const text of ['0', '-1', '2.5', 'ten', '']) {
    assert.equal(
      refusal(() => integerOption('steps', text, 1, error)),
      `--steps must be a positive integer (got '${text}')`,
    );
  }
  assert.equal(
    refusal(() => integerOption('warmup', '-1', 0, error)),
    "--warmup must be a non-negative integer (got '-1')",
  );
});

test('listOption: allowed values in the order given, without repeats; an empty or unknown item is refused', () => {
  assert.deepEqual(listOption('tex', '4, 1,4,', TEX_VALUES, Number, error), [4, 1]);
  assert.deepEqual(
    listOption('mode', 'tern', ['fp', 'tern'], (s) => s, error),
    ['tern'],
  );
  for (const text of ['', ',', '1,3']) {
    assert.equal(
      refusal(() => listOption('tex', text, TEX_VALUES, Number, error)),
      `--tex takes a comma-separated list of 1, 2, 4 (got '${text}')`,
    );
  }
});
