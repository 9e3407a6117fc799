/**
 * The tfjs engine's checkpoints in the slots of server/runs/checkpointSlots.ts, and how they are
 * replaced so that no crash, not even a second one at the same moment, loses the last committed
 * epoch.
 *
 * Saving writes the new checkpoint into a temporary folder and flushes it (fsync of each file and
 * of the folder), then renames last → previous and the new one → last. Whatever moment a crash
 * hits, one of them is complete: a save never deletes `previous` while `last` is missing or
 * damaged. Loading
 * checks every candidate (checkpoint.ts `verifyCheckpoint`) and takes the newest intact one,
 * saying which damaged ones it passed over.
 */
import { mkdir, rename, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { TEMP_MARKER, syncDir, writeFileDurable } from '../files/atomicFiles';
import { encodeCheckpoint, verifyCheckpoint, type CheckpointState, type VerifiedCheckpoint } from './checkpoint';
import { faultPoint } from '../runs/faultInjection';
import type { Optimizer } from './optimizers';

/** Candidates on load, newest first by role (`last.old` is what older versions left after a crash). */
const CANDIDATES = ['last', 'previous', 'last.old', 'best'] as const;

let counter = 0;

/** Saves a checkpoint as checkpoints/last, keeping the one it replaces as checkpoints/previous. */
export async function saveCheckpoint(
  checkpointsDir: string,
  model: LayersModel,
  optimizer: Optimizer,
  state: CheckpointState,
): Promise<void> {
  const files = await encodeCheckpoint(model, optimizer, state);
  const last = join(checkpointsDir, 'last');
  const previous = join(checkpointsDir, 'previous');
  const tmp = join(checkpointsDir, `last${TEMP_MARKER}${process.pid}-${counter++}`);
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  try {
    for (const [name, data] of files) await writeFileDurable(join(tmp, name), data);
    await syncDir(tmp);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw err;
  }
  faultPoint('checkpoint-written');
  if (existsSync(last)) {
    if ('problem' in (await verifyCheckpoint(last))) {
      // A damaged `last` (the run resumed from `previous`) must not push out the intact `previous`.
      await rm(last, { recursive: true, force: true });
    } else {
      // Only now, with the new checkpoint durable, is the one before `last` given up.
      await rm(previous, { recursive: true, force: true });
      await rename(last, previous);
    }
  }
  faultPoint('checkpoint-rotated');
  await rename(tmp, last);
  await syncDir(checkpointsDir);
  faultPoint('checkpoint-committed');
  // An older version's leftover is superseded by a durable last/ + previous/.
  await rm(join(checkpointsDir, 'last.old'), { recursive: true, force: true });
}

/** What loading found: the checkpoint to resume from (if any) and the damaged ones passed over. */
export interface LoadedCheckpoint {
  checkpoint?: VerifiedCheckpoint;
  /** Candidates that exist but failed their checks, with the reason (`checkpoints/last: weights.bin is missing`). */
  damaged: { dir: string; problem: string }[];
}

/** The newest intact checkpoint of a run (by epoch; `last` before `previous` before `best` on a tie). */
export async function loadNewestCheckpoint(checkpointsDir: string): Promise<LoadedCheckpoint> {
  let checkpoint: VerifiedCheckpoint | undefined;
  const damaged: LoadedCheckpoint['damaged'] = [];
  for (const name of CANDIDATES) {
    const dir = join(checkpointsDir, name);
    if (!existsSync(dir)) continue;
    const found = await verifyCheckpoint(dir);
    if ('problem' in found) damaged.push({ dir, problem: found.problem });
    else if (!checkpoint || found.state.epoch > checkpoint.state.epoch) checkpoint = found;
  }
  return { checkpoint, damaged };
}
