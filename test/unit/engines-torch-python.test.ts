/**
 * One clear message for each way the torch engine cannot start (server/engines/torch/python.ts):
 * no Python, no PyTorch, a PyTorch older than 1.13, `--device cuda` without CUDA; and the option
 * checks of server/engines/types.ts. Fake interpreters (shell scripts printing what check_env.py
 * would) stand in for the machines that lack these.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findPython, torchVersion } from '../../server/engines/torch/python';
import { torchrunArgs } from '../../server/engines/torch/torchrun';
import { engineOptionsFromArgs } from '../../server/engines/args';
import { checkTorchOptions, DEFAULT_TORCH_OPTIONS } from '../../server/engines/types';
import { fakePython } from '../shared/fakePython';

const dir = mkdtempSync(join(tmpdir(), 'tern-fake-python-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('no Python: says to install python3 and python3-torch, or set --python', async () => {
  await assert.rejects(findPython(join(dir, 'missing-python'), 'cpu'), (err: Error) => {
    assert.equal(err.name, 'EngineError');
    assert.match(err.message, /needs Python 3, and none was found/);
    assert.match(err.message, /apt-get install python3 python3-torch/);
    return true;
  });
});

test('$TERN_PYTHON binds as --python does: a missing or torch-less one is an error, never another Python used instead', async () => {
  const before = process.env.TERN_PYTHON;
  try {
    process.env.TERN_PYTHON = join(dir, 'nonexistent', 'python3');
    await assert.rejects(findPython(undefined, 'cpu'), (err: Error) => {
      assert.equal(err.name, 'EngineError');
      assert.match(err.message, /needs Python 3, and none was found \(tried \$TERN_PYTHON = .*nonexistent\/python3\)/);
      return true;
    });
    process.env.TERN_PYTHON = fakePython(dir, 'env-no-torch', { torchError: 'ModuleNotFoundError: No module named torch' });
    await assert.rejects(findPython(undefined, 'cpu'), /No PyTorch in .*env-no-torch/);
  } finally {
    if (before === undefined) delete process.env.TERN_PYTHON;
    else process.env.TERN_PYTHON = before;
  }
});

test('Python without PyTorch: says how to install it', async () => {
  const python = fakePython(dir, 'no-torch', { torchError: 'ModuleNotFoundError: No module named torch' });
  await assert.rejects(findPython(python, 'cpu'), /No PyTorch in .*No module named torch.*python3-torch.*pip install torch/);
});

test('a Python that does not answer the check in time is named as such, not reported as lacking PyTorch', async () => {
  // Never answers: it waits for a line on stdin that does not come (the probe's stdin stays open).
  const stuck = join(dir, 'stuck-python');
  writeFileSync(stuck, '#!/bin/sh\nread never\n');
  chmodSync(stuck, 0o755);
  await assert.rejects(findPython(stuck, 'cpu', 200), (err: Error) => {
    assert.equal(err.name, 'EngineError');
    assert.match(
      err.message,
      /stuck-python did not finish the torch engine's check of its PyTorch .* within 0\.2 s; the machine may be overloaded/,
    );
    return true;
  });
});

test('PyTorch older than 1.13: names the version and the minimum', async () => {
  const python = fakePython(dir, 'old-torch', { torch: '1.12.1', cuda: false });
  await assert.rejects(findPython(python, 'cpu'), /PyTorch 1\.12\.1 .* is too old: the torch engine needs PyTorch ≥ 1\.13/);
});

test('--device cuda without CUDA: says to use --device cpu or a CUDA build', async () => {
  const python = fakePython(dir, 'cpu-torch', { torch: '2.1.0+cpu', torchvision: '0.16.0+cpu', cuda: false });
  await assert.rejects(findPython(python, 'cuda'), /--device cuda: PyTorch 2\.1\.0\+cpu .* sees no CUDA device\. Train with --device cpu/);
  assert.equal((await findPython(python, 'cpu')).torch, '2.1.0+cpu');
});

test('PyTorch without torchvision: says to install python3-torchvision', async () => {
  const python = fakePython(dir, 'no-vision', {
    torch: '1.13.0a0',
    cuda: false,
    torchvisionError: 'ModuleNotFoundError: No module named torchvision',
  });
  await assert.rejects(findPython(python, 'cpu'), (err: Error & { setting?: string }) => {
    assert.equal(err.name, 'EngineError');
    assert.match(
      err.message,
      /No torchvision in .*No module named torchvision.*PyTorch 1\.13\.0a0.*apt-get install python3-torchvision.*pip install torchvision/,
    );
    return true;
  });
});

test('torch versions parse with local suffixes', () => {
  assert.deepEqual(torchVersion('1.13.0a0'), [1, 13]);
  assert.deepEqual(torchVersion('2.3.1+cu121'), [2, 3]);
});

test('options: --engine and the torchrun options come out of argv; bad values name the option', () => {
  const parsed = engineOptionsFromArgs([
    'cfg.tern.json',
    '--engine',
    'torch',
    '--device=cuda',
    '--nproc-per-node',
    '4',
    '--nnodes',
    '2',
    '--node-rank',
    '1',
    '--rdzv-endpoint',
    '10.0.0.1:29500',
    '--epochs',
    '3',
  ]);
  assert.equal(parsed.engine, 'torch');
  assert.deepEqual(parsed.torch, { device: 'cuda', nprocPerNode: 4, nnodes: 2, nodeRank: 1, rdzvEndpoint: '10.0.0.1:29500' });
  assert.deepEqual(parsed.rest, ['cfg.tern.json', '--epochs', '3']);
  assert.throws(() => engineOptionsFromArgs(['--engine', 'jax']), /--engine 'jax' is not one of tfjs, torch/);
  assert.throws(() => checkTorchOptions({ ...DEFAULT_TORCH_OPTIONS, nnodes: 2 }), /--nnodes 2 needs --rdzv-endpoint host:port/);
  assert.throws(
    () => checkTorchOptions({ ...DEFAULT_TORCH_OPTIONS, nnodes: 2, nodeRank: 2, rdzvEndpoint: 'h:1' }),
    /--node-rank 2 must be below --nnodes 2/,
  );
});

test('torchrun command lines: a store on a port of its own on one node, static rendezvous at node 0 on several', () => {
  assert.deepEqual(torchrunArgs({ ...DEFAULT_TORCH_OPTIONS, nprocPerNode: 2 }, 'job.json', 'tern-x', 40123).slice(1), [
    '--nproc_per_node',
    '2',
    '--max_restarts',
    '0',
    '--nnodes',
    '1',
    '--rdzv_backend',
    'c10d',
    '--rdzv_endpoint',
    '127.0.0.1:40123',
    '--rdzv_id',
    'tern-x',
    '--module',
    'ternary_torch.run_experiment',
    'job.json',
  ]);
  assert.deepEqual(
    torchrunArgs(
      { ...DEFAULT_TORCH_OPTIONS, nnodes: 2, nodeRank: 1, rdzvEndpoint: '10.0.0.1:29500', maxRestarts: 3 },
      'job.json',
      'tern-x',
    ).slice(1),
    [
      '--nproc_per_node',
      '1',
      '--max_restarts',
      '3',
      '--nnodes',
      '2',
      '--node_rank',
      '1',
      '--master_addr',
      '10.0.0.1',
      '--master_port',
      '29500',
      '--rdzv_id',
      'tern-x',
      '--module',
      'ternary_torch.run_experiment',
      'job.json',
    ],
  );
});
