/**
 * The bundled server (`node dist/server.js --stdio`) as a child process: malformed input gets
 * protocol errors and the server answers afterwards; three real runs leave RSS and tensor counts
 * where they were; closing stdin exits 0 and leaves the run training in its own process.
 * Needs the bundle: `node esbuild.mjs` (npm test builds it first).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { getPriority, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ServerStatsRequest, TrainRequest, type ServerStats } from '../../shared/protocol';
import { LOW_PRIORITY } from '../../server/rpc/priority';
import { readLock } from '../../server/runs/runLock';
import { threadNiceness } from '../shared/procThreads';
import { RawFrames, connectClient, frame, withTimeout, writeTinyWorkspace, type TinyWorkspace } from './protocol-harness';

const root = resolve(__dirname, '..', '..');
const serverJs = join(root, 'dist', 'server.js');
const cliJs = join(root, 'dist', 'cli.js');
/**
 * How far memory may sit above its level after the warm-up run (measured after a forced GC).
 *
 * RSS: measured +0.7/+1.2/+5.7, −0.3/+0.2/+4.6 and +0.7/+1.9/+8.1 MiB after runs 1–3 on the
 * 2-core machine — one step of 4–8 MiB around the third run, then flat (in-process, 12 runs
 * stay within 181–186 MiB): the wasm backend's linear memory and V8's old space grow in steps and
 * never give pages back. 16 MiB leaves room for that step; a leak of a real config's data or model
 * (tens of MB a run) still fails.
 * Heap: +0.3/+0.45/+0.6 MiB after runs 1–3, V8's compiled code for new code paths. 2 MiB catches a
 * retained model graph or notification backlog. Leaked tensors of any size are caught by the exact
 * numTensors check, the sharp one.
 */
const RSS_TOLERANCE_BYTES = 16 * 1024 * 1024;
const HEAP_TOLERANCE_BYTES = 2 * 1024 * 1024;

let ws: TinyWorkspace;
const children: ChildProcessWithoutNullStreams[] = [];

function spawnServer(args: string[] = [serverJs, '--stdio']): {
  child: ChildProcessWithoutNullStreams;
  stderr: () => string;
  exited: Promise<number | null>;
} {
  const child = spawn(process.execPath, ['--expose-gc', ...args], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolveExit) => child.on('exit', (code) => resolveExit(code)));
  return { child, stderr: () => stderr, exited };
}

before(async () => {
  assert.ok(existsSync(serverJs), `${serverJs} is missing: run \`node esbuild.mjs\` first`);
  ws = await writeTinyWorkspace(await mkdtemp(join(tmpdir(), 'tern-stdio-')));
});

after(async () => {
  for (const child of children) if (child.exitCode === null) child.kill();
  if (ws) await rm(ws.dir, { recursive: true, force: true });
});

test('malformed input gets protocol errors, never a crash; the server answers afterwards', async () => {
  const { child, stderr } = spawnServer();
  const frames = new RawFrames(child.stdout);
  const send = (bytes: Buffer | string) => child.stdin.write(bytes);
  send(
    frame(
      JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { processId: null, rootUri: null, capabilities: {}, initializationOptions: { backend: 'wasm' } },
      }),
    ),
  );
  const init = await frames.waitFor((m) => m.id === 1, 0, 30_000);
  assert.equal(init.result.capabilities.experimental.ternary.backend, 'wasm');

  let from = frames.messages.length;
  send(frame(Buffer.from([0x00, 0xff, 0x13, 0x37, 0xc3, 0x28]))); // garbage bytes, valid Content-Length
  const garbage = await frames.waitFor((m) => m.error && m.id === null, from);
  assert.equal(garbage.error.code, -32700);

  from = frames.messages.length;
  send(frame('{"jsonrpc": "2.0", "id": 2, "method": "ternary/listRuns", "params": {'));
  assert.equal((await frames.waitFor((m) => m.error && m.id === null, from)).error.code, -32700);

  from = frames.messages.length;
  send('this is not a header at all\r\n\r\n');
  assert.equal((await frames.waitFor((m) => m.error && m.id === null, from)).error.code, -32700);

  send(frame(JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'ternary/noSuchMethod', params: {} })));
  assert.equal((await frames.waitFor((m) => m.id === 3)).error.code, -32601);

  send(frame(JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'ternary/train', params: { configPath: ['not', 'a', 'path'] } })));
  const invalid = await frames.waitFor((m) => m.id === 4);
  assert.equal(invalid.error.code, -32602);
  assert.match(invalid.error.message, /configPath/);

  send(frame(JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'ternary/train', params: { configPath: ws.badConfigPath } })));
  const badConfig = await frames.waitFor((m) => m.id === 5, 0, 30_000);
  assert.equal(badConfig.error.code, -32001);
  assert.equal(badConfig.error.data.property, 'experiments[0].train.lr');

  send(frame(JSON.stringify({ jsonrpc: '2.0', id: 6, method: 'ternary/listRuns', params: { runsDirs: [join(ws.dir, 'runs')] } })));
  assert.deepEqual((await frames.waitFor((m) => m.id === 6)).result, []);
  // Every byte on stdout was a frame (RawFrames would have thrown otherwise) and the process lives.
  assert.equal(child.exitCode, null, stderr());
  assert.doesNotMatch(stderr(), /uncaught|unhandled/i);
});

