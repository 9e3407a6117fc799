/**
 * New Experiment Config's templates (extension/configTemplate.ts): every model × data format gives a
 * config the server's own check accepts, with a ternary experiment and its float baseline.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configTemplate, DATA_FORMATS, formatsFor, templateName, ZOO } from '../../extension/configTemplate';
import { checkConfigText } from '../../server/config/checkConfig';

test('every zoo model and a model file, on every data format, gives a config with no problem', () => {
  for (const model of [...ZOO, 'from']) {
    for (const format of DATA_FORMATS) {
      const text = configTemplate(model, format, model === 'from' ? 'nets/resnet18.onnx' : undefined);
      const checked = checkConfigText(text, `/ws/${templateName(model, format)}.tern.json`);
      assert.deepEqual(
        checked.problems.map((p) => `${p.property ?? ''}: ${p.detail}`),
        [],
        `${model} on ${format}:\n${text}`,
      );
      const experiments = checked.config!.experiments;
      assert.deepEqual(
        experiments.map((e) => e.quant.method),
        ['he2019', 'none'],
      );
      assert.equal(experiments[0]!.data.format, format);
    }
  }
});

test('the recipe suits the model: the paper fine-tuning recipe for a model file, the small nets in 10 epochs, CIFAR ResNets with the defaults', () => {
  const from = checkConfigText(configTemplate('from', 'image-folder', 'nets/resnet18.onnx'), '/ws/x.tern.json').config!.experiments[0]!;
  assert.equal(from.model.from, 'nets/resnet18.onnx');
  assert.equal(from.train.optimizer, 'adam');
  assert.equal(from.train.lr, 1e-4);
  assert.deepEqual(from.data.augment, ['rrc224', 'hflip']);
  const small = checkConfigText(configTemplate('fmnist-cnn', 'idx'), '/ws/x.tern.json').config!.experiments[0]!;
  assert.equal(small.train.epochs, 10);
  assert.equal(small.data.normalize, 'fmnist');
  const cifar = checkConfigText(configTemplate('resnet20', 'cifar10-bin'), '/ws/x.tern.json').config!.experiments[0]!;
  assert.equal(cifar.train.epochs, 200, "the schema's CIFAR recipe");
  assert.deepEqual(cifar.data.augment, ['crop32pad4', 'hflip']);
});

test('formats that suit a model come first; names are valid experiment names', () => {
  assert.equal(formatsFor('fmnist-cnn')[0], 'idx');
  assert.equal(formatsFor('resnet56')[0], 'cifar10-bin');
  assert.equal(formatsFor('resnet18')[0], 'image-folder');
  assert.equal(formatsFor('resnet18').length, DATA_FORMATS.length);
  assert.equal(templateName('from', 'image-folder', '/x/My Net (v2).onnx'), 'My-Net-v2-images');
  assert.equal(templateName('resnet20', 'cifar100-bin'), 'resnet20-cifar100');
});

test('CIFAR-10 and CIFAR-100 share one recipe: their templates differ in the class count, folder, files and normalization only', () => {
  const ten = checkConfigText(configTemplate('resnet20', 'cifar10-bin'), '/ws/x.tern.json').config!.experiments[0]!;
  const hundred = checkConfigText(configTemplate('resnet20', 'cifar100-bin'), '/ws/x.tern.json').config!.experiments[0]!;
  assert.deepEqual([ten.model.classes, hundred.model.classes], [10, 100]);
  assert.deepEqual([ten.data.normalize, hundred.data.normalize], ['cifar10', 'cifar100']);
  assert.deepEqual([ten.data.path, hundred.data.path], ['data/cifar-10-batches-bin', 'data/cifar-100-binary']);
  const same = (e: typeof ten) => ({
    ...e,
    name: '',
    model: { ...e.model, classes: 0 },
    data: { ...e.data, format: '', path: '', normalize: '' },
  });
  assert.deepEqual(same(hundred), same(ten));
  assert.match(configTemplate('resnet20', 'cifar100-bin'), /the cifar-100-binary folder \(train\.bin, test\.bin\)/);
});
