/**
 * Training progress for the terminal: a one-line bar redrawn in place on a TTY (epoch, batch, loss,
 * accuracy, img/s, time left: the status bar's pace, shared/progressText.ts), plain lines otherwise (logs, CI), JSON lines with `--json`.
 */
import type { MetricsRecord } from '../../shared/runRecords';
import type { TrainListener } from '../runs/trainTypes';
import { formatPercent } from '../../shared/format';
import { epochProgress, observePace, paceText, recordProgress, type RunPace } from '../../shared/progressText';

export type ProgressMode = 'tty' | 'plain' | 'json';

const pct = (v: number | undefined) => (v === undefined ? '  -  ' : formatPercent(v, 2));

/** Renders training progress to a stream. */
export class ProgressPrinter {
  private epochs = 0;
  private stepsPerEpoch = 0;
  private lineOpen = false;
  /** Throughput and time left, measured as the status bar and the dashboard measure them (shared/progressText.ts). */
  private pace: RunPace = {};
  private lastDraw = 0;

  constructor(
    private readonly mode: ProgressMode,
    private readonly out: NodeJS.WritableStream & { columns?: number } = process.stdout,
  ) {}

  start(info: { runId: string; runDir: string; experiment: string; epochs: number; stepsPerEpoch: number; backend: string }): void {
    this.epochs = info.epochs;
    this.stepsPerEpoch = info.stepsPerEpoch;
    this.pace = {};
    if (this.mode === 'json') {
      this.out.write(JSON.stringify({ kind: 'start', ...info }) + '\n');
      return;
    }
    this.out.write(
      `Training ${info.experiment} (run ${info.runId}) on ${info.backend}: ${info.epochs} epochs × ${info.stepsPerEpoch} steps\n`,
    );
  }

  metrics(record: MetricsRecord): void {
    if (this.mode === 'json') {
      this.out.write(JSON.stringify(record) + '\n');
      return;
    }
    observePace(this.pace, [record], this.epochs);
    // "1,234 img/s  2 min 05 s left", as the status bar says it; nothing before it is known.
    const pace = paceText(this.pace, '  ');
    const tail = pace ? `  ${pace}` : '';
    if (record.kind === 'epoch') {
      this.clearLine();
      this.out.write(
        `${epochProgress(record.epoch, this.epochs)}  loss ${record.loss.toFixed(4)}  acc ${pct(record.top1)}  ` +
          `val loss ${record.valLoss?.toFixed(4) ?? '-'}  val acc ${pct(record.valTop1)}  val top-5 ${pct(record.valTop5)}  ` +
          `lr ${record.lr.toPrecision(3)}${tail}\n`,
      );
      return;
    }
    const text =
      `${recordProgress(record, this.epochs, this.stepsPerEpoch, '  ')}  loss ${record.loss.toFixed(4)}  ` +
      `acc ${pct(record.top1)}${tail}`;
    if (this.mode === 'tty') {
      const width = Math.max(10, (this.out.columns ?? 100) - text.length - 4);
      const filled = Math.round((record.progress ?? 0) * Math.min(width, 30));
      const bar = '█'.repeat(filled) + '░'.repeat(Math.max(0, Math.min(width, 30) - filled));
      this.out.write(`\r\x1b[K${bar}  ${text}`);
      this.lineOpen = true;
    } else if (Date.now() - this.lastDraw > 10_000 || record.progress === 1) {
      // Plain output (a log file): a line every 10 seconds at most.
      this.out.write(text + '\n');
      this.lastDraw = Date.now();
    }
  }

  log(level: 'info' | 'warn' | 'error', message: string): void {
    if (this.mode === 'json') {
      this.out.write(JSON.stringify({ kind: 'log', level, message }) + '\n');
      return;
    }
    this.clearLine();
    (level === 'info' ? this.out : process.stderr).write(`${level === 'info' ? '' : `${level}: `}${message}\n`);
  }

  /** Ends an open progress line so the next output starts clean. */
  clearLine(): void {
    if (this.lineOpen) {
      this.out.write('\r\x1b[K');
      this.lineOpen = false;
    }
  }
}

/**
 * Ctrl-C for a command that trains: the first press aborts the returned signal (the run stops after
 * the current batch and ends as cancelled) and says so through `printer`; a second one quits at
 * once (exit 130). SIGTERM (the training server's Stop, a service manager) stops the same way.
 * Call `dispose` when the command ends.
 */
export function stopOnCtrlC(printer: ProgressPrinter, what: string): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    printer.log('info', `Stopping ${what} after this batch (Ctrl-C again to quit at once)…`);
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigint);
    },
  };
}

/** A trainer listener (server/runs/trainTypes.ts) that prints through `printer`. */
export function printingListener(printer: ProgressPrinter): TrainListener {
  return {
    onStart: (info) => printer.start(info),
    onMetrics: (record) => printer.metrics(record),
    onLog: (level, message) => printer.log(level, message),
  };
}
