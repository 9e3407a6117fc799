/**
 * Building blocks shared by the zoo: a "kernel layer" factory that makes a ternary or a float
 * conv/dense depending on the quantization settings and on whether the layer is the first or last
 * one, and BatchNorm with PyTorch's defaults (momentum 0.1 there = 0.9 here, ε = 1e-5).
 */
import { layers, type SymbolicTensor } from '@tensorflow/tfjs-layers';
import type { QuantConfig, TernaryQuant } from '../../shared/quant';
import { TernaryConv2D, TernaryDense } from '../core/layers';

/** Where a kernel layer sits: `first`/`last` stay float when `firstLast` is `float`. */
export type LayerPosition = 'first' | 'middle' | 'last';

export interface ConvSpec {
  name: string;
  filters: number;
  kernelSize: number;
  strides?: number;
  padding?: 'same' | 'valid';
  useBias?: boolean;
  activation?: string;
  position?: LayerPosition;
}

export interface DenseSpec {
  name: string;
  units: number;
  useBias?: boolean;
  activation?: string;
  position?: LayerPosition;
}

/**
 * Kernels are created with tfjs's He normal (a truncated normal) and then overwritten with the
 * seeded, untruncated PyTorch `kaiming_normal_` values by `initializeKaiming`; the config keeps a
 * standard tfjs initializer, so the float models load in stock tfjs too.
 */
const BUILD_INITIALIZER = 'heNormal';

/** The settings of a layer at `position` when it is ternarized under `quant`; undefined when it stays float. */
export function ternaryQuantAt(quant: QuantConfig, position: LayerPosition = 'middle'): TernaryQuant | undefined {
  if (quant.method === 'none') return undefined;
  return quant.firstLast === 'float' && position !== 'middle' ? undefined : quant;
}

/** A ternary layer's quantization arguments: the model's settings minus the model-level `firstLast`, and its input's quantization. */
function layerQuantArgs(q: TernaryQuant): Pick<TernaryQuant, 'method' | 'thresholdFactor' | 'threshold' | 'tex'> & { inputQuant?: 'int8' } {
  return {
    method: q.method,
    thresholdFactor: q.thresholdFactor,
    threshold: q.threshold,
    tex: q.tex,
    ...(q.activations === 'int8' ? { inputQuant: 'int8' as const } : {}),
  };
}

/** Makes layers for one model under one quantization setting. */
export class LayerFactory {
  constructor(private readonly quant: QuantConfig) {}

  conv(x: SymbolicTensor, spec: ConvSpec): SymbolicTensor {
    const common = {
      name: spec.name,
      filters: spec.filters,
      kernelSize: spec.kernelSize,
      strides: spec.strides ?? 1,
      padding: spec.padding ?? 'same',
      useBias: spec.useBias ?? false,
      activation: spec.activation,
      kernelInitializer: BUILD_INITIALIZER,
    };
    const q = ternaryQuantAt(this.quant, spec.position);
    if (q) {
      return new TernaryConv2D({ ...common, ...layerQuantArgs(q) }).apply(x) as SymbolicTensor;
    }
    return layers.conv2d({ ...common, activation: (spec.activation ?? 'linear') as 'linear' }).apply(x) as SymbolicTensor;
  }

  dense(x: SymbolicTensor, spec: DenseSpec): SymbolicTensor {
    const common = {
      name: spec.name,
      units: spec.units,
      useBias: spec.useBias ?? true,
      activation: spec.activation,
      kernelInitializer: BUILD_INITIALIZER,
    };
    const q = ternaryQuantAt(this.quant, spec.position);
    if (q) {
      return new TernaryDense({ ...common, ...layerQuantArgs(q) }).apply(x) as SymbolicTensor;
    }
    return layers.dense({ ...common, activation: (spec.activation ?? 'linear') as 'linear' }).apply(x) as SymbolicTensor;
  }

  batchNorm(x: SymbolicTensor, name: string): SymbolicTensor {
    return layers.batchNormalization({ name, momentum: 0.9, epsilon: 1e-5 }).apply(x) as SymbolicTensor;
  }

  relu(x: SymbolicTensor, name: string): SymbolicTensor {
    return layers.reLU({ name }).apply(x) as SymbolicTensor;
  }

  /** conv → BN → (ReLU): the unit every ResNet and the fmnist CNN repeat. */
  convBn(x: SymbolicTensor, spec: ConvSpec, relu: boolean): SymbolicTensor {
    const y = this.batchNorm(this.conv(x, spec), `${spec.name}_bn`);
    return relu ? this.relu(y, `${spec.name}_relu`) : y;
  }
}
