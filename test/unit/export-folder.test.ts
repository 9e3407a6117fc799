/** The default export folders (shared/exportFolder.ts), one rule for `tern export` and the extension. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { modelExportDir, modelExportName, runExportName } from '../../shared/exportFolder';

test('a run exports to <experiment>-<run-id>', () => {
  assert.equal(runExportName('20261206-0433-ab12', 'fmnist-tern'), 'fmnist-tern-20261206-0433-ab12');
  assert.equal(runExportName('20261206-0433-ab12'), '20261206-0433-ab12');
});

test('a model exports under its own name: the file without its extension, or the folder of a model.*', () => {
  assert.equal(modelExportName('/ws/models/resnet18.onnx'), 'resnet18');
  assert.equal(modelExportName('/ws/models/resnet18-ternary/model.json'), 'resnet18-ternary');
  assert.equal(modelExportName('/ws/models/resnet18-ternary'), 'resnet18-ternary');
  assert.equal(modelExportName('/ws/export/run-1/model.tern'), 'run-1');
  assert.equal(modelExportName('C:\\ws\\nets\\lenet.TERN'), 'lenet');
});

test("a model already in its export folder goes next to it, so that folder's files are kept", () => {
  assert.equal(modelExportDir('/ws', '/ws/models/resnet18.onnx', path), '/ws/ternary-export/resnet18');
  assert.equal(modelExportDir('/ws', '/ws/ternary-export/run-1/model.tern', path), '/ws/ternary-export/run-1-export');
  assert.equal(modelExportDir('/ws', '/ws/ternary-export/run-1', path), '/ws/ternary-export/run-1-export');
  assert.equal(
    modelExportDir('/ws', 'ternary-export/run-1/model.json', { ...path, resolve: (...p) => path.resolve('/ws', ...p) }),
    '/ws/ternary-export/run-1-export',
  );
});
