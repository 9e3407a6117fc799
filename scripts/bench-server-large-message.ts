/**
 * How the training server copes with a large message: the bundled server
 * (`dist/server.js --stdio`, build it with `node esbuild.mjs`) gets a `ternary/stats` request whose
 * target path is N MB long (it answers NotFound), and right behind it a `ternary/serverStats`
 * request. Prints one JSON line per size: how long the large request took to be answered, and
 * how long the small one waited, both from the moment its bytes were written.
 *
 *   node --import tsx scripts/bench-server-large-message.ts [sizes in MB, default 2 5 10 20]
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const root = join(import.meta.dirname, '..');
const sizesMb = process.argv
  .slice(2)
  .map(Number)
  .filter((n) => n > 0);

function frame(body: string): Buffer {
  const bytes = Buffer.from(body, 'utf8');
  return Buffer.concat([Buffer.from(`Content-Length: ${bytes.length}\r\n\r\n`, 'ascii'), bytes]);
}

async function main(): Promise<void> {
  const child = spawn(process.execPath, [join(root, 'dist', 'server.js'), '--stdio'], { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] });
  const answered = new Map<number, { resolve: (m: { at: number; bytes: number; message: any }) => void }>();
  let buffer = Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let need = -1;
  let have = 0;
  // A linear client-side reader: chunks are joined once per message.
  child.stdout.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    have += chunk.length;
    for (;;) {
      if (need < 0) {
        buffer = Buffer.concat([buffer, ...chunks.splice(0)]);
        have = buffer.length;
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        need = end + 4 + Number(/Content-Length: (\d+)/i.exec(buffer.subarray(0, end).toString('latin1'))![1]);
        chunks.push(buffer);
        buffer = Buffer.alloc(0);
      }
      if (have < need) return;
      const all = Buffer.concat(chunks.splice(0));
      const end = all.indexOf('\r\n\r\n');
      const message = JSON.parse(all.subarray(end + 4, need).toString('utf8'));
      buffer = all.subarray(need);
      have = buffer.length;
      const bytes = need;
      need = -1;
      if (typeof message.id === 'number') answered.get(message.id)?.resolve({ at: performance.now(), bytes, message });
      if (buffer.length) {
        chunks.push(buffer);
        buffer = Buffer.alloc(0);
      } else return;
    }
  });
  let nextId = 1;
  const send = (method: string, params: unknown) => {
    const id = nextId++;
    const done = new Promise<{ at: number; bytes: number; message: any }>((resolve) => answered.set(id, { resolve }));
    const sentAt = performance.now();
    child.stdin.write(frame(JSON.stringify({ jsonrpc: '2.0', id, method, params })));
    return { sentAt, done };
  };
  await send('initialize', {
    processId: null,
    rootUri: null,
    capabilities: {},
    initializationOptions: { backend: 'cpu', lowPriority: false },
  }).done;
  child.stdin.write(frame(JSON.stringify({ jsonrpc: '2.0', method: 'initialized', params: {} })));
  for (const mb of sizesMb.length ? sizesMb : [2, 5, 10, 20]) {
    const target = '/' + 'x'.repeat(mb * 1024 * 1024);
    const large = send('ternary/stats', { target });
    const small = send('ternary/serverStats', {});
    const [l, s] = await Promise.all([large.done, small.done]);
    process.stdout.write(
      JSON.stringify({
        messageMB: mb,
        largeAnsweredMs: Math.round(l.at - large.sentAt),
        largeAnswerBytes: l.bytes,
        largeErrorCode: l.message.error?.code,
        statsWaitedMs: Math.round(s.at - small.sentAt),
      }) + '\n',
    );
  }
  child.stdin.end();
}

void main();
