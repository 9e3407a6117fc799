/**
 * Quantization settings have one parser (shared/quant.ts): `tern ternarize`, the config loader
 * and the server's `ternary/ternarize` accept and refuse the same values, with the schema's
 * defaults; and the server and the CLI both refuse to write a model over its source folder, also
 * through a symlink.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ResponseError } from 'vscode-jsonrpc/node';
import { initBackend } from '../../server/backends/ladder';
import schema from '../../shared/tern.schema.json';
import { parseQuant, QUANT_DEFAULTS, THRESHOLD_FACTOR_RANGE, type QuantInput } from '../../shared/quant';
import { isUserError } from '../../shared/userError';
import { TernarizeRequest } from '../../shared/protocol';
import { parseConfigText } from '../../server/config/loadConfig';
import { quantFromArgs, run as runTernarize } from '../../server/cli/commands/ternarize';
import { realJobs } from '../../server/rpc/realJobs';
import { buildModel } from '../../server/models';
import { saveModel } from '../../server/core/modelIO';
import { fakeJobs, rejection, startInMemory } from './protocol-harness';

test("the defaults and the range of thresholdFactor are the schema's", () => {
  const quant = schema.definitions.quant.properties;
  assert.deepEqual(QUANT_DEFAULTS, {
    method: quant.method.default,
    thresholdFactor: quant.thresholdFactor.default,
    threshold: quant.threshold.default,
    tex: quant.tex.default,
    firstLast: quant.firstLast.default,
    activations: quant.activations.default,
  });
  assert.deepEqual(QUANT_DEFAULTS, {
    method: 'he2019',
    thresholdFactor: 0.05,
    threshold: 'fixed',
    tex: 1,
    firstLast: 'ternary',
    activations: 'float',
  });
  assert.deepEqual(THRESHOLD_FACTOR_RANGE, { min: 0, max: 1 });
  assert.deepEqual(parseQuant({}), QUANT_DEFAULTS);
  assert.deepEqual(parseQuant({ method: 'none', tex: 2 }), { method: 'none' });
});

/** Settings that every entry point accepts (true) or refuses naming the setting (false). */
const table: { quant: Omit<QuantInput, 'activations'>; accepted: boolean; property?: keyof typeof cliOption }[] = [
  { quant: {}, accepted: true },
  { quant: { thresholdFactor: 0 }, accepted: true },
  { quant: { thresholdFactor: 0.05 }, accepted: true },
  { quant: { thresholdFactor: 1 }, accepted: true },
  { quant: { thresholdFactor: 1.5 }, accepted: false, property: 'thresholdFactor' },
  { quant: { thresholdFactor: -0.1 }, accepted: false, property: 'thresholdFactor' },
  { quant: { tex: 2 }, accepted: true },
  { quant: { tex: 4, thresholdFactor: 0.3 }, accepted: true },
  { quant: { tex: 3 }, accepted: false, property: 'tex' },
  { quant: { method: 'twn' }, accepted: true },
  { quant: { method: 'twn', tex: 2 }, accepted: false, property: 'tex' },
  { quant: { method: 'ttq' }, accepted: false, property: 'method' },
  { quant: { firstLast: 'float' }, accepted: true },
  { quant: { threshold: 'optimal' }, accepted: true },
  { quant: { threshold: 'optimal', tex: 4 }, accepted: true },
  { quant: { threshold: 'best' }, accepted: false, property: 'threshold' },
  { quant: { method: 'twn', threshold: 'optimal' }, accepted: false, property: 'threshold' },
  { quant: { firstLast: 'edges' }, accepted: false, property: 'firstLast' },
];

// `activations` is an experiment's setting (trained), not one of tern ternarize: tested below.
const cliOption: Record<Exclude<keyof QuantInput, 'activations'>, string> = {
  method: 'method',
  thresholdFactor: 'threshold-factor',
  threshold: 'threshold',
  tex: 'tex',
  firstLast: 'first-last',
};

/** The CLI's verdict: the settings as `--threshold-factor 1.5` etc. */
function cli(quant: QuantInput): { accepted: boolean; message?: string } {
  const values = Object.fromEntries(Object.entries(quant).map(([k, v]) => [cliOption[k as keyof typeof cliOption], String(v)]));
  try {
    quantFromArgs(values);
    return { accepted: true };
  } catch (err) {
    assert.ok(isUserError(err) && err.code === 'invalidArgument', `CLI: ${String(err)}`);
    return { accepted: false, message: err.message };
  }
}

/** The config loader's verdict: the settings as an experiment's `quant`. */
function config(quant: QuantInput): { accepted: boolean; property?: string } {
  const text = JSON.stringify({
    experiments: [{ name: 'q', model: { arch: 'fmnist-cnn', classes: 10 }, quant, data: { format: 'idx', path: 'data' } }],
  });
  try {
    parseConfigText(text, 'q.tern.json');
    return { accepted: true };
  } catch (err) {
    assert.ok(isUserError(err) && err.code === 'invalidConfig', `config: ${String(err)}`);
    return { accepted: false, property: err.data.property };
  }
}

