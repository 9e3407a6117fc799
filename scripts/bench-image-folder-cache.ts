/**
 * The tfjs engine's image-folder reader with and without its decoded-image cache
 * (server/data/imageFolder.ts DECODED_CACHE_BYTES): images/s of two passes over a folder's
 * training split, batches of 128 in a shuffled order, as the training loop asks for them — once
 * with no cache (every pass reads and decodes every file, as before the cache) and once with the
 * default budget (the first pass decodes and keeps, the second reads from memory).
 *
 *   node --import tsx scripts/bench-image-folder-cache.ts --data /tmp/fmnist-folder [--limit 20000]
 *
 * Prints one JSON object with the machine's load average before and after.
 */
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { DECODED_CACHE_BYTES, imageFolderSource, listImageFolder } from '../server/data/imageFolder';
import { Rng, permutation } from '../server/data/rng';

const { values } = parseArgs({
  options: { data: { type: 'string' }, limit: { type: 'string' }, batch: { type: 'string', default: '128' } },
});
if (!values.data) {
  process.stderr.write('bench-image-folder-cache: --data FOLDER is required (e.g. made by scripts/make-fmnist-folder.ts).\n');
  process.exit(2);
}
const listing = listImageFolder(values.data, 'train', values.limit ? Number(values.limit) : undefined);
const batch = Number(values.batch);

async function pass(source: ReturnType<typeof imageFolderSource>, seed: number): Promise<number> {
  const order = permutation(listing.files.length, new Rng(seed));
  const t0 = performance.now();
  for (let b = 0; b < order.length; b += batch) {
    const next = order.subarray(b + batch, b + 2 * batch);
    if (next.length) source.prefetch?.(next);
    await source.load(order.subarray(b, b + batch));
  }
  return Math.round(order.length / ((performance.now() - t0) / 1000));
}

async function main(): Promise<void> {
  const loadBefore = loadavg();
  const result: Record<string, { pass1: number; pass2: number }> = {};
  for (const [name, cacheBytes] of [
    ['noCache', 0],
    ['cache', DECODED_CACHE_BYTES],
  ] as const) {
    const source = imageFolderSource(listing, { cacheBytes });
    result[name] = { pass1: await pass(source, 1), pass2: await pass(source, 2) };
  }
  const out = {
    benchmark: 'tfjs image-folder reader: images/s per pass, without and with the decoded-image cache',
    folder: values.data,
    images: listing.files.length,
    batch,
    cacheBytes: DECODED_CACHE_BYTES,
    ...result,
    cpu: cpus()[0]?.model,
    loadBefore,
    loadAfter: loadavg(),
  };
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
}

void main();
