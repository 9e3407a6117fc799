/**
 * Running a sweep (docs/configs.md, `sweep`): the experiment of each point, the tag its run records,
 * and the plan — which points a completed run already has, which a stopped run can continue, which
 * need a new run — so that `tern sweep` and the editor's Sweep lens cancel and resume a sweep as a
 * whole: running the same grid again picks up where it stopped.
 */
import { parseQuant, type QuantInput } from '../../shared/quant';
import { UserError } from '../../shared/userError';
import { applySweepPoint, sweepId, sweepPoints, tradeoffRowOf, type SweepSpec, type SweepTag, type TradeoffRow } from '../../shared/sweep';
import type { ExperimentConfig } from '../../shared/experimentConfig';
import type { RunInfo, SweepPlan } from '../../shared/protocol';
import { listRuns, readRunHistory } from './runFiles';

/** The experiment's grid; refuses an experiment without one. */
export function sweepSpecOf(experiment: ExperimentConfig): SweepSpec {
  if (!experiment.sweep || Object.keys(experiment.sweep).length === 0) {
    throw new UserError(
      'invalidConfig',
      `Experiment "${experiment.name}" has no sweep: add "sweep": { "quant.tex": [1, 2, 4] } to it (docs/configs.md), or give the settings with --set KEY=V1,V2.`,
    );
  }
  return experiment.sweep;
}

/** The experiment a point trains (the point's settings applied, quant settings checked again) and its run's tag. */
export function sweepPointRun(experiment: ExperimentConfig, index: number): { experiment: ExperimentConfig; sweep: SweepTag } {
  const spec = sweepSpecOf(experiment);
  const points = sweepPoints(spec);
  const point = points[index];
  if (point === undefined) {
    throw new UserError(
      'invalidArgument',
      `Sweep point ${index} does not exist: the sweep of "${experiment.name}" has ${points.length} points (0 to ${points.length - 1}).`,
    );
  }
  const applied = applySweepPoint(experiment, point);
  applied.quant = parseQuant(applied.quant as QuantInput);
  return { experiment: applied, sweep: { id: sweepId(experiment.name, spec), index, count: points.length, point } };
}

/** What running the sweep now does with each point, from the runs under `runsDir` that carry its id. */
export async function planSweep(experiment: ExperimentConfig, runsDir: string): Promise<SweepPlan> {
  const spec = sweepSpecOf(experiment);
  const id = sweepId(experiment.name, spec);
  const runs = (await listRuns([runsDir])).filter((r) => r.sweep?.id === id);
  const points = sweepPoints(spec).map((point, index) => {
    // listRuns is newest first: the newest run of a point decides.
    const mine = runs.filter((r) => r.sweep?.index === index);
    const done = mine.find((r) => r.status === 'completed');
    if (done) return { index, point, action: 'done' as const, runDir: done.runDir };
    const stopped = mine.find((r: RunInfo) => r.resumable);
    if (stopped) return { index, point, action: 'resume' as const, runDir: stopped.runDir };
    return { index, point, action: 'train' as const };
  });
  return { sweepId: id, experiment: experiment.name, points };
}

/** A run folder's row of the trade-off table (shared/sweep.ts tradeoffRowOf). */
export async function readTradeoffRow(runDir: string): Promise<TradeoffRow | undefined> {
  return tradeoffRowOf(runDir, await readRunHistory(runDir));
}
