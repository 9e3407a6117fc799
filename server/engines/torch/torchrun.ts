/**
 * torchrun as a child process: its command line, its own process group (so a cancel reaches every
 * rank and nothing outlives this process), its stdout split into lines, its stderr's tail kept to
 * explain a failure, and stdin left open for the replies of the engine protocol
 * (shared/engineProtocol.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { TorchOptions } from '../types';
import { torchPackageDir } from './paths';

/** Lines of torchrun's stderr kept to explain a failure. */
const STDERR_TAIL = 30;

/** The torchrun command line for these options: the engine's package module with the job file. */
export function torchrunArgs(o: TorchOptions, jobPath: string, rdzvId: string, localPort?: number): string[] {
  const args = [
    join(torchPackageDir(), 'torchrun.py'),
    '--nproc_per_node',
    String(o.nprocPerNode),
    '--max_restarts',
    String(o.maxRestarts),
  ];
  if (o.nnodes === 1 && !o.rdzvEndpoint) {
    // Not --standalone: it always puts the store on localhost:29400, so a second run on the same
    // machine joins the first one's store and fails when that run ends (seen: "The connection to
    // the C10d store has failed"). Each run gets its own free port instead.
    args.push('--nnodes', '1', '--rdzv_backend', 'c10d', '--rdzv_endpoint', `127.0.0.1:${localPort ?? 29400}`, '--rdzv_id', rdzvId);
  } else {
    // Static rendezvous: node ranks are the ones given, so node 0 (which holds the run folder and
    // reports progress) hosts global rank 0 and the store at the endpoint.
    const [host, port] = o.rdzvEndpoint!.split(':');
    args.push(
      '--nnodes',
      String(o.nnodes),
      '--node_rank',
      String(o.nodeRank),
      '--master_addr',
      host!,
      '--master_port',
      port!,
      '--rdzv_id',
      rdzvId,
    );
  }
  args.push('--module', 'ternary_torch.run_experiment', jobPath);
  return args;
}

/** A TCP port nobody listens on now (for a single-node run's rendezvous store). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolvePort(port));
    });
  });
}

export interface TorchrunProcess {
  child: ChildProcess;
  /** Signals the whole process group (torchrun and every rank). */
  signal(sig: NodeJS.Signals): void;
  /** Writes a line to the ranks' stdin (rank 0 reads it); ignored once they are gone. */
  reply(line: string): void;
  /** The last lines of stderr, for the reason of a failure. */
  stderrTail(): string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts torchrun with `args` in its own process group; `onLine` gets every stdout line. */
export function startTorchrun(
  python: string,
  args: string[],
  onLine: (line: string) => void,
  onStderr: (line: string) => void,
): TorchrunProcess {
  const child = spawn(python, args, {
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
    // The package is imported from its folder (run with --module): no sys.path edits in the scripts.
    env: { ...process.env, PYTHONUNBUFFERED: '1', PYTHONPATH: [torchPackageDir(), process.env.PYTHONPATH].filter(Boolean).join(':') },
  });
  const signalGroup = (sig: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, sig);
    } catch {
      // already gone
    }
  };
  // This process ending any way Node sees takes the group with it; a SIGKILL of this process
  // closes the ranks' stdin, which rank 0 takes as the end (ternary_torch/events.py).
  const onExit = () => signalGroup('SIGKILL');
  process.on('exit', onExit);
  child.stdin!.on('error', () => undefined);
  const tail: string[] = [];
  readLines(child.stdout!, onLine);
  readLines(child.stderr!, (line) => {
    if (!line.trim()) return;
    tail.push(line);
    if (tail.length > STDERR_TAIL) tail.shift();
    onStderr(line);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit, reject) => {
    child.on('error', reject);
    child.on('close', (code, sig) => resolveExit({ code, signal: sig }));
  }).finally(() => process.off('exit', onExit));
  return {
    child,
    signal: signalGroup,
    reply: (line) => {
      if (child.stdin!.writable) child.stdin!.write(line);
    },
    stderrTail: () => [...tail],
    exited,
  };
}

function readLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let buffer = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffer += chunk;
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      onLine(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
    }
  });
  stream.on('end', () => buffer && onLine(buffer));
}

/** The useful part of torchrun's stderr: the last exception line of the traceback, or the tail. */
export function explainStderr(tail: string[]): string {
  const exception = [...tail]
    .reverse()
    .find((l) => /^(\w+\.)*\w*(Error|Exception|Exit)\b.*:/.test(l.trim()) || /^SystemExit: /.test(l.trim()));
  if (exception) return exception.trim().replace(/^SystemExit: /, '');
  return tail.slice(-5).join(' | ') || 'no output (see the log)';
}
