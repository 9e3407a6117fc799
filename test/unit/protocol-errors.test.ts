/** Failures → JSON-RPC errors, and the progress line of a run. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../server/config/loadConfig';
import { DataError } from '../../server/data/errors';
import { toResponseError } from '../../server/rpc/errors';
import { notFound } from '../../server/jobs/errors';
import { QueueFull, RemovedFromQueue } from '../../server/rpc/jobQueue';
import { describeTrainProgress } from '../../server/rpc/progressText';
import { TernaryErrorCodes } from '../../shared/protocol';

test('config, data, queue and path errors get the protocol codes and data', () => {
  const config = toResponseError(new ConfigError('/p/x.tern.json', 'experiments[1].train.lr', 'must be > 0.', 12, 9));
  assert.equal(config.code, TernaryErrorCodes.InvalidConfig);
  assert.deepEqual(config.data, { path: '/p/x.tern.json', property: 'experiments[1].train.lr', line: 12, column: 9 });
  assert.equal(config.message, '/p/x.tern.json:12:9: experiments[1].train.lr: must be > 0.');
  const fileLevel = toResponseError(new ConfigError('/p/x.tern.json', undefined, 'file not found; check the path.'));
  assert.deepEqual(fileLevel.data, { path: '/p/x.tern.json' });

  const data = toResponseError(new DataError('/d: no training images found', '/d'));
  assert.equal(data.code, TernaryErrorCodes.BadData);
  assert.deepEqual(data.data, { file: '/d' });

  assert.equal(toResponseError(new RemovedFromQueue('gone')).code, -32800);
  assert.equal(toResponseError(new QueueFull('full')).code, TernaryErrorCodes.Busy);
  assert.deepEqual(toResponseError(notFound('Run folder', '/r')).data, { path: '/r' });

  const enoent = Object.assign(new Error("ENOENT: no such file or directory, open '/x'"), { code: 'ENOENT', path: '/x' });
  assert.equal(toResponseError(enoent).code, TernaryErrorCodes.NotFound);

  const bug = toResponseError(new TypeError('x is undefined'));
  assert.equal(bug.code, -32603);
  assert.equal(bug.message, 'x is undefined');
  assert.match((bug.data as { stack: string }).stack, /TypeError: x is undefined/);
  assert.equal(toResponseError('a string').code, -32603);
});

test('the progress line: epoch e/E · batch b/S · loss, and the overall percentage', () => {
  const run = { epochs: 5, stepsPerEpoch: 47 };
  const batch = { kind: 'batch' as const, epoch: 2, step: 77, progress: 30 / 47, lr: 0.1, loss: 0.4137, top1: 0.8, time: 10 };
  assert.deepEqual(describeTrainProgress(batch, run), {
    message: 'epoch 2/5 · batch 30/47 · loss 0.41',
    percentage: ((1 + 30 / 47) / 5) * 100,
  });
  const epoch = { kind: 'epoch' as const, epoch: 5, step: 235, lr: 0.1, loss: 1.5, top1: 0.8, valTop1: 0.8125, time: 50 };
  assert.deepEqual(describeTrainProgress(epoch, run), {
    message: 'epoch 5/5 · batch 47/47 · loss 1.5 · val top-1 81.3%',
    percentage: 100,
  });
  assert.equal(describeTrainProgress({ ...batch, loss: NaN }, run).message, 'epoch 2/5 · batch 30/47 · loss NaN');
  assert.equal(describeTrainProgress({ ...batch, loss: 123.4 }, run).message, 'epoch 2/5 · batch 30/47 · loss 123');
});

test('the crash policy logs uncaught exceptions and rejections (with the stack) instead of dying', async () => {
  const { installCrashPolicy } = await import('../../server/rpc/crashPolicy');
  const before = { exception: process.listeners('uncaughtException'), rejection: process.listeners('unhandledRejection') };
  const logged: string[] = [];
  installCrashPolicy((message) => logged.push(message));
  // Call only the policy's handlers (the test runner has its own, which would fail the test).
  const added = {
    exception: process.listeners('uncaughtException').filter((l) => !before.exception.includes(l)),
    rejection: process.listeners('unhandledRejection').filter((l) => !before.rejection.includes(l)),
  };
  for (const l of added.exception) process.off('uncaughtException', l);
  for (const l of added.rejection) process.off('unhandledRejection', l);
  assert.equal(added.exception.length, 1);
  assert.equal(added.rejection.length, 1);
  const write = process.stderr.write;
  process.stderr.write = (() => true) as typeof process.stderr.write; // keep the test output clean
  try {
    added.exception[0](new Error('boom in a timer'), 'uncaughtException');
    added.rejection[0](new Error('a lost promise'), Promise.resolve());
  } finally {
    process.stderr.write = write;
  }
  assert.equal(logged.length, 2);
  assert.match(
    logged[0],
    /^Training server: uncaught exception \(the server keeps running; please report this\): Error: boom in a timer\n\s+at /,
  );
  assert.match(logged[1], /unhandled promise rejection .*Error: a lost promise/s);
});
