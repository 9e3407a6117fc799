/** Run and experiment labels: the config is named only when two configs share an experiment name. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configStem, experimentLabel } from '../../shared/runLabel';
import { runLabel } from '../../webview/transforms/runLabel';

const original = { experiment: 'tiny', configPath: '/ws/tiny.tern.json' };
const copy = { experiment: 'tiny', configPath: '/ws/copy.tern.json' };
const other = { experiment: 'tiny-long', configPath: '/ws/copy.tern.json' };

test('the config stem is the file name without .tern.json (or .json)', () => {
  assert.equal(configStem('/ws/sub/fashion-mnist.tern.json'), 'fashion-mnist');
  assert.equal(configStem('C:\\ws\\copy.tern.json'), 'copy');
  assert.equal(configStem('/ws/plain.json'), 'plain');
});

test('an experiment is named with its config only when another config has one of the same name', () => {
  assert.equal(experimentLabel(original, [original, other]), 'tiny');
  assert.equal(experimentLabel(original, [original, copy, other]), 'tiny@tiny');
  assert.equal(experimentLabel(copy, [original, copy, other]), 'tiny@copy');
  assert.equal(experimentLabel(other, [original, copy, other]), 'tiny-long');
  // Without a recorded config there is nothing to tell it apart by.
  assert.equal(experimentLabel({ experiment: 'tiny' }, [original, copy]), 'tiny');
});

test('the dashboard labels a run as the tree does; a folder it does not know yet by its last two parts', () => {
  const runs = [
    { ...original, runId: '20261206-080000-ab12' },
    { ...copy, runId: '20261206-090000-cd34' },
  ];
  assert.equal(runLabel(runs[1], '/ws/runs/tiny@copy/20261206-090000-cd34', runs), 'tiny@copy · 20261206-090000-cd34');
  assert.equal(runLabel(runs[0], '/ws/runs/tiny/20261206-080000-ab12', runs.slice(0, 1)), 'tiny · 20261206-080000-ab12');
  assert.equal(runLabel(undefined, '/ws/runs/tiny/20261206-100000-ef56'), 'tiny · 20261206-100000-ef56');
});
