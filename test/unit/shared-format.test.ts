/** shared/format.ts: how every view, notification, `tern` and report.md write numbers. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatBytes,
  formatCompression,
  formatCount,
  formatDateTime,
  formatDuration,
  formatEpochs,
  formatFixed,
  formatList,
  formatNumber,
  formatPercent,
  formatQuantity,
  formatSizeChange,
  MINUS,
} from '../../shared/format';

test('sizes: one unit ladder, so 1.61 MiB is never 1649.7 KiB elsewhere', () => {
  assert.equal(formatBytes(812), '812 B');
  assert.equal(formatBytes(1536), '1.5 KiB');
  assert.equal(formatBytes(1649.7 * 1024), '1.61 MiB');
  assert.equal(formatBytes(3 * 1024 ** 3), '3.00 GiB');
  assert.equal(formatSizeChange(1649.7 * 1024, 103.2 * 1024), '1.61 MiB → 103.2 KiB (16.0× smaller)');
});

test('compression: a float model is "the same size", never "1.0× smaller"', () => {
  assert.equal(formatCompression(15.93), '15.9× smaller');
  assert.equal(formatCompression(1.0), 'the same size');
  assert.equal(formatCompression(1.04), 'the same size');
  assert.equal(formatCompression(0.5), '2.0× larger');
  assert.equal(formatCompression(Infinity), 'size unknown');
});

test('counts with thousands separators; a count and its noun agree', () => {
  assert.equal(formatCount(37_748_736), '37,748,736');
  assert.equal(formatCount(999), '999');
  assert.equal(formatQuantity(1, 'epoch'), '1 epoch');
  assert.equal(formatQuantity(2, 'epoch'), '2 epochs');
  assert.equal(formatQuantity(10_000, 'test image'), '10,000 test images');
});

test('epochs and lists: "at epoch 1", not "at epochs 1"', () => {
  assert.equal(formatEpochs([1]), 'epoch 1');
  assert.equal(formatEpochs([80, 120]), 'epochs 80 and 120');
  assert.equal(formatEpochs([3, 6, 9]), 'epochs 3, 6 and 9');
  assert.equal(formatList([]), '');
  assert.equal(formatList(['0.1']), '0.1');
});

test('signs: one minus (U+2212) everywhere, exponents included', () => {
  assert.equal(MINUS, '−');
  assert.equal(formatNumber(-0.08291), '−0.0829');
  assert.equal(formatNumber(-0.000012345), '−1.23e−5');
  assert.equal(formatNumber(123456), '1.23e5');
  assert.equal(formatPercent(-0.0123), '−1.2%');
  assert.equal(formatCount(-1234), '−1,234');
  assert.doesNotMatch([formatNumber(-1e-9), formatPercent(-0.5), formatCount(-5)].join(' '), /-/);
});

test('numbers: significant digits, plain in the ordinary range, no trailing zeros', () => {
  assert.equal(formatNumber(0), '0');
  assert.equal(formatNumber(0.5), '0.5');
  assert.equal(formatNumber(123.456), '123');
  assert.equal(formatNumber(0.04, 4), '0.04');
  assert.equal(formatNumber(0.0001, 4), '1e−4');
  assert.equal(formatNumber(0.123456, 4), '0.1235');
  assert.equal(formatNumber(NaN), 'NaN');
  assert.equal(formatNumber(-Infinity), '−∞');
  assert.equal(formatPercent(0.9166), '91.7%');
  assert.equal(formatPercent(0.05, 2), '5.00%');
  assert.equal(formatPercent(NaN), '–');
  assert.equal(formatFixed(-0.2, 2), '−0.20');
  assert.equal(formatFixed(3, 1), '3.0');
});

test('durations and times: readable units; times in the viewer’s zone, not raw UTC', () => {
  assert.equal(formatDuration(0.42), '0.4 s');
  assert.equal(formatDuration(9.94), '9.9 s');
  assert.equal(formatDuration(42.4), '42 s');
  assert.equal(formatDuration(59.6), '1 min 00 s');
  assert.equal(formatDuration(NaN), '–');
  assert.equal(formatDuration(185), '3 min 05 s');
  assert.equal(formatDuration(2 * 3600 + 3 * 60 + 10), '2 h 03 min');
  const local = new Date(2026, 11, 6, 7, 31, 4);
  assert.equal(formatDateTime(local.toISOString()), '2026-12-06 07:31:04');
  assert.equal(formatDateTime(local.getTime()), '2026-12-06 07:31:04');
  assert.doesNotMatch(formatDateTime('2026-12-06T07:31:04.123Z'), /T|Z/);
  assert.equal(formatDateTime('not a time'), 'not a time');
});