test('three consecutive runs over stdio: RSS and numTensors return to their level', async () => {
  const { child } = spawnServer();
  const { client } = await connectClient(child.stdout, child.stdin, { backend: 'wasm' });
  const stats = () => client.sendRequest(ServerStatsRequest.type, { gc: true });
  const run = async () => {
    const result = await client.sendRequest(TrainRequest.type, { configPath: ws.configPath, epochs: 1 });
    assert.equal(result.summary.status, 'completed');
  };
  await run(); // warm-up: code paths compiled, kernels registered, allocator pools sized
  const base: ServerStats = await stats();
  assert.equal(base.gcRan, true);
  const rss: number[] = [];
  for (let i = 0; i < 3; i++) {
    await run();
    const now = await stats();
    rss.push(now.rss);
    assert.ok(
      now.heapUsed - base.heapUsed < HEAP_TOLERANCE_BYTES,
      `run ${i + 1}: heap grew by ${((now.heapUsed - base.heapUsed) / 2 ** 20).toFixed(1)} MiB`,
    );
    assert.equal(now.numTensors, base.numTensors, `run ${i + 1}: ${now.numTensors - base.numTensors} tensors leaked`);
    assert.ok(now.rss - base.rss < RSS_TOLERANCE_BYTES, `run ${i + 1}: RSS grew by ${((now.rss - base.rss) / 2 ** 20).toFixed(1)} MiB`);
  }
  process.stderr.write(
    `# RSS after warm-up ${(base.rss / 2 ** 20).toFixed(1)} MiB, after runs 1–3: ${rss.map((r) => ((r - base.rss) / 2 ** 20).toFixed(1)).join(', ')} MiB above\n`,
  );
  client.dispose();
});

test('closing stdin: the server exits 0 and its run goes on in a process of its own, at the low priority; SIGTERM stops it with its checkpoint', async () => {
  const own = getPriority();
  const { child, exited } = spawnServer();
  const { client, events } = await connectClient(child.stdout, child.stdin, { backend: 'wasm', lowPriority: true });
  void client.sendRequest(TrainRequest.type, { configPath: ws.configPath, epochs: 200 }).catch(() => undefined);
  const started = await events.waitFor('ternary/runStarted', () => true, 30_000);
  await events.waitFor('ternary/histograms', () => true, 30_000);
  child.stdin.end();
  assert.equal(await withTimeout(exited, 20_000, () => 'the server did not exit after stdin closed'), 0);
  const lock = readLock(started.runDir);
  assert.ok(lock?.alive && lock.holder, 'the run is held by a live process');
  assert.notEqual(lock.holder.pid, child.pid);
  assert.deepEqual([...new Set(threadNiceness(lock.holder.pid))], [Math.max(own, LOW_PRIORITY)]);
  // Still training: epochs keep coming after the server is gone.
  const epochs = async () =>
    (await readFile(join(started.runDir, 'metrics.jsonl'), 'utf8')).split('\n').filter((l) => l.includes('"kind":"epoch"')).length;
  const then = await epochs();
  await withTimeout(
    (async () => {
      while ((await epochs()) <= then) await new Promise((r) => setTimeout(r, 100));
    })(),
    30_000,
    () => 'no epoch after the server exited',
  );
  process.kill(lock.holder.pid, 'SIGTERM');
  await withTimeout(
    (async () => {
      while (readLock(started.runDir)) await new Promise((r) => setTimeout(r, 100));
    })(),
    30_000,
    () => 'the run did not stop on SIGTERM',
  );
  const summary = JSON.parse(await readFile(join(started.runDir, 'summary.json'), 'utf8'));
  assert.equal(summary.status, 'cancelled');
  assert.ok(existsSync(join(started.runDir, 'checkpoints', 'last')));
  client.dispose();
});

test('`tern serve --stdio` is the same server', async () => {
  assert.ok(existsSync(cliJs), `${cliJs} is missing: run \`node esbuild.mjs\` first`);
  const { child, exited } = spawnServer([cliJs, 'serve', '--stdio']);
  const { client, info } = await connectClient(child.stdout, child.stdin, { backend: 'wasm' });
  assert.equal(info.backend, 'wasm');
  assert.ok(info.methods.includes('ternary/train'));
  client.dispose();
  child.stdin.end();
  assert.equal(await withTimeout(exited, 10_000, () => 'tern serve did not exit after stdin closed'), 0);
});

test(
  'lowPriority: every thread of the server, the compute threads started later included, runs at nice 10',
  { skip: process.platform !== 'linux' ? 'reads /proc' : false },
  async () => {
    // Baselines from this process: CI may run the tests niced already, and then so is the server.
    const own = getPriority();
    const { child } = spawnServer();
    assert.deepEqual([...new Set(threadNiceness(child.pid!))], [own], 'the server starts at the priority it was given');
    const { client, info } = await connectClient(child.stdout, child.stdin, { backend: 'auto', threads: 2, lowPriority: true });
    const result = await client.sendRequest(TrainRequest.type, { configPath: ws.configPath, epochs: 1 });
    assert.equal(result.summary.status, 'completed');
    const niceness = threadNiceness(child.pid!);
    assert.ok(niceness.length > 1);
    assert.deepEqual([...new Set(niceness)], [Math.max(own, LOW_PRIORITY)], `${info.backend}: thread niceness ${niceness.join(' ')}`);
    client.dispose();
  },
);

test('without lowPriority the server keeps normal priority; a non-boolean lowPriority fails initialize', async () => {
  const { child } = spawnServer();
  await connectClient(child.stdout, child.stdin, { backend: 'wasm' });
  assert.equal(getPriority(child.pid!), getPriority());
  const second = spawnServer();
  await assert.rejects(
    connectClient(second.child.stdout, second.child.stdin, { backend: 'wasm', lowPriority: 'yes' as unknown as boolean }),
    /lowPriority/,
  );
});
