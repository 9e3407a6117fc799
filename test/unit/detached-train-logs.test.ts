import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { sweepTrainLogs } from '../../server/rpc/detachedTrain';

test("training processes' logs do not pile up: ended processes' logs go, live ones stay, the newest five failures stay", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ternary-logs-'));
  // A process that has ended: its pid is free now.
  const ended = spawnSync(process.execPath, ['-e', '0']).pid;
  writeFileSync(join(dir, `${ended}.log`), 'done\n');
  writeFileSync(join(dir, `${process.pid}.log`), 'training\n');
  for (let i = 0; i < 7; i++) {
    const path = join(dir, `${1000 + i}.failed.log`);
    writeFileSync(path, `failure ${i}\n`);
    utimesSync(path, 1_000_000 + i, 1_000_000 + i);
  }
  writeFileSync(join(dir, 'unrelated.txt'), '');

  await sweepTrainLogs(dir);

  assert.deepEqual(
    readdirSync(dir).sort(),
    [
      `${process.pid}.log`,
      '1002.failed.log',
      '1003.failed.log',
      '1004.failed.log',
      '1005.failed.log',
      '1006.failed.log',
      'unrelated.txt',
    ].sort(),
  );
});
