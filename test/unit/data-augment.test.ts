import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  flipHorizontal,
  parseAugmentations,
  pipelineOutputSize,
  randomResizedCropBox,
  resizeCenterCropImage,
  roundHalfEven,
} from '../../server/data/augment';
import { BatchedDataset, memorySource } from '../../server/data/batcher';
import type { Batch, BatchOptions } from '../../server/data/dataset';
import { DataError } from '../../server/data/errors';
import { resolveNormalization, NORMALIZATION_PRESETS } from '../../server/data/normalize';
import { resizeBilinear, type Image } from '../../server/data/resize';
import { Rng } from '../../server/data/rng';

const img = (height: number, width: number, channels: number, values: number[]): Image => ({
  height,
  width,
  channels,
  data: Uint8Array.from(values),
});

/** An Rng whose nextInt/next return scripted values (to place crops exactly). */
function scripted(ints: number[], floats: number[] = []): Rng {
  return { nextInt: () => ints.shift()!, next: () => floats.shift()! } as unknown as Rng;
}

test('hflip mirrors columns of a 2×3 image, per channel', () => {
  assert.deepEqual([...flipHorizontal(img(2, 3, 1, [1, 2, 3, 4, 5, 6])).data], [3, 2, 1, 6, 5, 4]);
  assert.deepEqual([...flipHorizontal(img(1, 2, 3, [1, 2, 3, 4, 5, 6])).data], [4, 5, 6, 1, 2, 3]);
  const [flip] = parseAugmentations(['hflip']).train;
  assert.deepEqual([...flip.apply(img(1, 2, 1, [7, 8]), scripted([], [0.49])).data], [8, 7]);
  assert.deepEqual([...flip.apply(img(1, 2, 1, [7, 8]), scripted([], [0.5])).data], [7, 8]);
});

test('crop<s>pad<p> gives zeros exactly where the window leaves the image', () => {
  const src = img(2, 2, 1, [1, 2, 3, 4]);
  const [crop] = parseAugmentations(['crop2pad1']).train;
  // top, left are drawn in [0, 2] (h + 2p − s + 1 = 3 choices).
  assert.deepEqual([...crop.apply(src, scripted([0, 0])).data], [0, 0, 0, 1]);
  assert.deepEqual([...crop.apply(src, scripted([2, 1])).data], [3, 4, 0, 0]);
  assert.deepEqual([...crop.apply(src, scripted([1, 2])).data], [2, 0, 4, 0]);
  const [whole] = parseAugmentations(['crop4pad1']).train;
  assert.deepEqual([...whole.apply(src, scripted([0, 0])).data], [0, 0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0, 0, 0, 0, 0]);
  // Two channels: both zero in the padding.
  const two = img(1, 1, 2, [9, 8]);
  const [c3] = parseAugmentations(['crop3pad1']).train;
  assert.deepEqual([...c3.apply(two, scripted([0, 0])).data], [0, 0, 0, 0, 0, 0, 0, 0, 9, 8, 0, 0, 0, 0, 0, 0, 0, 0]);
  // Evaluation: centre crop of the padded image; identity at full size.
  const [evalCrop] = parseAugmentations(['crop2pad1']).eval;
  assert.equal(evalCrop.apply(src, scripted([])), src);
  assert.throws(
    () => parseAugmentations(['crop9pad1']).train[0].outputSize(2, 2),
    (e: unknown) => e instanceof DataError && /does not fit/.test(e.message),
  );
});

