/**
 * Sweeps (docs/configs.md, `sweep`): a grid of settings of one experiment, each point trained as a
 * normal run whose config.json and summary.json carry the sweep's id and the point. What the
 * config loader, `tern sweep`, the training server and the Trade-off panel share: the keys a sweep
 * may vary, the grid, how a point changes the experiment, the sweep's identity, and the numbers a
 * run contributes to the trade-off table.
 */
import type { LayerStats, ModelSummary } from './layerStats';
import type { LayersRecord, RunConfigRecord, RunSummary } from './runRecords';

/** One value of a swept setting. */
export type SweepValue = number | string | boolean;

/** `"quant.tex": [1, 2, 4]`: the values of each swept setting, in the order the grid walks them. */
export type SweepSpec = Record<string, SweepValue[]>;

/** One point of the grid: a value for every swept setting. */
export type SweepPoint = Record<string, SweepValue>;

/** What config.json and summary.json of a sweep's run record. */
export interface SweepTag {
  /** The sweep's identity: the experiment and its grid (sweepId); the same grid again resumes it. */
  id: string;
  /** Position of the point in the grid (0-based) and the number of points. */
  index: number;
  count: number;
  point: SweepPoint;
}

/**
 * The settings a sweep may vary: the quantization and the recipe's numbers. Model, data and engine
 * stay those of the experiment, so the points differ only in what the trade-off is about.
 */
export const SWEEP_KEYS: readonly string[] = Object.freeze([
  'quant.method',
  'quant.thresholdFactor',
  'quant.threshold',
  'quant.tex',
  'quant.firstLast',
  'quant.activations',
  'train.epochs',
  'train.batchSize',
  'train.optimizer',
  'train.lr',
  'train.momentum',
  'train.weightDecay',
  'train.seed',
]);

/** Every combination of the values, the first key varying slowest. */
export function sweepPoints(spec: SweepSpec): SweepPoint[] {
  let points: SweepPoint[] = [{}];
  for (const [key, values] of Object.entries(spec)) {
    points = points.flatMap((p) => values.map((v) => ({ ...p, [key]: v })));
  }
  return points;
}

/** The experiment's JSON with the point's settings written into it (a copy; `sweep` itself removed). */
export function applySweepPoint<T extends object>(experiment: T, point: SweepPoint): T {
  const out = JSON.parse(JSON.stringify(experiment)) as Record<string, unknown>;
  delete out.sweep;
  for (const [key, value] of Object.entries(point)) {
    const [section, property] = key.split('.');
    const target = (out[section] ?? {}) as Record<string, unknown>;
    target[property] = value;
    out[section] = target;
  }
  return out as T;
}

/** `quant.tex=2 · quant.threshold=optimal`. */
export function pointLabel(point: SweepPoint): string {
  return Object.entries(point)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' · ');
}

/** FNV-1a of a string, as 8 hex digits: a short, stable name for a grid (no Node crypto in shared/). */
function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/** `<experiment>~<hash of the grid>`: running the same grid of the same experiment again continues that sweep. */
export function sweepId(experiment: string, spec: SweepSpec): string {
  return `${experiment}~${fnv1a(JSON.stringify(Object.entries(spec)))}`;
}

/** One run's place in the trade-off: what `tern sweep` prints and the Trade-off panel draws. */
export interface TradeoffRow {
  runDir: string;
  runId: string;
  experiment: string;
  status: string;
  /** The run's sweep point, when it belongs to a sweep. */
  sweep?: SweepTag;
  /** `method: none`: a float baseline (the panel's reference line). */
  float: boolean;
  /** The settings that tell runs apart: method, threshold, t_ex, f, first/last (and a sweep's own keys). */
  settings: SweepPoint;
  /** Final validation top-1 in [0, 1]; undefined before the first epoch ends. */
  top1?: number;
  /** Model size as model.tern stores it (ModelSummary.ternaryBytes; float32 for a float model). */
  bytes: number;
  /** bytes · 8 / parameters: the model's bits per weight, 32 for a float model. */
  bitsPerWeight: number;
  /** Zeros among the ternary weights (first branch), over every ternary layer; 0 for a float model. */
  sparsity: number;
}

