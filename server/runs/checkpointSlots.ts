/**
 * Checkpoint bookkeeping every engine shares: the slots of `checkpoints/` (each engine writes its
 * own files into them: server/train/checkpointStore.ts for tfjs, ternary_torch/checkpoint.py for
 * torch), which of them a resume may continue from, and the copy of the best one.
 *
 *   checkpoints/last/       the newest checkpoint
 *   checkpoints/previous/   the one before it, kept until the newest is on disk
 *   checkpoints/best/       a copy of the checkpoint of the best validation top-1 so far
 */
import { existsSync } from 'node:fs';
import { copyFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { replaceDirAtomic } from '../files/atomicFiles';
import type { RunConfigRecord } from '../../shared/runRecords';
import { faultPoint } from './faultInjection';

/** Slots a resume continues from, newest role first (`last.old`: what older versions left after a crash). */
export const RESUME_SLOTS = ['last', 'previous', 'last.old'] as const;

/** The file that makes a slot hold a checkpoint of each engine. */
export const CHECKPOINT_FILE: Record<NonNullable<RunConfigRecord['engine']>, string> = {
  tfjs: 'checkpoint.json',
  torch: 'checkpoint.pt',
};

/** Whether a run of `engine` (config.json's `engine`; absent: tfjs) has a checkpoint to resume from. */
export function hasCheckpoint(runDir: string, engine: RunConfigRecord['engine']): boolean {
  const file = CHECKPOINT_FILE[engine ?? 'tfjs'];
  return RESUME_SLOTS.some((slot) => existsSync(join(runDir, 'checkpoints', slot, file)));
}

/** Copies checkpoints/last to checkpoints/best (after an epoch that improved the best top-1). */
export async function copyLastToBest(checkpointsDir: string): Promise<void> {
  const last = join(checkpointsDir, 'last');
  await replaceDirAtomic(join(checkpointsDir, 'best'), async (tmp) => {
    for (const f of await readdir(last)) await copyFile(join(last, f), join(tmp, f));
  });
  faultPoint('best-committed');
}
