/**
 * Writes a synthetic image folder (<root>/train/<class>/*.jpg, <root>/val/<class>/*.jpg) of
 * JPEGs a network can learn: class k is a horizontal colour gradient with a bright bar at a
 * class-dependent height, plus seeded noise. Used by the tests and by the data benchmark
 * (scripts/bench-torch-data.ts), so nothing is downloaded.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as jpeg from 'jpeg-js';
import { Rng } from '../../server/data/rng';

export interface SyntheticFolderOptions {
  classes: number;
  trainPerClass: number;
  testPerClass: number;
  /** [height, width] of every image. */
  size: [number, number];
  /** JPEG quality, 1..100 (default 90). */
  quality?: number;
  seed?: number;
}

function classImage(k: number, classes: number, height: number, width: number, rng: Rng, quality: number): Buffer {
  const data = Buffer.alloc(width * height * 4);
  const hue = k / classes;
  const bar = Math.floor(((k + 0.5) / classes) * height);
  const barHalf = Math.max(1, Math.floor(height / (3 * classes)));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const t = x / width;
      const onBar = Math.abs(y - bar) <= barHalf;
      const noise = (rng.next() - 0.5) * 60;
      const r = onBar ? 240 : 255 * (0.5 + 0.5 * Math.sin(2 * Math.PI * (hue + t)));
      const g = onBar ? 240 : 255 * (0.5 + 0.5 * Math.sin(2 * Math.PI * (hue + t + 1 / 3)));
      const b = onBar ? 240 : 255 * (0.5 + 0.5 * Math.sin(2 * Math.PI * (hue + t + 2 / 3)));
      data.set(
        [r + noise, g + noise, b + noise, 255].map((v) => Math.max(0, Math.min(255, Math.round(v)))),
        (y * width + x) * 4,
      );
    }
  }
  return jpeg.encode({ width, height, data }, quality).data;
}

/** Writes the folder under `root`; returns the class names (c00, c01, …). */
export function writeSyntheticImageFolder(root: string, o: SyntheticFolderOptions): string[] {
  const rng = new Rng(o.seed ?? 1);
  const names = Array.from({ length: o.classes }, (_, k) => `c${String(k).padStart(2, '0')}`);
  for (const [split, count] of [
    ['train', o.trainPerClass],
    ['val', o.testPerClass],
  ] as const) {
    names.forEach((name, k) => {
      const dir = join(root, split, name);
      mkdirSync(dir, { recursive: true });
      for (let i = 0; i < count; i++)
        writeFileSync(join(dir, `${String(i).padStart(5, '0')}.jpg`), classImage(k, o.classes, o.size[0], o.size[1], rng, o.quality ?? 90));
    });
  }
  return names;
}