test('tern ternarize, the config loader and the server accept and refuse the same quant settings', async () => {
  const s = await startInMemory(fakeJobs());
  try {
    for (const { quant, accepted, property } of table) {
      const label = JSON.stringify(quant);
      const byCli = cli(quant);
      const byConfig = config(quant);
      let byServer: { accepted: boolean; code?: number; message?: string; property?: string };
      try {
        await s.client.sendRequest(TernarizeRequest.type, {
          modelPath: '/models/float/model.json',
          outDir: '/models/ternary',
          ...quant,
        } as never);
        byServer = { accepted: true };
      } catch (err) {
        const e = err as ResponseError<{ property?: string }>;
        byServer = { accepted: false, code: e.code, message: e.message, property: e.data?.property };
      }
      assert.deepEqual([byCli.accepted, byConfig.accepted, byServer.accepted], [accepted, accepted, accepted], label);
      if (accepted) continue;
      // Each names the setting its own way.
      assert.match(byCli.message!, new RegExp(`--${cliOption[property!]}`), label);
      assert.equal(byConfig.property, `experiments[0].quant.${property}`, label);
      assert.equal(byServer.code, -32602, label);
      assert.equal(byServer.property, property, label);
      assert.match(byServer.message!, new RegExp(`^ternary/ternarize: ${property}`), label);
    }
    // `none` is a float model: a config may say so, a ternarization may not.
    assert.equal(config({ method: 'none' }).accepted, true);
    assert.equal(cli({ method: 'none' }).accepted, false);
    assert.equal(
      (await rejection(s.client.sendRequest(TernarizeRequest.type, { modelPath: '/m/model.json', outDir: '/o', method: 'none' } as never)))
        .code,
      -32602,
    );
  } finally {
    s.close();
  }
});

test('quant.activations: float by default, int8 accepted, other values and int8 on a float model refused naming the property', () => {
  assert.equal(config({ activations: 'int8' } as QuantInput).accepted, true);
  assert.equal(config({ activations: 'int4' } as QuantInput).property, 'experiments[0].quant.activations');
  const text = (quant: QuantInput) =>
    JSON.stringify({ experiments: [{ name: 'q', model: { arch: 'fmnist-cnn', classes: 10 }, quant, data: { format: 'idx', path: 'd' } }] });
  assert.throws(() => parseConfigText(text({ activations: 'int4' }), 'q.tern.json'), /quant\.activations: must be one of "float", "int8"/);
  assert.throws(
    () => parseConfigText(text({ method: 'none', activations: 'int8' }), 'q.tern.json'),
    (e: unknown) => isUserError(e) && e.data.property === 'experiments[0].quant.activations' && /needs a ternary method/.test(e.message),
  );
  assert.throws(() => parseQuant({ activations: 'int4' }), /activations must be one of "float", "int8" \(got "int4"\)/);
});

test('ternary/ternarize with thresholdFactor 1.5 answers -32602 naming the field', async () => {
  const s = await startInMemory(fakeJobs());
  try {
    const err = await rejection(
      s.client.sendRequest(TernarizeRequest.type, { modelPath: '/m/model.json', outDir: '/o', thresholdFactor: 1.5 }),
    );
    assert.equal(err.code, -32602);
    assert.equal(err.message, 'ternary/ternarize: thresholdFactor must be a number in [0, 1] (got 1.5); the default is 0.05.');
    assert.deepEqual(err.data, { property: 'thresholdFactor' });
  } finally {
    s.close();
  }
});

// The server and the CLI write the same model, record the same settings, and never over their source.
let dir: string;
let floatDir: string;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tern-quant-'));
  floatDir = join(dir, 'float');
  await initBackend({ backend: 'cpu' });
  const model = buildModel({ arch: 'lenet5', classes: 10, quant: { method: 'none' }, seed: 5 });
  await saveModel(model, floatDir);
  model.dispose();
});
after(() => rmSync(dir, { recursive: true, force: true }));

const sink = { write: () => true } as unknown as NodeJS.WritableStream;

test('tern ternarize and ternary/ternarize record the quant settings and refuse the source folder, also through a symlink', async () => {
  const link = join(dir, 'link-to-float');
  symlinkSync(floatDir, link);
  const s = await startInMemory(realJobs(), { backend: 'cpu' });
  try {
    for (const outDir of [floatDir, link, join(floatDir, '..', 'float')]) {
      await assert.rejects(
        runTernarize([join(floatDir, 'model.json'), '--out', outDir], { out: sink, err: sink }),
        (e: unknown) => isUserError(e) && e.code === 'invalidArgument' && /--out .* is the input model's folder/.test(e.message),
        `CLI --out ${outDir}`,
      );
      const refused = await rejection(s.client.sendRequest(TernarizeRequest.type, { modelPath: join(floatDir, 'model.json'), outDir }));
      assert.equal(refused.code, -32602, `server outDir ${outDir}`);
      assert.equal(refused.data.property, 'outDir');
      assert.match(refused.message, /is the input model's folder/);
    }
    const quant = { method: 'he2019', thresholdFactor: 0.1, threshold: 'fixed', tex: 1, firstLast: 'float' } as const;
    assert.equal(
      await runTernarize([floatDir, '--out', join(dir, 'by-cli'), '--threshold-factor', '0.1', '--first-last', 'float', '--json'], {
        out: sink,
        err: sink,
      }),
      0,
    );
    await s.client.sendRequest(TernarizeRequest.type, {
      modelPath: join(floatDir, 'model.json'),
      outDir: join(dir, 'by-server'),
      thresholdFactor: 0.1,
      firstLast: 'float',
    });
    const metadata = (name: string) => JSON.parse(readFileSync(join(dir, name, 'model.json'), 'utf8')).userDefinedMetadata;
    assert.deepEqual(metadata('by-cli').quant, quant);
    assert.deepEqual(metadata('by-server').quant, quant);
    assert.equal(metadata('by-cli').ternarizedFrom, metadata('by-server').ternarizedFrom);
  } finally {
    s.close();
  }
});
