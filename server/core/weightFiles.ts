/**
 * Reading the weight files a model.json lists, checked: every path stays inside the model's
 * folder (a model.json from elsewhere must not make us read `../../anything`), and each weights
 * group has exactly the bytes its manifest describes (a short file is truncated, a long one
 * belongs to another model; tfjs would otherwise fail with a message that names no file, or load
 * the wrong numbers without a word).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';

/** Bytes one manifest entry takes in the weight files, or undefined when it cannot be known (strings). */
function storedBytes(entry: tf.io.WeightsManifestEntry): number | undefined {
  const count = entry.shape.reduce((a, b) => a * b, 1);
  const quantized = entry.quantization?.dtype;
  if (quantized) return count * (quantized === 'uint8' ? 1 : 2);
  switch (entry.dtype) {
    case 'float32':
    case 'int32':
      return count * 4;
    case 'bool':
      return count;
    case 'complex64':
      return count * 8;
    default:
      return undefined;
  }
}

/** The weight specs and bytes of a model.json's manifest; errors are made by `fail(message, file)`. */
export async function readWeightGroups(
  modelFile: string,
  manifest: tf.io.WeightsManifestConfig,
  fail: (message: string, file: string) => Error,
): Promise<{ specs: tf.io.WeightsManifestEntry[]; buffers: ArrayBuffer[] }> {
  const dir = path.dirname(path.resolve(modelFile));
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: ArrayBuffer[] = [];
  for (const group of manifest) {
    specs.push(...group.weights);
    const files: { file: string; bytes: number }[] = [];
    for (const p of group.paths) {
      const weightFile = path.resolve(dir, p);
      const inside = path.relative(dir, weightFile);
      if (inside === '' || inside.startsWith('..') || path.isAbsolute(inside)) {
        throw fail(
          `${modelFile} lists the weight file "${p}", which is outside its folder ${dir}; refusing to read it. Weight files must sit next to model.json.`,
          modelFile,
        );
      }
      const data = await fs.readFile(weightFile).catch(() => {
        throw fail(`Weight file ${weightFile} (listed in ${modelFile}) is missing. Copy it next to model.json.`, modelFile);
      });
      files.push({ file: weightFile, bytes: data.byteLength });
      buffers.push(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer);
    }
    const sizes = group.weights.map(storedBytes);
    if (sizes.some((s) => s === undefined)) continue;
    const expected = (sizes as number[]).reduce((a, b) => a + b, 0);
    const actual = files.reduce((a, f) => a + f.bytes, 0);
    if (actual === expected) continue;
    const named = files.length === 1 ? `Weight file ${files[0]!.file}` : `Weight files ${files.map((f) => f.file).join(', ')}`;
    const has = `${files.length === 1 ? 'has' : 'have'} ${actual} bytes but ${path.basename(modelFile)} describes ${expected}`;
    throw fail(
      actual < expected
        ? `${named} (listed in ${modelFile}) ${has}: truncated, or from another model. Copy the model's files again.`
        : `${named} (listed in ${modelFile}) ${has}: longer than its manifest, so it belongs to another model.json or is damaged. Use the weights saved with this model.json.`,
      files[0]?.file ?? modelFile,
    );
  }
  return { specs, buffers };
}
