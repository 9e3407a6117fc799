/**
 * Runs inside the extension host of code-server (scripts/bench-editor-vs-cli.ts starts it): for
 * each round, the same experiment through the CLI (`tern train`, a child process at normal
 * priority, and again at nice 10) and through the editor (the `ternary.train` command, the
 * server at its default low priority, nice 10), alternating the order. On a machine busy with
 * other work nice 10 alone makes a run slower; the CLI at nice 10 separates that from what the
 * editor itself costs (which is what remains on an idle machine, where nice changes nothing). Writes one JSON line per training to $BENCH_OUT.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TrainResult } from '../../shared/protocol';

const out = process.env.BENCH_OUT!;
const configPath = process.env.BENCH_CONFIG!;
const experiment = process.env.BENCH_EXPERIMENT!;
const rounds = Number(process.env.BENCH_ROUNDS ?? '3');
const repo = process.env.BENCH_REPO!;
const cliRuns = process.env.BENCH_CLI_RUNS!;

function record(line: object): void {
  appendFileSync(out, `${JSON.stringify(line)}\n`);
}

/**
 * CPU seconds used so far by the processes of this benchmark that are alive now, in three groups:
 * the workbench (Chromium), code-server with its extension host, and the Ternary training server.
 * Only descendants of the benchmark script ($BENCH_PID) count: other programs on the machine may
 * run Chromium too. Read before and after each training, the difference says what the editor
 * itself cost while it trained.
 */
function cpuSecondsByGroup(): Record<'chromium' | 'codeServer' | 'trainingServer', number> {
  const ticksPerSecond = 100; // USER_HZ on Linux
  const processes = new Map<number, { ppid: number; seconds: number; cmdline: string }>();
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Fields after the ")" that ends the command name: ppid is field 4, utime 14, stime 15.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      processes.set(Number(pid), { ppid: Number(fields[1]), seconds: (Number(fields[11]) + Number(fields[12])) / ticksPerSecond, cmdline });
    } catch {
      continue; // exited while we looked
    }
  }
  const root = Number(process.env.BENCH_PID);
  const ours = (pid: number): boolean => {
    for (let p = pid, hops = 0; p > 1 && hops < 64; hops++) {
      if (p === root) return true;
      p = processes.get(p)?.ppid ?? 0;
    }
    return false;
  };
  const totals = { chromium: 0, codeServer: 0, trainingServer: 0 };
  for (const [pid, p] of processes) {
    if (pid === root || !ours(pid)) continue;
    if (/chromium/.test(p.cmdline)) totals.chromium += p.seconds;
    else if (/dist\/server\.js/.test(p.cmdline)) totals.trainingServer += p.seconds;
    else if (!/bin\/tern\.js/.test(p.cmdline)) totals.codeServer += p.seconds;
  }
  return totals;
}

function cpuDelta(before: ReturnType<typeof cpuSecondsByGroup>): ReturnType<typeof cpuSecondsByGroup> {
  const after = cpuSecondsByGroup();
  const round = (v: number) => Math.round(v * 100) / 100;
  return {
    chromium: round(after.chromium - before.chromium),
    codeServer: round(after.codeServer - before.codeServer),
    trainingServer: round(after.trainingServer - before.trainingServer),
  };
}

function loadAverage(): number {
  return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
}

/** `nice`: 0 as a user starts `tern train`, or 10 as the editor's server runs (ternary.server.lowPriority). */
async function viaCli(nice: number): Promise<{ wallMs: number; trainSeconds: number; backend: string }> {
  const started = Date.now();
  const args = [path.join(repo, 'bin', 'tern.js'), 'train', configPath, '--experiment', experiment, '--runs-dir', cliRuns, '--json'];
  const child = spawn(nice ? 'nice' : process.execPath, nice ? ['-n', String(nice), process.execPath, ...args] : args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  const wallMs = Date.now() - started;
  if (code !== 0) throw new Error(`tern train exited ${code}: ${stderr}`);
  const summary = stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { kind?: string; wallSeconds?: number; backend?: string })
    .find((l) => l.kind === 'summary')!;
  return { wallMs, trainSeconds: summary.wallSeconds!, backend: summary.backend! };
}

async function viaEditor(): Promise<{ wallMs: number; trainSeconds: number; backend: string }> {
  const started = Date.now();
  const result = await vscode.commands.executeCommand<TrainResult>('ternary.train', { configPath, experiment });
  const wallMs = Date.now() - started;
  if (result?.summary.status !== 'completed')
    throw new Error(`the editor's run ended ${result?.summary.status}: ${result?.summary.reason ?? ''}`);
  return { wallMs, trainSeconds: result.summary.wallSeconds, backend: result.summary.backend };
}

export async function run(): Promise<void> {
  const extension = vscode.extensions.getExtension<{ serverRunning(): boolean }>('ternary-studio.ternary-studio')!;
  const api = await extension.activate();
  // As a user trains: the Ternary views in sight (tree, progress notification, status bar update live).
  await vscode.commands.executeCommand('workbench.view.extension.ternary');
  const deadline = Date.now() + 60_000;
  while (!api.serverRunning() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  for (let round = 1; round <= rounds; round++) {
    const order: ('cli' | 'cli-nice10' | 'editor')[] = round % 2 === 1 ? ['cli', 'cli-nice10', 'editor'] : ['editor', 'cli-nice10', 'cli'];
    for (const how of order) {
      const load = loadAverage();
      const cpuBefore = cpuSecondsByGroup();
      const r = how === 'editor' ? await viaEditor() : await viaCli(how === 'cli' ? 0 : 10);
      record({ round, how, ...r, loadBefore: load, loadAfter: loadAverage(), cpuSeconds: cpuDelta(cpuBefore) });
    }
  }
}