test('bilinear resize matches PyTorch (interpolate, bilinear, antialias, align_corners=False)', () => {
  const values: number[] = [];
  for (let r = 0; r < 5; r++) for (let c = 0; c < 7; c++) values.push((((r * 7 + c * 3) % 11) * 20) % 256);
  const src = img(5, 7, 1, values);
  // Reference values computed with torch.nn.functional.interpolate (python3-torch).
  const down = [86.9388, 109.3714, 91.5429, 78.7755, 114.709, 111.4667, 79.1111, 122.0106, 134.8299, 84.2286, 101.6, 102.7211];
  const up = [
    0.0, 27.2727, 65.4545, 103.6364, 141.8182, 180.0, 78.1818, 36.3636, 74.5455, 112.7273, 140.0, 46.6667, 73.9394, 105.4546, 96.9697,
    115.1515, 153.3333, 98.1818, 63.0303, 54.5454, 86.0606, 113.3333, 124.4445, 151.7172, 172.1212, 85.8586, 70.7071, 108.8889, 131.5152,
    107.4748, 21.2121, 41.6162, 68.8889, 104.4444, 131.7172, 158.7879, 119.1919, 88.4849, 64.4444, 102.6263, 107.4748, 67.8788, 94.9495,
    122.2222, 60.0, 87.2727, 125.4545, 163.6364, 121.8182, 20.0, 58.1818, 96.3636, 134.5455, 172.7273, 200.0, 137.7778, 109.495, 81.0101,
    119.1919, 121.8182, 97.7778, 58.1818, 51.9192, 90.101, 128.2828, 155.5555, 191.1111, 129.4949, 58.7879, 81.4141, 112.9293, 151.1111,
    64.8485, 31.9192, 70.101, 94.9495, 111.1111, 146.6666, 140.6061, 125.4546, 70.303, 68.4848, 106.6666, 98.1818, 109.697, 147.8788,
    106.0606, 66.6666, 120.0, 147.2727, 165.4546, 63.6364, 41.8182, 80.0, 118.1818, 156.3636, 194.5455, 112.7273, 40.0,
  ];
  const d = resizeBilinear(src, 3, 4);
  d.data.forEach((v, i) => assert.ok(Math.abs(v - down[i]) < 1e-3, `down[${i}] ${v} vs ${down[i]}`));
  const u = resizeBilinear(src, 9, 11);
  u.data.forEach((v, i) => assert.ok(Math.abs(v - up[i]) < 1e-3, `up[${i}] ${v} vs ${up[i]}`));
  // 1-D by hand: [0, 10] → 4 samples with half-pixel centres.
  assert.deepEqual([...resizeBilinear(img(1, 2, 1, [0, 10]), 1, 4).data], [0, 2.5, 7.5, 10]);
});

test('resize<r>center<c> equals Resize(r) then CenterCrop(c) done in two steps', () => {
  const values = Array.from({ length: 6 * 9 * 3 }, (_, i) => (i * 37) % 256);
  const src = img(6, 9, 3, values);
  const out = resizeCenterCropImage(src, 4, 3);
  // Resize(4): shorter side 6 → 4, longer 9 → int(4·9/6) = 6; CenterCrop(3): top round(0.5) = 0, left round(1.5) = 2.
  const full = resizeBilinear(src, 4, 6);
  const expected: number[] = [];
  for (let y = 0; y < 3; y++) for (let x = 2; x < 5; x++) for (let c = 0; c < 3; c++) expected.push(full.data[(y * 6 + x) * 3 + c]);
  assert.equal(out.height, 3);
  assert.equal(out.width, 3);
  out.data.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-3, `${i}: ${v} vs ${expected[i]}`));
  assert.equal(roundHalfEven(0.5), 0);
  assert.equal(roundHalfEven(1.5), 2);
  assert.equal(roundHalfEven(2.5), 2);
  assert.equal(roundHalfEven(-0.5), -0);
});

test('random-resized-crop boxes respect scale (0.08, 1) and ratio (3/4, 4/3); fallback is the centred crop', () => {
  const rng = new Rng(11);
  for (let i = 0; i < 2000; i++) {
    const b = randomResizedCropBox(120, 160, rng);
    assert.ok(b.top >= 0 && b.left >= 0 && b.top + b.height <= 120 && b.left + b.width <= 160);
    const area = (b.height * b.width) / (120 * 160);
    assert.ok(area > 0.07 && area <= 1, `area ${area}`);
    const ratio = b.width / b.height;
    assert.ok(ratio > 0.7 && ratio < 1.45, `ratio ${ratio}`);
  }
  // A 1×100 strip: no draw fits, fallback h = 1, w = round(1 · 4/3) = 1, centred.
  assert.deepEqual(randomResizedCropBox(1, 100, new Rng(1)), { top: 0, left: 49, height: 1, width: 1 });
  // 100×10: in-ratio 0.1 < 3/4 → w = 10, h = round(10 / 0.75) = 13, top = floor(87/2) = 43.
  assert.deepEqual(randomResizedCropBox(100, 10, new Rng(1)), { top: 43, left: 0, height: 13, width: 10 });
  const { train, eval: evalList } = parseAugmentations(['rrc8', 'hflip']);
  assert.deepEqual(pipelineOutputSize(train, 30, 50), [8, 8]);
  assert.deepEqual(
    evalList.map((t) => t.name),
    ['resize9center8'],
  );
  const withEval = parseAugmentations(['rrc224', 'hflip', 'resize256center224']);
  assert.deepEqual(
    withEval.train.map((t) => t.name),
    ['rrc224', 'hflip'],
  );
  assert.deepEqual(
    withEval.eval.map((t) => t.name),
    ['resize256center224'],
  );
  assert.throws(() => parseAugmentations(['crop32pad4', 'vflip']), /Unknown augmentation "vflip" in data\.augment/);
});

