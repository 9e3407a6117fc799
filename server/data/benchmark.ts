/**
 * Times the data side of training, to compare with a training step:
 *   - reading all of an IDX training set (Fashion-MNIST .gz from Debian when installed),
 *   - assembling augmented batches of 128 CIFAR-shaped images (crop32pad4 + hflip + cifar10).
 *
 *   node --import tsx server/data/benchmark.ts [--idx DIR] [--batches N]
 *
 * Prints JSON lines. Synthetic random pixels stand in for CIFAR: cost depends on shape, not content.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseAugmentations } from './augment';
import { BatchedDataset, memorySource } from './batcher';
import { loadIdxSplit } from './idx';
import { resolveNormalization } from './normalize';
import { Rng } from './rng';

export interface DataBenchResult {
  name: string;
  ms: number;
  detail: string;
}

/** Reads a whole IDX training split; undefined when the folder lacks the files. */
export function benchIdxRead(dir: string): DataBenchResult | undefined {
  if (!existsSync(join(dir, 'train-images-idx3-ubyte.gz')) && !existsSync(join(dir, 'train-images-idx3-ubyte'))) return undefined;
  const t0 = performance.now();
  const d = loadIdxSplit(dir, 'train');
  return { name: 'idx-read-train', ms: performance.now() - t0, detail: `${d.count} images ${d.height}×${d.width} from ${dir}` };
}

/** Mean milliseconds per batch of `batchSize` 32×32×3 images through `augment` + normalization. */
export async function benchBatchAssembly(augment: string[], batchSize = 128, batches = 50): Promise<DataBenchResult> {
  const count = batchSize * batches;
  const rng = new Rng(1);
  const pixels = new Uint8Array(count * 3072);
  for (let i = 0; i < pixels.length; i += 4) {
    const v = rng.nextUint32();
    pixels[i] = v & 255;
    pixels[i + 1] = (v >>> 8) & 255;
    pixels[i + 2] = (v >>> 16) & 255;
    pixels[i + 3] = v >>> 24;
  }
  const labels = Int32Array.from({ length: count }, (_, i) => i % 10);
  const p = parseAugmentations(augment);
  const ds = new BatchedDataset({
    split: 'train',
    source: memorySource(pixels, labels, 32, 32, 3),
    inputShape: [32, 32, 3],
    numClasses: 10,
    description: 'synthetic',
    trainTransforms: p.train,
    evalTransforms: p.eval,
    affine: resolveNormalization('cifar10', 3),
  });
  // One warm-up pass so the JIT has compiled the loops.
  for await (const _ of ds.batches({ batchSize, shuffle: true, seed: 1, epoch: 0 })) void _;
  const t0 = performance.now();
  let n = 0;
  for await (const b of ds.batches({ batchSize, shuffle: true, seed: 1, epoch: 1 })) n += b.n;
  const ms = (performance.now() - t0) / batches;
  return {
    name: `batch-${batchSize}-32x32x3`,
    ms,
    detail: `${augment.join('+') || 'no augmentation'} + cifar10 normalization, ${n} images`,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { idx: { type: 'string', default: '/usr/share/datasets/fashion-mnist' }, batches: { type: 'string', default: '50' } },
  });
  const read = benchIdxRead(values.idx!);
  if (read) console.log(JSON.stringify(read));
  else console.log(JSON.stringify({ name: 'idx-read-train', skipped: `no IDX training files in ${values.idx}` }));
  for (const augment of [[], ['crop32pad4', 'hflip'], ['rrc32', 'hflip']]) {
    console.log(JSON.stringify(await benchBatchAssembly(augment, 128, Number(values.batches))));
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
}
