/**
 * The torch engine end to end, through the same entry point as `tern train` and the server
 * (server/engines/dispatch.ts), on a slice of the Fashion-MNIST subset of examples/:
 *  - 2 processes train fmnist-cnn (ternary); the run folder has the tfjs engine's records, and the
 *    final model.json, evaluated and inspected by our tfjs code, gives the accuracy, loss, Δ, α and
 *    counts the torch side reported;
 *  - --resume continues a finished run for one more epoch;
 *  - cancel stops the process group within a batch and keeps the last checkpoint;
 *  - a worker killed with SIGKILL mid-epoch (--max-restarts 1): the group restarts, resumes from
 *    the checkpoint, the run completes and metrics.jsonl has every epoch once;
 *  - two "nodes" on this machine (--nnodes 2, rendezvous on 127.0.0.1, one process each).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { loadConfigFile } from '../../server/config/loadConfig';
import type { ExperimentConfig } from '../../shared/experimentConfig';
import { loadModel } from '../../server/models/loadModel';
import { trainWithEngine, type EngineTrainOptions } from '../../server/engines/dispatch';
import { readRunHistory } from '../../server/runs';
import { layerStats } from '../../server/stats';
import { evaluateTarget } from '../../server/train/evaluate';
import type { MetricsRecord } from '../../shared/runRecords';
import { torchPython } from '../shared/torchPython';

const root = join(__dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'tern-torch-run-'));
const configPath = join(work, 'torch.tern.json');

function experiment(name: string, limitTrain: number, epochs: number): Record<string, unknown> {
  return {
    name,
    engine: 'torch',
    model: { arch: 'fmnist-cnn', classes: 10 },
    quant: { method: 'he2019', thresholdFactor: 0.05, tex: 1 },
    data: { format: 'idx', path: join(root, 'examples', 'data', 'fashion-mnist-subset'), limitTrain, limitTest: 128, normalize: 'fmnist' },
    train: { epochs, batchSize: 32, lr: 0.05, schedule: [1], gammas: [0.5], seed: 3 },
  };
}
writeFileSync(configPath, JSON.stringify({ experiments: [experiment('small', 256, 2), experiment('longer', 1536, 3)] }));

async function load(name: string): Promise<ExperimentConfig> {
  return (await loadConfigFile(configPath)).experiments.find((e) => e.name === name)!;
}

async function run(name: string, extra: Partial<EngineTrainOptions> = {}) {
  const events = { metrics: [] as MetricsRecord[], layers: 0, histograms: 0, logs: [] as string[], starts: 0 };
  const result = await trainWithEngine({
    experiment: await load(name),
    configPath,
    runsDir: join(work, 'runs'),
    ...extra,
    torch: { nprocPerNode: 2, ...extra.torch },
    listener: {
      onStart: () => events.starts++,
      onMetrics: (r) => {
        events.metrics.push(r);
        extra.listener?.onMetrics?.(r);
      },
      onLayers: () => events.layers++,
      onHistograms: () => events.histograms++,
      onLog: (level, message) => events.logs.push(`${level}: ${message}`),
    },
  });
  return { ...result, events };
}

function epochLines(runDir: string): number[] {
  return readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as MetricsRecord)
    .filter((r) => r.kind === 'epoch')
    .map((r) => r.epoch);
}

/** PIDs of the torch workers of a run (their command line names its job file). */
function workers(runDir: string): { pid: number; rank: number }[] {
  const out: { pid: number; rank: number }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (!cmd.includes('ternary_torch.run_experiment') || cmd.includes('torchrun.py') || !cmd.includes(runDir)) continue;
      const rank = /(?:^|\0)RANK=(\d+)/.exec(readFileSync(`/proc/${entry}/environ`, 'utf8'));
      if (rank) out.push({ pid: Number(entry), rank: Number(rank[1]) });
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

test('torch engine runs', async (t) => {
  const found = await torchPython();
  if (!found.python) return t.skip(found.skip);
  await tf.setBackend('cpu');
  t.after(() => rmSync(work, { recursive: true, force: true }));

  let firstRun = '';
  await t.test('2 processes: same run files; our tfjs code evaluates the final model to the reported accuracy', async () => {
    const { runDir, summary, events } = await run('small');
    firstRun = runDir;
    assert.equal(summary.status, 'completed', summary.reason);
    assert.equal(summary.epochs, 2);
    assert.equal(events.starts, 1);
    assert.deepEqual(
      events.metrics.filter((r) => r.kind === 'epoch').map((r) => r.epoch),
      [1, 2],
    );
    assert.ok(events.metrics.some((r) => r.kind === 'batch'));
    assert.equal(events.layers, 2);
    assert.equal(events.histograms, 2);
    const config = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(config.engine, 'torch');
    assert.equal(config.device, 'cpu');
    assert.equal(config.worldSize, 2);
    assert.deepEqual(epochLines(runDir), [1, 2]);
    assert.ok(existsSync(join(runDir, 'checkpoints', 'last', 'checkpoint.pt')));
    assert.ok(existsSync(join(runDir, 'histograms', 'epoch-002.json')));
    const history = await readRunHistory(runDir, { histograms: true });
    assert.equal(history.layers.length, 2);
    assert.equal(history.histograms.length, 2);
    assert.equal(history.histograms[1]!.histograms[0]!.bins.length, 64);

    const evaluation = await evaluateTarget(runDir, await load('small'), configPath);
    t.diagnostic(
      `torch: top-1 ${summary.final.top1}, loss ${summary.final.loss}; tfjs eval of model.json: top-1 ${evaluation.top1}, loss ${evaluation.loss}`,
    );
    assert.equal(evaluation.examples, 128);
    assert.ok(Math.abs(evaluation.top1 - summary.final.top1) <= 1 / 128 + 1e-9, 'top-1 within one example');
    assert.ok(Math.abs(evaluation.loss - summary.final.loss) <= 1e-3 * Math.max(1, summary.final.loss), 'same loss');

    const model = await loadModel(join(runDir, 'model', 'model.json'));
    const ours = layerStats(model);
    const theirs = history.layers[1]!.layers;
    assert.deepEqual(
      ours.map((l) => [l.layer, l.type, l.shape, l.params, l.bits]),
      theirs.map((l) => [l.layer, l.type, l.shape, l.params, l.bits]),
    );
    for (let i = 0; i < ours.length; i++) {
      assert.ok(Math.abs(ours[i]!.delta - theirs[i]!.delta) <= 1e-7 * Math.abs(ours[i]!.delta), `${ours[i]!.layer} Δ`);
      assert.ok(Math.abs(ours[i]!.alpha - theirs[i]!.alpha) <= 1e-6 * Math.abs(ours[i]!.alpha), `${ours[i]!.layer} α`);
      assert.deepEqual(ours[i]!.counts, theirs[i]!.counts, `${ours[i]!.layer} counts`);
      assert.ok(Math.abs(ours[i]!.relError! - theirs[i]!.relError!) <= 1e-6, `${ours[i]!.layer} relative error`);
    }
    assert.equal(history.layers[1]!.summary.params, model.countParams());
    model.dispose();
  });

  await t.test('--resume continues a torch run for one more epoch', async () => {
    const { summary } = await run('small', { resumeDir: firstRun, epochs: 3 });
    assert.equal(summary.status, 'completed', summary.reason);
    assert.equal(summary.epochs, 3);
    assert.deepEqual(epochLines(firstRun), [1, 2, 3]);
  });

  await t.test('cancel stops every process after a batch and keeps the last checkpoint', async () => {
    const controller = new AbortController();
    const { summary, runDir } = await run('longer', {
      signal: controller.signal,
      listener: {
        onMetrics: (r) => {
          if (r.kind === 'batch' && r.epoch === 2) controller.abort();
        },
      },
    });
    assert.equal(summary.status, 'cancelled', summary.reason);
    assert.equal(summary.epochs, 1);
    assert.ok(existsSync(join(runDir, 'checkpoints', 'last', 'checkpoint.pt')));
    assert.deepEqual(workers(runDir), []);
  });

  await t.test('cancel before the first checkpoint says there is none to resume from (as the tfjs engine does)', async () => {
    const controller = new AbortController();
    const { summary, runDir } = await run('longer', {
      signal: controller.signal,
      listener: {
        onMetrics: (r) => {
          if (r.kind === 'batch' && r.epoch === 1) controller.abort();
        },
      },
    });
    assert.equal(summary.status, 'cancelled', summary.reason);
    assert.equal(summary.epochs, 0);
    assert.equal(
      summary.reason,
      'Cancelled during epoch 1; no epoch had completed, so there is no checkpoint to resume from; start a new run.',
    );
    assert.ok(!existsSync(join(runDir, 'checkpoints', 'last', 'checkpoint.pt')));
    assert.deepEqual(workers(runDir), []);
  });

  await t.test('kill -9 of a worker mid-epoch: the group restarts from the checkpoint, every epoch once', async () => {
    let killed: number | undefined;
    let runDir = '';
    const result = await run('longer', {
      torch: { nprocPerNode: 2, maxRestarts: 1 },
      listener: {
        onMetrics: (r) => {
          if (killed === undefined && r.kind === 'batch' && r.epoch === 2 && (r.progress ?? 0) >= 0.2) {
            runDir = join(
              work,
              'runs',
              'longer',
              readdirSync(join(work, 'runs', 'longer'))
                .sort()
                .pop()!,
            );
            const victim = workers(runDir).find((w) => w.rank === 0);
            if (victim) {
              killed = victim.pid;
              process.kill(victim.pid, 'SIGKILL');
            }
          }
        },
      },
    });
    assert.ok(killed !== undefined, 'a worker was killed');
    assert.equal(result.summary.status, 'completed', result.summary.reason);
    assert.ok(
      result.events.logs.some((l) => /restarted/.test(l)),
      'the restart is logged',
    );
    assert.deepEqual(epochLines(result.runDir), [1, 2, 3]);
    const steps = readFileSync(join(result.runDir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as MetricsRecord).step);
    for (let i = 1; i < steps.length; i++) assert.ok(steps[i]! >= steps[i - 1]!, 'no batch lines of the killed attempt remain');
    const layers = readFileSync(join(result.runDir, 'layers.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { epoch: number }).epoch);
    assert.deepEqual(layers, [1, 2, 3]);
  });

  await t.test('two nodes (--nnodes 2, rendezvous on 127.0.0.1, one process each) train to the end', async () => {
    const endpoint = `127.0.0.1:${await freePort()}`;
    const node = (nodeRank: number) => run('small', { torch: { nprocPerNode: 1, nnodes: 2, nodeRank, rdzvEndpoint: endpoint } });
    const [first, second] = await Promise.all([node(0), node(1)]);
    assert.equal(first.summary.status, 'completed', first.summary.reason);
    assert.equal(second.summary.status, 'completed', second.summary.reason);
    assert.deepEqual(epochLines(first.runDir), [1, 2]);
    const config = JSON.parse(readFileSync(join(first.runDir, 'config.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(config.worldSize, 2);
    assert.equal(config.nnodes, 2);
    assert.equal(second.events.metrics.length, 0, 'only node 0 reports progress');
  });
});
