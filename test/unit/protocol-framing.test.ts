/** The server's frame reader: resynchronises after garbage and reports every fault. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { RecoveringMessageReader, describeInvalidMessage, type FrameFault } from '../../server/rpc/framing';
import { frame } from './protocol-harness';

function reader() {
  const input = new PassThrough();
  const faults: FrameFault[] = [];
  const messages: unknown[] = [];
  const r = new RecoveringMessageReader(input, (f) => faults.push(f));
  r.listen((m) => messages.push(m));
  /** Writes synchronously into the reader (PassThrough emits 'data' on the next tick otherwise). */
  const feed = (bytes: Buffer | string) => input.emit('data', typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  return { faults, messages, feed };
}

const ping = (id: number) => ({ jsonrpc: '2.0', id, method: 'ping', params: { text: 'grüße ✓' } });

test('frames split at every byte boundary arrive whole, in order', () => {
  const { faults, messages, feed } = reader();
  const bytes = Buffer.concat([frame(JSON.stringify(ping(1))), frame(JSON.stringify(ping(2)))]);
  for (let i = 0; i < bytes.length; i++) feed(bytes.subarray(i, i + 1));
  assert.deepEqual(messages, [ping(1), ping(2)]);
  assert.deepEqual(faults, []);
});

test('garbage with a valid Content-Length, invalid JSON and invalid UTF-8 are parse errors; the next message gets through', () => {
  const { faults, messages, feed } = reader();
  feed(frame(Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0x01])));
  feed(frame('{"jsonrpc": "2.0", "id": 1, "method": '));
  feed(frame(Buffer.from([0x22, 0xff, 0xfe, 0x22]))); // "\xff\xfe": not UTF-8
  feed(frame(JSON.stringify(ping(7))));
  assert.deepEqual(messages, [ping(7)]);
  assert.equal(faults.length, 3);
  for (const f of faults) {
    assert.equal(f.code, -32700);
    assert.equal(f.id, null);
    assert.match(f.message, /^Parse error: the message body is not UTF-8 JSON/);
  }
});

test('bytes that are not a header are skipped up to the next Content-Length', () => {
  const { faults, messages, feed } = reader();
  feed('hello there\r\n\r\n');
  feed('more junk ' + frame(JSON.stringify(ping(1))).toString('latin1'));
  feed('X'.repeat(20_000)); // no blank line at all: longer than any header
  feed(frame(JSON.stringify(ping(2))));
  feed('Content-Type: text/plain\r\n\r\n');
  feed('Content-Length: twelve\r\n\r\n');
  feed(frame(JSON.stringify(ping(3))));
  assert.deepEqual(messages, [ping(1), ping(2), ping(3)]);
  assert.deepEqual(
    faults.map((f) => f.message),
    [
      'Discarded a header block without Content-Length: "hello there".',
      'Discarded 10 bytes that were not a message header.',
      // 20 000 bytes without a blank line: dropped except a tail that could start a header…
      `Discarded ${20_000 - 15} bytes that were not a message header.`,
      // …which the next frame shows to be garbage too.
      'Discarded 15 bytes that were not a message header.',
      'Discarded a header block without Content-Length: "Content-Type: text/plain".',
      'Discarded a message whose Content-Length is not a number: "twelve".',
    ],
  );
  assert.ok(faults.every((f) => f.code === -32700 && f.id === null));
});

test('JSON that is not JSON-RPC is an invalid request, answered with its id when it has one', () => {
  const { faults, messages, feed } = reader();
  feed(frame('[1, 2]'));
  feed(frame('"just a string"'));
  feed(frame('{"jsonrpc":"2.0","id":3,"method":5}'));
  feed(frame('{"jsonrpc":"1.0","id":"a","method":"x"}'));
  feed(frame('{"jsonrpc":"2.0","method":"$/cancelRequest"}'));
  feed(frame('{"jsonrpc":"2.0","id":4}'));
  feed(frame(JSON.stringify(ping(9))));
  assert.deepEqual(messages, [ping(9)]);
  assert.deepEqual(
    faults.map((f) => [f.code, f.id]),
    [
      [-32600, null],
      [-32600, null],
      [-32600, 3],
      [-32600, 'a'],
      [-32600, null],
      [-32600, 4],
    ],
  );
  assert.match(faults[0].message, /batch messages/);
  assert.match(faults[4].message, /\$\/cancelRequest needs params\.id/);
});

test('describeInvalidMessage accepts requests, notifications and responses', () => {
  assert.equal(describeInvalidMessage({ jsonrpc: '2.0', id: 1, method: 'a', params: [] }), undefined);
  assert.equal(describeInvalidMessage({ jsonrpc: '2.0', method: 'a' }), undefined);
  assert.equal(describeInvalidMessage({ jsonrpc: '2.0', id: 1, result: null }), undefined);
  assert.equal(describeInvalidMessage({ jsonrpc: '2.0', id: null, error: { code: 1, message: 'x' } }), undefined);
  assert.match(describeInvalidMessage({ jsonrpc: '2.0', method: 'a', params: 3 })!, /"params" must be an object or an array/);
});

test('200 KB of random bytes in random chunks, then a message: the message arrives', () => {
  const { faults, messages, feed } = reader();
  let s = 12345;
  const rand = () => ((s = (s * 1103515245 + 12345) >>> 0) >>> 8) / 2 ** 24;
  const noise = Buffer.alloc(200_000);
  for (let i = 0; i < noise.length; i++) noise[i] = Math.floor(rand() * 256);
  for (let at = 0; at < noise.length;) {
    const size = 1 + Math.floor(rand() * 5000);
    feed(noise.subarray(at, at + size));
    at += size;
  }
  feed(frame(JSON.stringify(ping(42))));
  assert.deepEqual(messages, [ping(42)]);
  assert.ok(faults.length > 0 && faults.every((f) => f.code === -32700));
});

test('a large message in small chunks is joined once: bytes copied stay linear in its size', () => {
  const { faults, messages, feed } = reader();
  const big = { jsonrpc: '2.0', id: 9, method: 'ping', params: { text: 'x'.repeat(4 * 1024 * 1024) } };
  const bytes = Buffer.concat([frame(JSON.stringify(big)), frame(JSON.stringify(ping(10)))]);
  // Count what Buffer.concat copies instead of timing: joining the buffer on every 64 KB chunk
  // copies about size²/(2·64 KB) bytes (≈ 130 MB here), joining once copies about the size.
  const concat = Buffer.concat;
  let copied = 0;
  Buffer.concat = ((list: readonly Uint8Array[], total?: number) => {
    const result = concat(list, total);
    copied += result.length;
    return result;
  }) as typeof Buffer.concat;
  try {
    for (let i = 0; i < bytes.length; i += 64 * 1024) feed(bytes.subarray(i, i + 64 * 1024));
  } finally {
    Buffer.concat = concat;
  }
  assert.deepEqual(faults, []);
  assert.equal(messages.length, 2);
  assert.equal((messages[0] as typeof big).params.text.length, big.params.text.length);
  assert.ok(copied <= 2 * bytes.length, `copied ${copied} bytes for a message of ${bytes.length}`);
});