test('normalization presets: pixel/255 then (v − mean) / std per channel', () => {
  const a = resolveNormalization('cifar10', 3);
  const { mean, std } = NORMALIZATION_PRESETS.cifar10;
  for (let c = 0; c < 3; c++) assert.ok(Math.abs(200 * a.scale[c] + a.bias[c] - (200 / 255 - mean[c]) / std[c]) < 1e-5);
  assert.ok(Math.abs(mean[0] - 0.4914) < 1e-4 && Math.abs(std[2] - 0.2616) < 1e-4);
  const im = resolveNormalization('imagenet', 3);
  assert.ok(Math.abs(255 * im.scale[2] + im.bias[2] - (1 - 0.406) / 0.225) < 1e-5);
  const mn = resolveNormalization('mnist', 1);
  assert.ok(Math.abs(0 * mn.scale[0] + mn.bias[0] - -0.1307 / 0.3081) < 1e-6);
  const none = resolveNormalization(undefined, 3);
  assert.ok(Math.abs(255 * none.scale[1] + none.bias[1] - 1) < 1e-7);
  // One value broadcasts over channels.
  const one = resolveNormalization({ mean: [0.5], std: [0.5] }, 3);
  assert.ok(Math.abs(255 * one.scale[2] + one.bias[2] - 1) < 1e-6);
  assert.throws(() => resolveNormalization('cifar', 3), /Unknown normalization preset "cifar"/);
  assert.throws(() => resolveNormalization({ mean: [0.5, 0.5, 0.5], std: [0, 1, 1] }, 3), /std must be > 0/);
});

/** 40 random 6×6×3 images in memory, labels i % 4, with crop + flip augmentation. */
function augmentedSet(): BatchedDataset {
  const rng = new Rng(5);
  const pixels = Uint8Array.from({ length: 40 * 108 }, () => rng.nextInt(256));
  const labels = Int32Array.from({ length: 40 }, (_, i) => i % 4);
  const p = parseAugmentations(['crop6pad2', 'hflip']);
  return new BatchedDataset({
    split: 'train',
    source: memorySource(pixels, labels, 6, 6, 3),
    inputShape: [6, 6, 3],
    numClasses: 4,
    description: 'memory',
    trainTransforms: p.train,
    evalTransforms: p.eval,
    affine: resolveNormalization('cifar10', 3),
  });
}

async function collect(ds: BatchedDataset, opts: Partial<BatchOptions>): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of ds.batches({ batchSize: 16, shuffle: true, seed: 3, epoch: 0, ...opts })) out.push(b);
  return out;
}

test('batches are deterministic: same seed + epoch → same batches, whatever ran before', async () => {
  const a = augmentedSet();
  await collect(a, { epoch: 0 });
  const afterEpoch0 = await collect(a, { epoch: 1 });
  const fresh = await collect(augmentedSet(), { epoch: 1 });
  assert.deepEqual(afterEpoch0, fresh);
  const other = await collect(augmentedSet(), { epoch: 2 });
  assert.notDeepEqual(other[0].x, fresh[0].x);
  assert.notDeepEqual(other[0].y, fresh[0].y);
  // Every example exactly once per epoch.
  const labels = fresh.flatMap((b) => [...b.y]);
  assert.equal(labels.length, 40);
  assert.deepEqual(
    [0, 1, 2, 3].map((k) => labels.filter((l) => l === k).length),
    [10, 10, 10, 10],
  );
  // Without augmentation (evaluation) the images are the stored ones, normalized.
  const plain = await collect(augmentedSet(), { augment: false, shuffle: false });
  const ref = await collect(augmentedSet(), { augment: false, shuffle: false, seed: 99 });
  assert.deepEqual(plain, ref);
  // Augmentation draws differ from the plain images but keep the padding value where zero-padded.
  const augmented = await collect(augmentedSet(), { shuffle: false });
  assert.notDeepEqual(augmented[0].x, plain[0].x);
  const padValue = resolveNormalization('cifar10', 3).bias[0];
  assert.ok(augmented.some((b) => b.x.some((v) => Math.abs(v - padValue) < 1e-6)));
});
