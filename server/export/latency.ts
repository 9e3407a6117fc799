/**
 * ONNX Runtime latency of several models measured side by side: one session each, warmed up, then
 * run in rounds that take every model once in turn, so a change of machine load during the
 * measurement hits all of them alike and their ratio holds (BENCHMARKS.md uses the same scheme).
 */
import { openSession, type OnnxSession } from '../formats/onnx/runtime';

export interface LatencyTarget {
  model: string;
  file: string;
  bytes: Uint8Array;
}

export interface MeasuredLatency {
  model: string;
  file: string;
  medianMs: number;
  p10Ms: number;
  p90Ms: number;
}

/** Warm-up runs of each session before timing. */
const WARMUP = 3;

const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

/**
 * Median and 10th/90th percentile milliseconds per `session.run` of each target on the NCHW input
 * `shape` (a fixed deterministic input), `rounds` rounds. `threads` undefined: ONNX Runtime's default.
 */
export async function sideBySideLatency(
  targets: LatencyTarget[],
  shape: number[],
  rounds: number,
  threads?: number,
): Promise<MeasuredLatency[]> {
  const x = new Float32Array(shape.reduce((a, b) => a * b, 1)).map((_, i) => Math.sin(i));
  const sessions: OnnxSession[] = [];
  try {
    for (const t of targets) sessions.push(await openSession(t.bytes, { threads, source: t.file }));
    const times = targets.map(() => [] as number[]);
    for (let round = 0; round < WARMUP + rounds; round++) {
      for (let k = 0; k < sessions.length; k++) {
        const t0 = process.hrtime.bigint();
        await sessions[k].run(x, shape, { layout: 'NCHW' });
        if (round >= WARMUP) times[k].push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    }
    return targets.map((t, k) => {
      const sorted = times[k].sort((a, b) => a - b);
      const round3 = (v: number) => Number(v.toFixed(3));
      return {
        model: t.model,
        file: t.file,
        medianMs: round3(quantile(sorted, 0.5)),
        p10Ms: round3(quantile(sorted, 0.1)),
        p90Ms: round3(quantile(sorted, 0.9)),
      };
    });
  } finally {
    for (const s of sessions) await s.release();
  }
}
