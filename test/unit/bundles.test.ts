/**
 * The bundles `node esbuild.mjs` writes (npm test builds them first) carry no test-only hooks:
 * the panel timings (`window.__ternaryPerf`, webview/shared/perf.ts) and the send time stamped on
 * live panel messages (extension/panels/testStamp.ts) and the hold on the webviews' `ready`
 * (extension/panels/testReadyGate.ts) exist only in `--test-hooks` builds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const bundles = ['dist/extension.js', 'dist/webview/dashboard.js', 'dist/webview/histograms.js'];

test('shipped bundles contain no test hooks', () => {
  for (const file of bundles) {
    const text = readFileSync(file, 'utf8');
    for (const hook of [
      '__ternaryPerf',
      'sentAt',
      'function timeLiveMessage',
      'function timeRedraw',
      'function stampForTests',
      'ReadyForTests',
    ]) {
      assert.ok(!text.includes(hook), `${file} contains "${hook}": was it built with --test-hooks? Run \`node esbuild.mjs\`.`);
    }
  }
});
