/**
 * SGD and Adam exactly in PyTorch's form (the reference's optimizers), applied to tfjs variables.
 * Weight decay is PyTorch's L2 form, on every parameter (kernels, biases, BatchNorm γ/β), as
 * `torch.optim.SGD(model.parameters(), weight_decay=…)` does in the reference.
 *
 * The state (momentum buffers, Adam moments, step count) can be read out and restored, so a
 * checkpoint resumes bit-for-bit.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TrainConfig } from '../../shared/experimentConfig';

/**
 * Optional kernel for one SGD-with-momentum step of a parameter, for backends that can do it in
 * one pass (onednn): inputs w, g, buf; attrs SgdUpdateAttrs; outputs [w', buf'] with exactly the
 * float operations of Sgd.apply below, in the same order. Backends without it run the ops.
 */
export const SGD_UPDATE = 'TernSgdUpdate';
export interface SgdUpdateAttrs {
  lr: number;
  momentum: number;
  nesterov: boolean;
  weightDecay: number;
}

/** Serializable optimizer state: one Float32Array per slot per parameter, in parameter order. */
export interface OptimizerState {
  kind: 'sgd' | 'adam';
  step: number;
  /** Slot names (`momentum`; `m`, `v`) → per-parameter values (null: not allocated yet). */
  slots: Record<string, (Float32Array | null)[]>;
}

export interface Optimizer {
  readonly kind: 'sgd' | 'adam';
  /** Applies one update with learning rate `lr`. Call inside `tf.tidy`; `grads[i]` belongs to `params[i]`. */
  apply(grads: tf.Tensor[], lr: number): void;
  getState(): Promise<OptimizerState>;
  setState(state: OptimizerState): void;
  dispose(): void;
}

abstract class BaseOptimizer implements Optimizer {
  abstract readonly kind: 'sgd' | 'adam';
  protected step = 0;
  protected readonly slots: Record<string, (tf.Variable | null)[]> = {};

  constructor(
    protected readonly params: tf.Variable[],
    slotNames: string[],
  ) {
    for (const name of slotNames) this.slots[name] = params.map(() => null);
  }

  abstract apply(grads: tf.Tensor[], lr: number): void;

  /** The slot variable of parameter `i`, created from `init` on first use. */
  protected slot(name: string, i: number, init: () => tf.Tensor): tf.Variable {
    const list = this.slots[name]!;
    let v = list[i];
    if (!v) {
      v = tf.keep(tf.variable(init(), false));
      list[i] = v;
    }
    return v;
  }

  async getState(): Promise<OptimizerState> {
    const slots: OptimizerState['slots'] = {};
    for (const [name, list] of Object.entries(this.slots)) {
      slots[name] = await Promise.all(list.map(async (v) => (v ? new Float32Array(await v.data()) : null)));
    }
    return { kind: this.kind, step: this.step, slots };
  }

  setState(state: OptimizerState): void {
    if (state.kind !== this.kind)
      throw new Error(`checkpoint holds ${state.kind} state but the experiment uses ${this.kind}; resume with the same optimizer.`);
    this.step = state.step;
    for (const [name, list] of Object.entries(this.slots)) {
      const saved = state.slots[name];
      if (!saved || saved.length !== list.length)
        throw new Error(
          `checkpoint optimizer state has ${saved?.length ?? 0} '${name}' entries for ${list.length} parameters; was the model changed?`,
        );
      list.forEach((v, i) => {
        v?.dispose();
        const values = saved[i];
        if (values && values.length !== this.params[i]!.size)
          throw new Error(
            `checkpoint optimizer state for parameter ${this.params[i]!.name} has ${values.length} values, expected ${this.params[i]!.size}.`,
          );
        list[i] = values ? tf.keep(tf.variable(tf.tensor(values, this.params[i]!.shape), false)) : null;
      });
    }
  }

