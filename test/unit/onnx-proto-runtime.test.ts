import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DataType,
  OnnxFormatError,
  attrInt,
  attrInts,
  decodeModel,
  encodeModel,
  floatTensor,
  floatValueInfo,
  model,
  node,
  packInts,
  packedIntTensor,
  readModel,
  tensorToFloat32,
  unpackInts,
} from '../../server/formats/onnx/proto';
import { OnnxRuntimeError, nhwcToNchw, openSession, runOnnx } from '../../server/formats/onnx/runtime';

/** y = DequantizeLinear(codes, scale) + x for a 4-element x. */
function dequantAddModel(dataType: number, raw: Uint8Array, opset: number, irVersion: number, scale = 0.5): Uint8Array {
  return encodeModel(
    model(
      {
        name: 'g',
        node: [node('DequantizeLinear', ['codes', 'scale'], ['w'], 'dq'), node('Add', ['x', 'w'], ['y'], 'add')],
        initializer: [packedIntTensor('codes', [4], dataType, raw), floatTensor('scale', [], [scale])],
        input: [floatValueInfo('x', [4])],
        output: [floatValueInfo('y', [4])],
      },
      { opset, irVersion },
    ),
  );
}

test('packInts stores the first value in the lowest bits and unpackInts inverts it', () => {
  // -1 → 0b11, 0 → 0b00, 1 → 0b01: 0b11_01_00_11 = 0xd3
  assert.deepEqual(Array.from(packInts([-1, 0, 1, -1], 2)), [0xd3]);
  assert.deepEqual(Array.from(packInts([-1, 0, 1, -1, 1], 2)), [0xd3, 0x01]);
  assert.deepEqual(Array.from(packInts([-1, 7, -8], 4)), [0x7f, 0x08]);
  assert.deepEqual(Array.from(unpackInts(new Uint8Array([0xd3, 0x01]), 2, 5, true)), [-1, 0, 1, -1, 1]);
  assert.deepEqual(Array.from(unpackInts(new Uint8Array([0x7f, 0x08]), 4, 3, true)), [-1, 7, -8]);
  assert.deepEqual(Array.from(unpackInts(new Uint8Array([0xd3]), 2, 4, false)), [3, 0, 1, 3]);
  assert.throws(() => unpackInts(new Uint8Array([1]), 2, 5, true), OnnxFormatError);
});

test('ONNX Runtime runs DequantizeLinear on INT2 (opset 25), INT4 (opset 21) and INT8 codes', async () => {
  const cases: [number, Uint8Array, number, number][] = [
    [DataType.INT2, packInts([-1, 0, 1, -1], 2), 25, 11],
    [DataType.INT4, packInts([-1, 0, 1, -1], 4), 21, 10],
    [DataType.INT8, packInts([-1, 0, 1, -1], 8), 13, 8],
  ];
  for (const [type, raw, opset, ir] of cases) {
    const y = await runOnnx(dequantAddModel(type, raw, opset, ir), Float32Array.from([1, 2, 3, 4]), [4], { layout: 'raw' });
    assert.deepEqual(Array.from(y.data), [0.5, 2, 3.5, 3.5], `type ${type}`);
  }
});

test('a model round-trips through encode/decode and its tensors read back', () => {
  const bytes = dequantAddModel(DataType.INT2, packInts([1, -1, 0, 1], 2), 25, 11, 0.25);
  const m = decodeModel(bytes);
  assert.equal(m.graph?.node?.length, 2);
  const [codes, scale] = m.graph?.initializer ?? [];
  assert.deepEqual(Array.from(tensorToFloat32(codes)), [1, -1, 0, 1]);
  assert.deepEqual(Array.from(tensorToFloat32(scale)), [0.25]);
});

test('a truncated or foreign file is a clear OnnxFormatError naming it', async () => {
  const bytes = dequantAddModel(DataType.INT8, packInts([1, 0, 0, 1], 8), 13, 8);
  const dir = mkdtempSync(join(tmpdir(), 'tern-onnx-'));
  const file = join(dir, 'cut.onnx');
  writeFileSync(file, bytes.subarray(0, bytes.length - 7));
  await assert.rejects(
    readModel(file),
    (e: Error) => e instanceof OnnxFormatError && e.message.includes(file) && /truncated/.test(e.message),
  );
  await assert.rejects(readModel(join(dir, 'missing.onnx')), (e: Error) => e instanceof OnnxFormatError && /ENOENT/.test(e.message));
  assert.throws(() => decodeModel(new TextEncoder().encode('{"format": "layers-model"}'), 'model.json'), OnnxFormatError);
});

test('openSession transposes NHWC input to NCHW and reports ONNX Runtime failures clearly', async () => {
  // A depthwise 1×1 convolution on 2 channels: y[c] = x[c] · (c + 1).
  const conv = encodeModel(
    model(
      {
        name: 'g',
        node: [node('Conv', ['x', 'w'], ['y'], 'conv', [attrInts('kernel_shape', [1, 1]), attrInt('group', 2)])],
        initializer: [floatTensor('w', [2, 1, 1, 1], [1, 2])],
        input: [floatValueInfo('x', [null, 2, 1, 3])],
        output: [floatValueInfo('y', [null, 2, 1, 3])],
      },
      { opset: 13, irVersion: 8 },
    ),
  );
  const session = await openSession(conv, { threads: 1 });
  // NHWC [1,1,3,2]: pixels (a0,b0),(a1,b1),(a2,b2)
  const nhwc = Float32Array.from([1, 10, 2, 20, 3, 30]);
  assert.deepEqual(Array.from(nhwcToNchw(nhwc, [1, 1, 3, 2]).data), [1, 2, 3, 10, 20, 30]);
  const y = await session.run(nhwc, [1, 1, 3, 2]);
  assert.deepEqual(y.dims, [1, 2, 1, 3]);
  assert.deepEqual(Array.from(y.data), [1, 2, 3, 20, 40, 60]);
  await assert.rejects(
    session.run(new Float32Array(3), [1, 1, 3, 1]),
    (e: Error) => e instanceof OnnxRuntimeError && /failed to run/.test(e.message),
  );
  await session.release();
  await assert.rejects(
    openSession(new Uint8Array([1, 2, 3]), { source: 'bad.onnx' }),
    (e: Error) => e instanceof OnnxRuntimeError && e.message.includes('bad.onnx'),
  );
});
