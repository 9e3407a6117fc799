/** The reference's step learning-rate schedule. */

/**
 * Learning rate of (0-based) epoch `epoch`: `lr · Π gammas[i]` over every `schedule[i] ≤ epoch`,
 * as the reference's `adjust_learning_rate` computes it at the start of each epoch.
 */
export function learningRateAt(epoch: number, lr: number, schedule: readonly number[], gammas: readonly number[]): number {
  let rate = lr;
  for (let i = 0; i < schedule.length; i++) {
    if (epoch >= schedule[i]!) rate *= gammas[i]!;
  }
  return rate;
}
