/**
 * server/models/layerClasses.ts lists every layer class a model.json of the studio can hold; this
 * checks the list against what the code puts into models, both ways:
 *  - every tfjs-layers factory and every custom layer of server/core/layers that the zoo and the
 *    ONNX importer call (found in their sources, so a new one fails here until the list and the
 *    engines have it),
 *  - every class in the zoo's models, in their ternary twins from
 *    convertToTernary, and in every ONNX fixture the importer takes (test/fixtures/onnx/),
 *  - and no class in the list that none of these emits.
 * test/unit/engines-torch-layers.test.ts checks that the torch engine trains every class listed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { layers, type LayersModel } from '@tensorflow/tfjs-layers';
import * as customLayers from '../../server/core/layers';
import { ARCHITECTURES, buildModel, convertToTernary } from '../../server/models';
import { MODEL_LAYER_CLASSES } from '../../server/models/layerClasses';
import { importOnnx } from '../../server/formats/onnx/import';

const root = join(__dirname, '..', '..');
const SOURCES = [join(root, 'server', 'models'), join(root, 'server', 'formats', 'onnx', 'import')];
const FIXTURES = join(root, 'test', 'fixtures', 'onnx');
const listed = new Set<string>(MODEL_LAYER_CLASSES);

/** Arguments every layer factory the sources call accepts, for reading the class it makes. */
const FACTORY_ARGS = {
  filters: 1,
  kernelSize: 1,
  units: 1,
  poolSize: 1,
  targetShape: [1],
  dims: [1],
  cropping: 1,
  rate: 0.5,
  activation: 'linear',
};

function sourceTexts(): string[] {
  return SOURCES.flatMap((dir) =>
    readdirSync(dir)
      .filter((f) => f.endsWith('.ts'))
      .map((f) => readFileSync(join(dir, f), 'utf8')),
  );
}

function classesOf(model: LayersModel): string[] {
  return model.layers.map((l) => l.getClassName());
}

const emitted = new Map<string, string>();
function note(classes: string[], where: string): void {
  for (const c of classes) if (!emitted.has(c)) emitted.set(c, where);
}

test('every layer factory and custom layer the zoo and the importer call makes a listed class', () => {
  const texts = sourceTexts();
  const factories = new Set(texts.flatMap((s) => [...s.matchAll(/(?<![\w/-])layers\.([a-z]\w*)\b/g)].map((m) => m[1]!)));
  assert.ok(factories.size > 10, `found the factories: ${[...factories].join(', ')}`);
  const table = layers as unknown as Record<string, (args: object) => { getClassName(): string }>;
  for (const f of factories) {
    assert.equal(typeof table[f], 'function', `layers.${f} is a tfjs-layers factory`);
    const cls = table[f]!(FACTORY_ARGS).getClassName();
    assert.ok(
      listed.has(cls),
      `layers.${f} (${cls}) is called in server/models or server/formats/onnx/import but missing from MODEL_LAYER_CLASSES`,
    );
    note([cls], `layers.${f}`);
  }
  const custom = Object.entries(customLayers).filter(([, v]) => typeof v === 'function' && 'className' in v) as [
    string,
    { className: string },
  ][];
  for (const [name, cls] of custom) {
    if (!texts.some((s) => new RegExp(`new ${name}\\(`).test(s))) continue;
    assert.ok(
      listed.has(cls.className),
      `${name} is made in server/models or server/formats/onnx/import but missing from MODEL_LAYER_CLASSES`,
    );
    note([cls.className], `new ${name}`);
  }
});

/** Zoo architectures built by the same function as a smaller one (deeper ResNets): the same classes. */
const SAME_BUILDER_AS: Record<string, string> = { resnet32: 'resnet20', resnet44: 'resnet20', resnet56: 'resnet20', resnet34: 'resnet18' };

test('the zoo and its ternary twins hold listed classes only', async () => {
  await tf.setBackend('cpu');
  const float = { method: 'none' as const, thresholdFactor: 0.05, threshold: 'fixed', tex: 1 as const, firstLast: 'float' as const };
  for (const arch of Object.keys(ARCHITECTURES)) {
    if (SAME_BUILDER_AS[arch]) {
      assert.ok(ARCHITECTURES[SAME_BUILDER_AS[arch]!], `${arch} stands for ${SAME_BUILDER_AS[arch]}`);
      continue;
    }
    // Small inputs: the classes do not depend on the size (AlexNet needs 64 px for its pools).
    const inputShape = arch === 'alexnet' ? [64, 64, 3] : [32, 32, ARCHITECTURES[arch]!.inputShape[2]!];
    const model = buildModel({ arch, classes: 3, inputShape, quant: float, seed: 1 });
    const twin = await convertToTernary(model, {
      method: 'he2019',
      thresholdFactor: 0.05,
      threshold: 'fixed',
      tex: 2,
      firstLast: 'ternary',
    });
    for (const [what, m] of [
      [`zoo ${arch}`, model],
      [`ternary twin of ${arch}`, twin],
    ] as const) {
      note(classesOf(m), what);
      assert.deepEqual(
        classesOf(m).filter((c) => !listed.has(c)),
        [],
        what,
      );
    }
    twin.dispose();
    model.dispose();
  }
});

test('every ONNX fixture the importer takes holds listed classes only, and so does its ternary twin', async () => {
  const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.onnx') && !f.startsWith('bad_'));
  assert.ok(files.length >= 5, files.join(', '));
  for (const file of files) {
    const model = await importOnnx(join(FIXTURES, file));
    note(classesOf(model), file);
    assert.deepEqual(
      classesOf(model).filter((c) => !listed.has(c)),
      [],
      file,
    );
    const hasKernels = classesOf(model).some((c) => c === 'Conv2D' || c === 'Dense');
    if (!hasKernels) {
      model.dispose(); // nothing to ternarize
      continue;
    }
    const twin = await convertToTernary(model, { method: 'he2019', thresholdFactor: 0.05, threshold: 'fixed', tex: 1, firstLast: 'float' });
    assert.deepEqual(
      classesOf(twin).filter((c) => !listed.has(c)),
      [],
      `ternary twin of ${file}`,
    );
    twin.dispose();
    model.dispose();
  }
});

test('MODEL_LAYER_CLASSES lists nothing the code does not emit', () => {
  assert.deepEqual(
    MODEL_LAYER_CLASSES.filter((c) => !emitted.has(c)),
    [],
    'classes listed but made by no factory call, zoo model or imported fixture',
  );
});
