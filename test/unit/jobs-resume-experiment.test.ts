/**
 * `ternary/train` with `resumeDir` continues the experiment the run recorded (docs/protocol.md), as
 * `tern train --resume` does: the config need not name it, even when it holds several experiments.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { realJobs } from '../../server/rpc/realJobs';
import { setup, useWasm } from './trainFixture';

test('resumeDir without experiment, config with two experiments: the run goes on with its own experiment', async () => {
  await useWasm();
  const f = setup({ epochs: 1 });
  // A second experiment in the same config: resolving "the" experiment of the file would be ambiguous.
  const config = JSON.parse(readFileSync(f.configPath, 'utf8')) as { experiments: { name: string }[] };
  config.experiments.push({ ...config.experiments[0], name: 'other' });
  writeFileSync(f.configPath, JSON.stringify(config));
  const jobs = realJobs();
  const signal = new AbortController().signal;
  const first = await jobs.train({ configPath: f.configPath, experiment: 'tiny', runsDir: f.runsDir, epochs: 1 }, {}, signal);
  assert.equal(first.summary.epochs, 1);
  let experiment = '';
  const resumed = await jobs.train(
    { configPath: f.configPath, resumeDir: first.runDir, epochs: 2 },
    { onStart: (info) => (experiment = info.experiment) },
    signal,
  );
  assert.equal(resumed.runDir, first.runDir);
  assert.equal(experiment, 'tiny');
  assert.equal(resumed.summary.status, 'completed');
  assert.equal(resumed.summary.epochs, 2);
});