/** The parts of a run folder a row is made of (config.json's experiment, summary.json, the last layers.jsonl line). */
interface TradeoffInputs {
  runDir: string;
  runId: string;
  status: string;
  experiment: {
    name: string;
    quant: { method: string; thresholdFactor?: number; threshold?: string; tex?: number; firstLast?: string };
  };
  sweep?: SweepTag;
  top1?: number;
  layers?: { layers: LayerStats[]; summary: ModelSummary };
  /** summary.json's sizes, used when no layers line exists yet. */
  sizes?: { fp32Bytes: number; ternaryBytes: number };
}

/** A run's trade-off row from what its folder holds (`ternary/runHistory`); undefined without config.json. */
export function tradeoffRowOf(
  runDir: string,
  h: { config?: RunConfigRecord; layers: LayersRecord[]; summary?: RunSummary; status: string },
): TradeoffRow | undefined {
  if (!h.config) return undefined;
  return tradeoffRow({
    runDir,
    runId: h.config.runId,
    status: h.status,
    experiment: h.config.experiment,
    ...(h.config.sweep ? { sweep: h.config.sweep } : {}),
    ...(h.summary && h.summary.epochs > 0 ? { top1: h.summary.final.top1 } : {}),
    ...(h.layers.length ? { layers: h.layers[h.layers.length - 1] } : {}),
    ...(h.summary ? { sizes: h.summary } : {}),
  });
}

function tradeoffRow(r: TradeoffInputs): TradeoffRow {
  const quant = r.experiment.quant;
  const float = quant.method === 'none';
  // The sweep's own keys first, in its order: they are what its runs differ in.
  const settings: SweepPoint = float
    ? { ...r.sweep?.point, 'quant.method': 'none' }
    : {
        ...r.sweep?.point,
        'quant.method': quant.method,
        'quant.tex': quant.tex ?? 1,
        'quant.threshold': quant.threshold ?? 'fixed',
        'quant.thresholdFactor': quant.thresholdFactor ?? 0.05,
        'quant.firstLast': quant.firstLast ?? 'ternary',
      };
  const summary = r.layers?.summary;
  const params = summary?.params ?? (r.sizes ? r.sizes.fp32Bytes / 4 : 0);
  const bytes = float ? params * 4 : (summary?.ternaryBytes ?? r.sizes?.ternaryBytes ?? 0);
  let zeros = 0;
  let weights = 0;
  for (const l of r.layers?.layers ?? []) {
    if (!l.ternary) continue;
    zeros += l.counts.zero;
    weights += l.counts.neg + l.counts.zero + l.counts.pos;
  }
  return {
    runDir: r.runDir,
    runId: r.runId,
    experiment: r.experiment.name,
    status: r.status,
    ...(r.sweep ? { sweep: r.sweep } : {}),
    float,
    settings,
    ...(r.top1 !== undefined ? { top1: r.top1 } : {}),
    bytes,
    bitsPerWeight: params > 0 ? (bytes * 8) / params : float ? 32 : 0,
    sparsity: weights > 0 ? zeros / weights : 0,
  };
}

/**
 * The Pareto front of points (x: cost, lower is better; y: accuracy, higher is better): the points no
 * other point beats on both, in ascending x. Ties in x keep the higher y.
 */
export function paretoFront<T>(points: T[], x: (p: T) => number, y: (p: T) => number): T[] {
  const sorted = [...points].sort((a, b) => x(a) - x(b) || y(b) - y(a));
  const front: T[] = [];
  let best = -Infinity;
  for (const p of sorted) {
    if (y(p) > best) {
      front.push(p);
      best = y(p);
    }
  }
  return front;
}
