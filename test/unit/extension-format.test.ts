import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytes, layerDescription, percent, short } from '../../extension/format';

test('layer description rounds sparsity to 0.1 % and α, Δ to three significant digits', () => {
  const stats = { factor: 0.05, delta: 0.01234, alpha: 0.08291, sparsity: 0.41234, counts: { neg: 1, zero: 2, pos: 3 } };
  assert.equal(layerDescription(stats), 'sparsity 41.2% · α 0.0829 · Δ 0.0123');
});

test('short numbers: plain in the ordinary range, exponent outside', () => {
  assert.equal(short(0), '0');
  assert.equal(short(0.5), '0.5');
  assert.equal(short(123.456), '123');
  assert.equal(short(0.00012345), '1.23e-4');
  assert.equal(percent(0.9166), '91.7%');
  assert.equal(bytes(1536), '1.5 KiB');
  assert.equal(bytes(3 * 1024 * 1024), '3.00 MiB');
});
