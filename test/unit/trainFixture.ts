/**
 * The trainer tests' tiny synthetic IDX dataset (8×8 images, 4 classes: a bright quadrant per
 * class plus noise) and a 3-epoch config training fmnist-cnn on it.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../server/backends/ladder';
import { parseConfigText } from '../../server/config/loadConfig';
import type { ExperimentConfig } from '../../shared/experimentConfig';
import { isUserError } from '../../shared/userError';
import type { MetricsRecord } from '../../shared/runRecords';
import { writeIdxSplit } from '../shared/idx';

const SIZE = 8;

/** wasm: tfjs-backend-cpu's Conv2DBackpropFilter is too slow even for 8×8 images. */
export async function useWasm(): Promise<void> {
  await initBackend({ backend: 'wasm' });
}
export const CLASSES = 4;

/** Deterministic images: class k lights up quadrant k; a small LCG adds noise. */
export function writeSplit(dir: string, prefix: string, count: number, seed: number): void {
  let s = seed;
  const rand = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
  const images = new Uint8Array(count * SIZE * SIZE);
  const labels = new Uint8Array(count);
  for (let n = 0; n < count; n++) {
    const k = n % CLASSES;
    labels[n] = k;
    for (let y = 0; y < SIZE; y++) {
      for (let x = 0; x < SIZE; x++) {
        const quadrant = (y < SIZE / 2 ? 0 : 2) + (x < SIZE / 2 ? 0 : 1);
        images[n * SIZE * SIZE + y * SIZE + x] = Math.min(255, Math.floor((quadrant === k ? 150 : 30) + rand() * 100));
      }
    }
  }
  writeIdxSplit(dir, prefix, images, labels, SIZE);
}

export function setup(
  trainPatch: Record<string, unknown> = {},
  dataPatch: Record<string, unknown> = {},
  quant: Record<string, unknown> = {},
): { experiment: ExperimentConfig; configPath: string; runsDir: string } {
  const root = mkdtempSync(join(tmpdir(), 'tern-train-'));
  mkdirSync(join(root, 'data'));
  writeSplit(join(root, 'data'), 'train', 64, 1);
  writeSplit(join(root, 'data'), 't10k', 32, 2);
  const text = JSON.stringify({
    experiments: [
      {
        name: 'tiny',
        model: { arch: 'fmnist-cnn', classes: CLASSES },
        quant,
        data: {
          format: 'idx',
          path: 'data',
          normalize: { mean: [0.4], std: [0.3] },
          augment: ['crop8pad1'] /* no hflip: it would swap the quadrant classes */,
          ...dataPatch,
        },
        train: {
          epochs: 3,
          batchSize: 16,
          optimizer: 'sgd',
          lr: 0.05,
          momentum: 0.9,
          nesterov: true,
          weightDecay: 1e-4,
          schedule: [2],
          gammas: [0.1],
          seed: 7,
          ...trainPatch,
        },
      },
    ],
  });
  const configPath = join(root, 'tiny.tern.json');
  writeFileSync(configPath, text);
  return { experiment: parseConfigText(text, configPath).experiments[0]!, configPath, runsDir: join(root, 'runs') };
}

/** Epoch records without the wall-clock fields. */
export function epochMetrics(runDir: string): Omit<MetricsRecord, 'time' | 'imgPerSec'>[] {
  return readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as MetricsRecord)
    .filter((r) => r.kind === 'epoch')
    .map(({ time: _t, imgPerSec: _i, ...rest }) => rest);
}

/** The message the CLI prints for a user error (one line, no stack), or undefined for a bug. */
export function userErrorMessage(err: unknown): string | undefined {
  return isUserError(err) ? err.message : undefined;
}
