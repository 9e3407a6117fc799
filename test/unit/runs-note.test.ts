/** A note on a run: written whole into note.txt in the run folder, listed with the run, removed when emptied. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRunNote, writeRunNote } from '../../extension/runNote';
import { listRuns } from '../../server/runs';

function runFolder(): { runsDir: string; runDir: string } {
  const runsDir = mkdtempSync(join(tmpdir(), 'tern-note-'));
  const runDir = join(runsDir, 'tiny', '20261206-080000-ab12');
  mkdirSync(runDir, { recursive: true });
  const experiment = { name: 'tiny', train: { epochs: 2 } };
  writeFileSync(
    join(runDir, 'config.json'),
    JSON.stringify({ runId: '20261206-080000-ab12', experiment, startedAt: '2026-12-06T08:00:00Z' }),
  );
  return { runsDir, runDir };
}

test('a note is written to note.txt, listed with the run, and removed when emptied', async () => {
  const { runsDir, runDir } = runFolder();
  assert.equal(await readRunNote(runDir), '');
  assert.equal((await listRuns([runsDir]))[0]!.note, undefined);

  await writeRunNote(runDir, '  baseline | lr 0.05  ');
  assert.equal(readFileSync(join(runDir, 'note.txt'), 'utf8'), 'baseline | lr 0.05\n');
  assert.equal(await readRunNote(runDir), 'baseline | lr 0.05');
  assert.equal((await listRuns([runsDir]))[0]!.note, 'baseline | lr 0.05');
  // Written under a temporary name and renamed: nothing else is left in the folder.
  assert.deepEqual(readdirSync(runDir).sort(), ['config.json', 'note.txt']);

  await writeRunNote(runDir, '   ');
  assert.equal(existsSync(join(runDir, 'note.txt')), false);
  assert.equal((await listRuns([runsDir]))[0]!.note, undefined);
});
