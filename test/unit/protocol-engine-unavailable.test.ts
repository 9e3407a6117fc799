/**
 * An engine that cannot run on this machine is one documented protocol error, EngineUnavailable
 * (-32009, docs/protocol.md), not an InternalError: `ternary/train` with `engine: "torch"` and no
 * Python, a Python without PyTorch, a PyTorch older than 1.13, one without torchvision, or
 * `device: "cuda"` without CUDA. Its data names the engine and the VS Code setting that fixes it (the extension's button opens
 * it); no run starts, and the server keeps serving. Fake interpreters (shell scripts printing
 * what engines/torch/check_env.py would) stand in for the machines that lack these.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ResponseError } from 'vscode-jsonrpc/node';
import { realJobs } from '../../server/rpc/realJobs';
import { TernaryErrorCodes, TrainRequest, type TrainParams } from '../../shared/protocol';
import { rejection, startInMemory, writeTinyWorkspace, type TinyWorkspace } from './protocol-harness';
import { fakePython } from '../shared/fakePython';

let ws: TinyWorkspace;
let session: Awaited<ReturnType<typeof startInMemory>>;

before(async () => {
  ws = await writeTinyWorkspace(await mkdtemp(join(tmpdir(), 'tern-engine-unavailable-')));
  session = await startInMemory(realJobs(), { backend: 'wasm', metricsRate: 1000 });
});

after(async () => {
  session?.close();
  if (ws) await rm(ws.dir, { recursive: true, force: true });
});

function trainError(params: Partial<TrainParams>): Promise<ResponseError<unknown>> {
  return rejection(session.client.sendRequest(TrainRequest.type, { configPath: ws.configPath, engine: 'torch', ...params }));
}

const cases: { name: string; params: () => Partial<TrainParams>; setting: string; message: RegExp }[] = [
  {
    name: 'no Python',
    params: () => ({ python: join(ws.dir, 'no-such-python3') }),
    setting: 'ternary.torch.python',
    message: /needs Python 3, and none was found .*apt-get install python3 python3-torch.*ternary\.torch\.python setting/,
  },
  {
    name: 'a Python without PyTorch',
    params: () => ({ python: fakePython(ws.dir, 'no-torch', { torchError: "ModuleNotFoundError: No module named 'torch'" }) }),
    setting: 'ternary.torch.python',
    message: /No PyTorch in .*python3-torch.*pip install torch/,
  },
  {
    name: 'PyTorch 1.12',
    params: () => ({ python: fakePython(ws.dir, 'old-torch', { torch: '1.12.1', cuda: false }) }),
    setting: 'ternary.torch.python',
    message: /PyTorch 1\.12\.1 .* is too old: the torch engine needs PyTorch ≥ 1\.13/,
  },
  {
    name: 'a PyTorch without torchvision',
    params: () => ({
      python: fakePython(ws.dir, 'no-vision', {
        torch: '1.13.0a0',
        cuda: false,
        torchvisionError: 'ModuleNotFoundError: No module named torchvision',
      }),
    }),
    setting: 'ternary.torch.python',
    message: /No torchvision in .*python3-torchvision.*pip install torchvision/,
  },
  {
    name: 'device cuda without CUDA',
    params: () => ({
      python: fakePython(ws.dir, 'cpu-torch', { torch: '2.1.0+cpu', torchvision: '0.16.0+cpu', cuda: false }),
      device: 'cuda',
    }),
    setting: 'ternary.torch.device',
    message: /--device cuda: PyTorch 2\.1\.0\+cpu .* sees no CUDA device\. Train with --device cpu/,
  },
];

for (const c of cases) {
  test(`ternary/train on the torch engine with ${c.name}: EngineUnavailable naming ${c.setting}`, async () => {
    const before = session.events.of('ternary/runStarted').length;
    const err = await trainError(c.params());
    assert.equal(err.code, TernaryErrorCodes.EngineUnavailable);
    assert.equal(err.code, -32009);
    assert.deepEqual(err.data, { engine: 'torch', setting: c.setting });
    assert.match(err.message, c.message);
    assert.equal(session.events.of('ternary/runStarted').length, before, 'no run started');
  });
}

test('after an unavailable engine the server keeps serving: the same config trains on tfjs', async () => {
  await trainError({ python: join(ws.dir, 'no-such-python3') });
  const ok = await session.client.sendRequest(TrainRequest.type, { configPath: ws.configPath, engine: 'tfjs' });
  assert.equal(ok.summary.status, 'completed');
});
