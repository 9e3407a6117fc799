/**
 * Ternary: New Experiment Config: asks for a model (a zoo architecture or a model file to
 * fine-tune) and a data format, writes a `*.tern.json` with a ternary experiment and its float
 * baseline (extension/configTemplate.ts) into the workspace and opens it; its lenses train it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { configTemplate, formatsFor, templateName, ZOO, type DataFormat } from '../configTemplate';
import { registerCommand, UserCancelled, UserFacingError } from './errors';
import type { Services } from './services';
import { writeNewConfigFile } from '../configFileWrite';

const MODEL_DESCRIPTIONS: Record<string, string> = {
  'fmnist-cnn': 'small CNN for 28×28 grey images (Fashion-MNIST)',
  lenet5: 'LeNet-5, 28×28 grey images',
  resnet20: 'CIFAR ResNet, 32×32 colour images',
  resnet32: 'CIFAR ResNet, 32×32 colour images',
  resnet44: 'CIFAR ResNet, 32×32 colour images',
  resnet56: 'CIFAR ResNet, 32×32 colour images',
  resnet18: 'ImageNet ResNet, 224×224 images',
  resnet34: 'ImageNet ResNet, 224×224 images',
  alexnet: 'AlexNet, 224×224 images',
};

const FORMAT_DESCRIPTIONS: Record<DataFormat, string> = {
  idx: 'MNIST / Fashion-MNIST IDX files',
  'cifar10-bin': 'CIFAR-10 binary batches',
  'cifar100-bin': 'CIFAR-100 binary batches',
  'image-folder': 'train/ and test/ folders, one sub-folder of images per class',
};

export function registerNewConfigCommand(s: Services): void {
  registerCommand(s.ctx, 'ternary.newExperimentConfig', 'New Experiment Config', () => newConfig());
}

async function newConfig(): Promise<string> {
  const folder = await pickFolder();
  const title = 'Ternary: New Experiment Config';
  const model = await vscode.window.showQuickPick(
    [
      ...ZOO.map((arch) => ({ label: arch, description: MODEL_DESCRIPTIONS[arch] ?? '', model: arch })),
      { label: 'From a model file…', description: 'fine-tune a float model.json or .onnx as its ternary twin', model: 'from' },
    ],
    { title: `${title} (1/3)`, placeHolder: 'Which model?' },
  );
  if (!model) throw new UserCancelled();
  let modelFile: string | undefined;
  if (model.model === 'from') {
    const chosen = await vscode.window.showOpenDialog({
      canSelectMany: false,
      defaultUri: vscode.Uri.file(folder),
      filters: { 'Float models': ['json', 'onnx'] },
      openLabel: 'Fine-tune This Model',
    });
    if (!chosen?.[0]) throw new UserCancelled();
    modelFile = path.relative(folder, chosen[0].fsPath).split(path.sep).join('/');
  }
  const format = await vscode.window.showQuickPick(
    formatsFor(model.model).map((f) => ({ label: f, description: FORMAT_DESCRIPTIONS[f], format: f })),
    { title: `${title} (2/3)`, placeHolder: 'Which data format?' },
  );
  if (!format) throw new UserCancelled();
  const fileName = await vscode.window.showInputBox({
    title: `${title} (3/3)`,
    prompt: `File name, in ${vscode.workspace.asRelativePath(folder, false) || folder}`,
    value: `${templateName(model.model, format.format, modelFile)}.tern.json`,
    validateInput: (text) => {
      if (!text.endsWith('.tern.json') || text.length <= '.tern.json'.length) return 'The name must end with .tern.json.';
      if (/[\\/]/.test(text)) return 'A file name, without folders.';
      if (fs.existsSync(path.join(folder, text))) return `${text} exists already; choose another name.`;
      return undefined;
    },
  });
  if (fileName === undefined) throw new UserCancelled();
  const file = path.join(folder, fileName);
  const refused = await writeNewConfigFile(file, configTemplate(model.model, format.format, modelFile));
  if (refused) throw new UserFacingError(refused);
  await vscode.window.showTextDocument(vscode.Uri.file(file));
  return file;
}

/** The workspace folder to write into (asked when there are several). */
async function pickFolder(): Promise<string> {
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (folders.length === 0) throw new UserFacingError('open a folder first: the config is written into the workspace.');
  if (folders.length === 1) return folders[0]!.uri.fsPath;
  const picked = await vscode.window.showWorkspaceFolderPick({ placeHolder: 'Where to write the config?' });
  if (!picked) throw new UserCancelled();
  return picked.uri.fsPath;
}
