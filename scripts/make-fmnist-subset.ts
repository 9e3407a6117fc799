/**
 * Writes the small, class-balanced Fashion-MNIST subset embedded in the repository
 * (examples/data/fashion-mnist-subset/) from Debian's dataset-fashion-mnist package.
 *
 *   node --import tsx scripts/make-fmnist-subset.ts [--source DIR] [--out DIR]
 *        [--train-per-class N] [--test-per-class M]
 *
 * Selection: the first N (train) / M (test) examples of each class, in file order; the chosen
 * examples keep their file order. The output is the same four IDX .gz files as the original.
 * Deterministic: the gzip header carries no time stamp or OS, so the same zlib gives the same bytes;
 * the SHA-256 of the uncompressed files is printed and recorded in the README to check content.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, parseIdx } from '../server/data/idx';
import { readMaybeGzip } from '../server/data/files';
import { isDataError } from '../server/data/errors';

const CLASS_NAMES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

const { values } = parseArgs({
  options: {
    source: { type: 'string', default: '/usr/share/datasets/fashion-mnist' },
    out: { type: 'string', default: 'examples/data/fashion-mnist-subset' },
    'train-per-class': { type: 'string', default: '600' },
    'test-per-class': { type: 'string', default: '100' },
  },
});

function idxFile(magic: number, dims: number[], payload: Uint8Array): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, payload]);
}

/** gzip with a fixed header (mtime 0, OS "unknown"), so output bytes do not depend on when/where. */
function deterministicGzip(buf: Buffer): Buffer {
  const gz = gzipSync(buf, { level: 9 });
  gz.writeUInt32LE(0, 4); // MTIME
  gz[9] = 0xff; // OS: unknown
  return gz;
}

function sha256(buf: Uint8Array): string {
  return createHash('sha256').update(buf).digest('hex');
}

interface Written {
  name: string;
  count: number;
  gzBytes: number;
  rawSha256: string;
}

function subset(prefix: 'train' | 't10k', perClass: number, sourceDir: string, outDir: string): Written[] {
  const imagesName = `${prefix}-images-idx3-ubyte.gz`;
  const labelsName = `${prefix}-labels-idx1-ubyte.gz`;
  const images = parseIdx(readMaybeGzip(join(sourceDir, imagesName)), join(sourceDir, imagesName), IDX_IMAGES_MAGIC);
  const labels = parseIdx(readMaybeGzip(join(sourceDir, labelsName)), join(sourceDir, labelsName), IDX_LABELS_MAGIC);
  const [count, rows, cols] = images.dims;
  const pixels = rows * cols;
  const taken = new Array<number>(10).fill(0);
  const chosen: number[] = [];
  for (let i = 0; i < count; i++) {
    const label = labels.data[i];
    if (taken[label] < perClass) {
      taken[label]++;
      chosen.push(i);
    }
  }
  const short = taken.findIndex((t) => t < perClass);
  if (short >= 0) throw new Error(`${prefix}: class ${short} has only ${taken[short]} examples, fewer than ${perClass}`);
  const outImages = new Uint8Array(chosen.length * pixels);
  const outLabels = new Uint8Array(chosen.length);
  chosen.forEach((src, k) => {
    outImages.set(images.data.subarray(src * pixels, (src + 1) * pixels), k * pixels);
    outLabels[k] = labels.data[src];
  });
  const rawImages = idxFile(IDX_IMAGES_MAGIC, [chosen.length, rows, cols], outImages);
  const rawLabels = idxFile(IDX_LABELS_MAGIC, [chosen.length], outLabels);
  const written: Written[] = [];
  for (const [name, raw] of [
    [imagesName, rawImages],
    [labelsName, rawLabels],
  ] as const) {
    const gz = deterministicGzip(raw);
    writeFileSync(join(outDir, name), gz);
    written.push({ name, count: chosen.length, gzBytes: gz.length, rawSha256: sha256(raw) });
  }
  return written;
}

function readme(trainPerClass: number, testPerClass: number, files: Written[]): string {
  const rows = files.map((f) => `| \`${f.name}\` | ${f.count} | ${f.gzBytes.toLocaleString('en-US')} | \`${f.rawSha256}\` |`);
  const trainCount = trainPerClass * 10;
  const testCount = testPerClass * 10;
  return `# Fashion-MNIST subset (embedded demo data)

A small, class-balanced subset of **Fashion-MNIST** for the demo (\`npm run demo\`,
\`examples/fashion-mnist.tern.json\`): ${trainCount.toLocaleString('en-US')} training images
(${trainPerClass} per class) and ${testCount.toLocaleString('en-US')} test images (${testPerClass} per class),
28×28 grayscale, in the original IDX format (gzip-compressed), so the \`idx\` reader reads it like the full set.

## Source

Fashion-MNIST by Zalando Research (<https://github.com/zalandoresearch/fashion-mnist>), as packaged
by Debian in \`dataset-fashion-mnist\` (\`/usr/share/datasets/fashion-mnist/*.gz\`). Classes (label 0–9):
${CLASS_NAMES.map((n, i) => `${i} ${n}`).join(', ')}.

## How it was made

\`\`\`sh
sudo apt-get install dataset-fashion-mnist
node --import tsx scripts/make-fmnist-subset.ts --train-per-class ${trainPerClass} --test-per-class ${testPerClass}
\`\`\`

The script takes the first ${trainPerClass} (train) / ${testPerClass} (test) examples of each class in file
order (training images from \`train-*\`, test images from \`t10k-*\`) and keeps them in file order. It writes
the gzip files without a time stamp, so re-running it gives the same bytes with the same zlib;
the SHA-256 of the uncompressed files (below) checks the content whatever the zlib.

| file | examples | bytes (.gz) | SHA-256 of the uncompressed file |
|---|---|---|---|
${rows.join('\n')}

## License

Fashion-MNIST is released under the MIT License:

\`\`\`
The MIT License (MIT)

Copyright (c) 2017 Zalando SE

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
\`\`\`

Reference: Han Xiao, Kashif Rasul, Roland Vollgraf. *Fashion-MNIST: a Novel Image Dataset for
Benchmarking Machine Learning Algorithms.* arXiv:1708.07747, 2017.
`;
}

function main(): void {
  const trainPerClass = Number(values['train-per-class']);
  const testPerClass = Number(values['test-per-class']);
  for (const [flag, v] of [
    ['--train-per-class', trainPerClass],
    ['--test-per-class', testPerClass],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${flag} must be a positive integer`);
  }
  const sourceDir = values.source!;
  const outDir = values.out!;
  mkdirSync(outDir, { recursive: true });
  const files = [...subset('train', trainPerClass, sourceDir, outDir), ...subset('t10k', testPerClass, sourceDir, outDir)];
  writeFileSync(join(outDir, 'README.md'), readme(trainPerClass, testPerClass, files));
  for (const f of files)
    console.log(`${join(relative('.', outDir), f.name)}: ${f.count} examples, ${f.gzBytes} bytes, sha256(raw) ${f.rawSha256}`);
}

try {
  main();
} catch (err) {
  console.error(
    isDataError(err)
      ? `${err.message}\nInstall the source data with: sudo apt-get install dataset-fashion-mnist`
      : `make-fmnist-subset: ${(err as Error).message}`,
  );
  process.exit(1);
}
