/**
 * The text of a new experiment config (Ternary: New Experiment Config,
 * extension/commands/newConfig.ts): a ternary experiment and its float baseline for a zoo model or
 * a model file, on a data format, with the recipe that suits them and comments saying what to edit.
 * Pure, so a unit test checks that every template passes the server's own config check.
 */
import schema from '../shared/tern.schema.json';

export type DataFormat = 'idx' | 'cifar10-bin' | 'cifar100-bin' | 'image-folder';
/** A zoo architecture (the schema's list), or `from`: fine-tune a model file. */
export type TemplateModel = string;

/** The zoo, as the schema lists it (one place). */
export const ZOO: readonly string[] = schema.definitions.model.properties.arch.enum;
export const DATA_FORMATS: readonly DataFormat[] = schema.definitions.data.properties.format.enum as DataFormat[];

interface DataDefaults {
  path: string;
  classes: number;
  normalize?: string;
  augment: string[];
  /** What to put in data.path, said in a comment. */
  hint: string;
}

/** CIFAR-10 and CIFAR-100 binaries differ only in their class count, folder and files: one recipe. */
const CIFAR: Record<'cifar10-bin' | 'cifar100-bin', { classes: number; path: string; files: string }> = {
  'cifar10-bin': { classes: 10, path: 'data/cifar-10-batches-bin', files: 'data_batch_1.bin … test_batch.bin' },
  'cifar100-bin': { classes: 100, path: 'data/cifar-100-binary', files: 'train.bin, test.bin' },
};

function dataDefaults(format: DataFormat, imageNetSized: boolean): DataDefaults {
  switch (format) {
    case 'idx':
      return {
        path: 'data/fashion-mnist',
        classes: 10,
        normalize: 'fmnist',
        augment: [],
        hint: 'a folder with train-images-idx3-ubyte(.gz), train-labels-…, t10k-images-…, t10k-labels-… (Debian: /usr/share/datasets/fashion-mnist)',
      };
    case 'cifar10-bin':
    case 'cifar100-bin': {
      const cifar = CIFAR[format];
      return {
        path: cifar.path,
        classes: cifar.classes,
        normalize: `cifar${cifar.classes}`,
        augment: ['crop32pad4', 'hflip'],
        hint: `the ${cifar.path.split('/').pop()} folder (${cifar.files})`,
      };
    }
    case 'image-folder':
      return {
        path: 'data/images',
        classes: 10,
        normalize: 'imagenet',
        augment: imageNetSized ? ['rrc224', 'hflip'] : ['hflip'],
        hint: 'a folder with train/ and test/ (or val/), one sub-folder of PNG/JPEG images per class; set "classes" to their number',
      };
  }
}

/** The training recipe for a model: only what differs from the schema's defaults (the CIFAR ResNet recipe). */
function recipe(model: TemplateModel): Record<string, unknown> | undefined {
  if (model === 'from') {
    // The paper's fine-tuning recipe for a pretrained model (docs/configs.md).
    return { epochs: 50, batchSize: 64, optimizer: 'adam', lr: 1e-4, weightDecay: 5e-6, schedule: [30, 40, 45], gammas: [0.2, 0.2, 0.5] };
  }
  if (model === 'fmnist-cnn' || model === 'lenet5') {
    return { epochs: 10, batchSize: 128, lr: 0.05, weightDecay: 1e-4, schedule: [6, 9], gammas: [0.1, 0.1] };
  }
  if (model === 'resnet18' || model === 'resnet34' || model === 'alexnet') {
    return { epochs: 90, batchSize: 256, lr: 0.1, weightDecay: 1e-4, schedule: [30, 60, 80], gammas: [0.1, 0.1, 0.1] };
  }
  return undefined;
}

/** The formats that suit a model, best first (any format trains any model; these are offered first). */
export function formatsFor(model: TemplateModel): DataFormat[] {
  const first: DataFormat[] =
    model === 'fmnist-cnn' || model === 'lenet5'
      ? ['idx']
      : model.startsWith('resnet') && ['resnet20', 'resnet32', 'resnet44', 'resnet56'].includes(model)
        ? ['cifar10-bin', 'cifar100-bin']
        : ['image-folder'];
  return [...first, ...DATA_FORMATS.filter((f) => !first.includes(f))];
}

/** A name for experiments and the file: letters, digits, '.', '_' and '-' (the schema's rule for names). */
export function templateName(model: TemplateModel, format: DataFormat, modelFile?: string): string {
  const base = model === 'from' ? (modelFile ?? 'model').replace(/\.(json|onnx)$/i, '').replace(/^.*[\\/]/, '') : model;
  const data = { idx: 'fmnist', 'cifar10-bin': 'cifar10', 'cifar100-bin': 'cifar100', 'image-folder': 'images' }[format];
  return (
    `${base}-${data}`
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/-{2,}/g, '-')
      .replace(/^[^A-Za-z0-9]+/, '') || 'experiment'
  );
}

/** JSON on one line, spaced as people write it: `{ "arch": "resnet20", "classes": 10 }`. */
function inline(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(inline).join(', ')}]`;
  if (value !== null && typeof value === 'object')
    return `{ ${Object.entries(value)
      .map(([k, v]) => `${JSON.stringify(k)}: ${inline(v)}`)
      .join(', ')} }`;
  return JSON.stringify(value);
}

/** The config text: JSON with comments, two experiments (ternary, float baseline). */
export function configTemplate(model: TemplateModel, format: DataFormat, modelFile?: string): string {
  const imageNetSized = model === 'resnet18' || model === 'resnet34' || model === 'alexnet' || model === 'from';
  const data = dataDefaults(format, imageNetSized);
  const name = templateName(model, format, modelFile);
  const modelJson = inline(
    model === 'from' ? { from: modelFile ?? 'models/model.onnx', classes: data.classes } : { arch: model, classes: data.classes },
  );
  const dataJson = inline({
    format,
    path: data.path,
    ...(format === 'image-folder' ? { imageSize: imageNetSized ? [224, 224] : [64, 64] } : {}),
    ...(data.augment.length ? { augment: data.augment } : {}),
    ...(data.normalize ? { normalize: data.normalize } : {}),
  });
  const train = recipe(model);
  const trainLine = train ? `\n      "train": ${inline(train)},` : '';
  const experiment = (suffix: string, quant: Record<string, unknown>, comment: string) =>
    `    {
      // ${comment}
      "name": "${name}-${suffix}",
      "model": ${modelJson},
      "quant": ${inline(quant)},
      "data": ${dataJson},${trainLine}
    }`.replace(/,\n {4}}$/, '\n    }');
  return `// Experiments for Ternary Studio (docs/configs.md).
// data.path, relative to this file: ${data.hint}.
// Train with the lens above an experiment, or \`tern train <this file> --experiment NAME\`.
{
  "experiments": [
${experiment('tern', { method: 'he2019', thresholdFactor: 0.05, tex: 1 }, 'Ternary weights in every conv and dense layer (2 bits a weight).')},
${experiment('float', { method: 'none' }, 'The same network in full precision: the baseline the ternary one is compared with.')}
  ]
}
`;
}
