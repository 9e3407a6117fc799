/**
 * Checkpoints survive second crashes and damage: a resume finds the newest intact checkpoint,
 * says which damaged ones it passed over, and never answers with a stack trace or a false story.
 * Crashes are simulated in-process by failing the rename that puts a new checkpoint in place
 * (the moment the files are left as a kill -9 would leave them); scripts/crash-resume.ts does the
 * same with real kill -9 at every commit point.
 */
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync, appendFileSync } from 'node:fs';
import fsPromises from 'node:fs/promises';
import { basename, join } from 'node:path';
import { trainWithEngine as train } from '../../server/engines/dispatch';
import type { RunSummary } from '../../shared/runRecords';
import { epochMetrics, setup, useWasm, userErrorMessage } from './trainFixture';

const backend = { name: 'wasm', threads: 1 };

/** A 3-epoch reference run and a second run stopped after 2 epochs, in one runs folder. */
async function twoOfThree() {
  await useWasm();
  const fixture = setup();
  const full = await train({ ...fixture, backend });
  const partial = await train({ ...fixture, epochs: 2, backend });
  return { ...fixture, full, partial };
}

function resume(fixture: Awaited<ReturnType<typeof twoOfThree>>, logs: string[] = []) {
  return train({
    ...fixture,
    resumeDir: fixture.partial.runDir,
    epochs: 3,
    backend,
    listener: { onLog: (level, m) => logs.push(`${level}: ${m}`) },
  });
}

/** Runs `work` while every rename of a temporary folder onto checkpoints/last fails like a crash would stop it. */
async function crashingAtCheckpointCommit(work: () => Promise<unknown>): Promise<void> {
  const rename = fsPromises.rename;
  const m = mock.method(fsPromises, 'rename', async (from: string, to: string) => {
    if (basename(to) === 'last' && basename(from).includes('.tmp-')) throw new Error('simulated crash while committing a checkpoint');
    return rename(from, to);
  });
  try {
    await assert.rejects(work(), /simulated crash/);
  } finally {
    m.mock.restore();
  }
}

test('a second crash while committing a checkpoint keeps the last committed epoch; resume ends as an uninterrupted run', async () => {
  const f = await twoOfThree();
  await crashingAtCheckpointCommit(() => resume(f));
  await crashingAtCheckpointCommit(() => resume(f));
  const logs: string[] = [];
  const resumed = await resume(f, logs);
  assert.equal(resumed.summary.status, 'completed');
  assert.ok(
    logs.some((l) => /resuming .* after epoch 2 of 3/.test(l)),
    logs.join('\n'),
  );
  assert.deepEqual(epochMetrics(resumed.runDir), epochMetrics(f.full.runDir));
  assert.deepEqual(resumed.summary.final, f.full.summary.final);
  // The temporary folders the crashes left were removed at the start.
  assert.deepEqual(
    readdirSync(join(resumed.runDir, 'checkpoints')).filter((n) => n.includes('.tmp-')),
    [],
  );
});

test('a truncated weights.bin in checkpoints/last: resume says so and continues from checkpoints/previous', async () => {
  const f = await twoOfThree();
  const weights = join(f.partial.runDir, 'checkpoints', 'last', 'weights.bin');
  truncateSync(weights, 100);
  const logs: string[] = [];
  const resumed = await resume(f, logs);
  assert.equal(resumed.summary.status, 'completed');
  assert.ok(
    logs.some((l) =>
      /^warn: Damaged checkpoint passed over \(checkpoints\/last: weights\.bin has 100 bytes where the checkpoint needs \d+ \(truncated\)\); resuming from checkpoints\/previous \(epoch 1\)\.$/.test(
        l,
      ),
    ),
    logs.join('\n'),
  );
  assert.deepEqual(epochMetrics(resumed.runDir), epochMetrics(f.full.runDir));
});

test('weights.bin longer than its index, or with a changed byte, is damaged too', async () => {
  const f = await twoOfThree();
  appendFileSync(join(f.partial.runDir, 'checkpoints', 'last', 'weights.bin'), Buffer.alloc(8));
  const optimizer = join(f.partial.runDir, 'checkpoints', 'previous', 'optimizer.bin');
  const bytes = readFileSync(optimizer);
  bytes[10] ^= 0xff;
  writeFileSync(optimizer, bytes);
  const logs: string[] = [];
  const resumed = await resume(f, logs);
  const warning = logs.find((l) => l.startsWith('warn: Damaged')) ?? '';
  assert.match(warning, /checkpoints\/last: weights\.bin has \d+ bytes where the checkpoint needs \d+ \(longer than its index\)/);
  assert.match(warning, /checkpoints\/previous: optimizer\.bin does not match its checksum/);
  // checkpoints/best is the copy of the best epoch: here epoch 2 or 1, either is intact.
  assert.match(warning, /resuming from checkpoints\/best \(epoch [12]\)/);
  assert.equal(resumed.summary.status, 'completed');
});

test('no intact checkpoint left: one clear error naming each file, never "stopped before its first epoch"', async () => {
  const f = await twoOfThree();
  for (const name of ['last', 'previous', 'best']) rmSync(join(f.partial.runDir, 'checkpoints', name, 'optimizer.bin'), { force: true });
  writeFileSync(join(f.partial.runDir, 'checkpoints', 'last', 'checkpoint.json'), '{"format": "ternary-studio-che');
  const err = await resume(f).then(
    () => assert.fail('resume should refuse'),
    (e: unknown) => e,
  );
  const message = userErrorMessage(err);
  assert.ok(message, `not a user error (it would print a stack trace): ${String((err as Error)?.stack ?? err)}`);
  assert.match(
    message,
    /No intact checkpoint in .*checkpoints \(checkpoints\/last: checkpoint\.json is not valid JSON .*; checkpoints\/previous: optimizer\.bin is missing; checkpoints\/best: optimizer\.bin is missing\)\. metrics\.jsonl records 2 epochs/,
  );
  assert.doesNotMatch(message, /first epoch/);
  // The run keeps its record: summary.json still says what it completed.
  const summary = JSON.parse(readFileSync(join(f.partial.runDir, 'summary.json'), 'utf8')) as RunSummary;
  assert.equal(summary.epochs, 2);
});

test('a broken checkpoint.json everywhere is reported as such, not as a run without epochs', async () => {
  const f = await twoOfThree();
  for (const name of ['last', 'previous', 'best']) {
    if (existsSync(join(f.partial.runDir, 'checkpoints', name)))
      writeFileSync(join(f.partial.runDir, 'checkpoints', name, 'checkpoint.json'), '');
  }
  const err = await resume(f).then(
    () => assert.fail('resume should refuse'),
    (e: unknown) => e,
  );
  assert.match(userErrorMessage(err) ?? String(err), /checkpoints\/last: checkpoint\.json is not valid JSON/);
  assert.doesNotMatch(userErrorMessage(err) ?? '', /first epoch/);
});