  dispose(): void {
    for (const list of Object.values(this.slots)) {
      list.forEach((v, i) => {
        v?.dispose();
        list[i] = null;
      });
    }
  }
}

/** torch.optim.SGD: g += wd·w; buf = m·buf + g (buf = g at the first step); g = nesterov ? g + m·buf : buf; w −= lr·g. */
export class Sgd extends BaseOptimizer {
  readonly kind = 'sgd' as const;

  constructor(
    params: tf.Variable[],
    private readonly momentum: number,
    private readonly nesterov: boolean,
    private readonly weightDecay: number,
  ) {
    super(params, momentum > 0 ? ['momentum'] : []);
  }

  apply(grads: tf.Tensor[], lr: number): void {
    const first = this.step === 0;
    this.step++;
    const fused = tf.getKernel(SGD_UPDATE, tf.getBackend()) !== undefined;
    this.params.forEach((w, i) => {
      let g = grads[i]!;
      if (this.momentum > 0 && fused && !first && this.slots.momentum![i] && w.dtype === 'float32') {
        const slot = this.slots.momentum![i]!;
        const attrs: SgdUpdateAttrs = { lr, momentum: this.momentum, nesterov: this.nesterov, weightDecay: this.weightDecay };
        const [wNew, bufNew] = tf.engine().runKernel(SGD_UPDATE, { w, g, buf: slot }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
        slot.assign(bufNew!);
        w.assign(wNew!);
        return;
      }
      if (this.weightDecay !== 0) g = tf.add(g, tf.mul(w, this.weightDecay));
      if (this.momentum > 0) {
        let buf: tf.Tensor;
        if (first || !this.slots.momentum![i]) {
          buf = g;
          this.slot('momentum', i, () => tf.zerosLike(w)).assign(buf);
        } else {
          const slot = this.slots.momentum![i]!;
          buf = tf.add(tf.mul(slot, this.momentum), g);
          slot.assign(buf);
        }
        g = this.nesterov ? tf.add(g, tf.mul(buf, this.momentum)) : buf;
      }
      w.assign(tf.sub(w, tf.mul(g, lr)));
    });
  }
}

/** torch.optim.Adam (L2 weight decay added to the gradient, no AMSGrad). */
export class Adam extends BaseOptimizer {
  readonly kind = 'adam' as const;
  private readonly beta1 = 0.9;
  private readonly beta2 = 0.999;
  private readonly epsilon = 1e-8;

  constructor(
    params: tf.Variable[],
    private readonly weightDecay: number,
  ) {
    super(params, ['m', 'v']);
  }

  apply(grads: tf.Tensor[], lr: number): void {
    this.step++;
    const biasCorrection1 = 1 - Math.pow(this.beta1, this.step);
    const biasCorrection2 = 1 - Math.pow(this.beta2, this.step);
    const stepSize = lr / biasCorrection1;
    const sqrtBias2 = Math.sqrt(biasCorrection2);
    this.params.forEach((w, i) => {
      let g = grads[i]!;
      if (this.weightDecay !== 0) g = tf.add(g, tf.mul(w, this.weightDecay));
      const m = this.slot('m', i, () => tf.zerosLike(w));
      const v = this.slot('v', i, () => tf.zerosLike(w));
      const mNew = tf.add(tf.mul(m, this.beta1), tf.mul(g, 1 - this.beta1));
      const vNew = tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
      m.assign(mNew);
      v.assign(vNew);
      const denom = tf.add(tf.div(tf.sqrt(vNew), sqrtBias2), this.epsilon);
      w.assign(tf.sub(w, tf.mul(tf.div(mNew, denom), stepSize)));
    });
  }
}

/** The optimizer of a training recipe over `params`. */
export function createOptimizer(train: TrainConfig, params: tf.Variable[]): Optimizer {
  return train.optimizer === 'adam'
    ? new Adam(params, train.weightDecay)
    : new Sgd(params, train.momentum, train.nesterov, train.weightDecay);
}
