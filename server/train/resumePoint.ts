/**
 * Which checkpoint a resumed run continues from, told honestly: the newest intact one, a warning
 * naming the damaged ones passed over, and an error that says what is left when none is intact.
 */
import { basename, join, relative } from 'node:path';
import { formatQuantity } from '../../shared/format';
import { ConfigError } from '../config/loadConfig';
import { loadNewestCheckpoint } from './checkpointStore';
import type { VerifiedCheckpoint } from './checkpoint';
import { recordedEpochs, type RunPaths } from '../runs/runFolder';
import { RunFolderError } from '../runs/runErrors';

export async function checkpointToResume(paths: RunPaths, log: (level: 'warn', message: string) => void): Promise<VerifiedCheckpoint> {
  const { checkpoint, damaged } = await loadNewestCheckpoint(paths.checkpoints);
  const rel = (dir: string) => relative(paths.dir, dir);
  const problems = damaged.map((d) => `${rel(d.dir)}: ${d.problem}`).join('; ');
  if (checkpoint) {
    const from = `${rel(checkpoint.dir)} (epoch ${checkpoint.state.epoch})`;
    if (damaged.length) log('warn', `Damaged checkpoint passed over (${problems}); resuming from ${from}.`);
    else if (basename(checkpoint.dir) !== 'last')
      log('warn', `checkpoints/last is missing (the run was killed while replacing it); resuming from ${from}.`);
    return checkpoint;
  }
  const recorded = await recordedEpochs(paths);
  const lost =
    recorded > 0 ? ` metrics.jsonl records ${formatQuantity(recorded, 'epoch')}, but they cannot be continued without a checkpoint;` : '';
  if (damaged.length) {
    throw new RunFolderError(
      'damaged',
      damaged[0]!.dir,
      `No intact checkpoint in ${paths.checkpoints} (${problems}).${lost} start a new run.`,
    );
  }
  // Epoch 1 is recorded just before its checkpoint is written: a run killed in between has one
  // epoch line and no checkpoint. More epoch lines mean checkpoints were removed afterwards.
  if (recorded > 1) {
    throw new RunFolderError(
      'damaged',
      paths.checkpoints,
      `${paths.checkpoints} holds no checkpoint (it was deleted or moved);${lost} start a new run.`,
    );
  }
  const when = recorded === 1 ? 'before the checkpoint of its first epoch was written' : 'before its first epoch ended';
  throw new ConfigError(
    join(paths.checkpoints, 'last'),
    undefined,
    `holds no checkpoint (the run stopped ${when}); start a new run instead of resuming.`,
  );
}
