import { test } from 'node:test';
import assert from 'node:assert/strict';
import { belongsTo } from '../../extension/runOwnership';

test('two configs of one folder with the same experiment name: each run shows under the config that started it', () => {
  const a = '/ws/examples/fashion-mnist.tern.json';
  const b = '/ws/examples/fashion-mnist-copy.tern.json';
  const claimants = [a, b];
  const runOfA = { experiment: 'fmnist-cnn-tern', configPath: a };
  const runOfB = { experiment: 'fmnist-cnn-tern', configPath: b };
  assert.equal(belongsTo(runOfA, 'fmnist-cnn-tern', a, claimants), true);
  assert.equal(belongsTo(runOfA, 'fmnist-cnn-tern', b, claimants), false);
  assert.equal(belongsTo(runOfB, 'fmnist-cnn-tern', b, claimants), true);
  assert.equal(belongsTo(runOfB, 'fmnist-cnn-tern', a, claimants), false);
  assert.equal(belongsTo(runOfA, 'fmnist-cnn-float', a, claimants), false, 'another experiment');
});

test('a run without a recorded config, or from a config that moved, shows under every claimant', () => {
  const claimants = ['/ws/a.tern.json', '/ws/b.tern.json'];
  assert.equal(belongsTo({ experiment: 'x' }, 'x', '/ws/a.tern.json', claimants), true);
  assert.equal(belongsTo({ experiment: 'x' }, 'x', '/ws/b.tern.json', claimants), true);
  assert.equal(belongsTo({ experiment: 'x', configPath: '/old/place/a.tern.json' }, 'x', '/ws/a.tern.json', claimants), true);
  assert.equal(belongsTo({ experiment: 'x', configPath: '/ws/sub/../a.tern.json' }, 'x', '/ws/a.tern.json', claimants), true);
});
