/**
 * What TernaryConv2D and TernaryDense share: quantization arguments, and resolving initializers
 * and activations the way tfjs-layers does — through tfjs's SerializationMap, where tfjs-layers
 * registers its initializer and activation classes. (Its own helpers live in deep `dist/` modules,
 * a second copy of tfjs-layers next to the bundle that `@tensorflow/tfjs-layers` resolves to.)
 */
import { serialization, type Tensor } from '@tensorflow/tfjs-core';
import { initializers } from '@tensorflow/tfjs-layers';
import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology';
import type { Initializer } from '@tensorflow/tfjs-layers/dist/initializers';
import { parseTernaryQuant, type ThresholdMode } from '../../../shared/quant';
import { isUserError, UserError } from '../../../shared/userError';
import type { LayerQuant, TernaryMethod } from '../quantizer';
import type { InputQuant } from '../activationQuant';

export type { LayerArgs, Initializer };

/** An initializer as tfjs-layers accepts it: camelCase name, instance, or serialized `{className, config}`. */
export type InitializerSpec = string | Initializer | serialization.ConfigDict;

/** Arguments every ternary layer takes on top of its float twin's. */
export interface TernaryQuantArgs {
  /** Ternarization rule: `he2019` (Δ = f·max|W|, default) or `twn` (Δ = 0.7·mean|W|). */
  method?: TernaryMethod;
  /** f in Δ = f·max|W| when `tex` is 1 (he2019). Default: shared/quant.ts QUANT_DEFAULTS. */
  thresholdFactor?: number;
  /** `fixed` (default) or `optimal` thresholds (shared/quant.ts ThresholdMode). */
  threshold?: ThresholdMode;
  /** Number of REL branches: 1, 2 or 4 (factors 0.05, 0.1, 0.15, 0.2). Default 1. */
  tex?: 1 | 2 | 4;
  /** The kernel holds a residual fit with these α's (LayerQuant.residualLevels): a REL model with optimal thresholds loaded from a file. */
  residualLevels?: number[];
  /** `int8`: the layer fake-quantizes its input with a trained range (server/core/activationQuant.ts). Absent: float. */
  inputQuant?: InputQuant;
}

/** `inputQuant` checked: absent (float) or `int8`. */
export function resolveInputQuant(value: unknown, layerName: string | undefined): InputQuant | undefined {
  if (value === undefined || value === null || value === 'float') return undefined;
  if (value === 'int8') return value;
  throw new UserError(
    'badModel',
    `Layer '${layerName ?? '(unnamed)'}': inputQuant must be 'int8' or absent (float), got ${JSON.stringify(value)}. Export the model again.`,
    { layer: layerName ?? '(unnamed)' },
  );
}

/** The layer config of `inputQuant`: written only for int8, so float layers save as before the option existed. */
export function inputQuantConfig(inputQuant: InputQuant | undefined): serialization.ConfigDict {
  return inputQuant ? { inputQuant } : {};
}

/** `residualLevels` checked: t_ex finite numbers, only on layers with optimal thresholds. */
function storedResidualLevels(levels: unknown, tex: number, threshold: ThresholdMode): number[] | undefined {
  if (levels === undefined || levels === null) return undefined;
  if (
    !Array.isArray(levels) ||
    levels.length !== tex ||
    !levels.every((l) => typeof l === 'number' && Number.isFinite(l)) ||
    threshold !== 'optimal'
  ) {
    throw new UserError(
      'badModel',
      `residualLevels must be ${tex} finite numbers on a layer with threshold 'optimal'; got ${JSON.stringify(levels)} (tex ${tex}, threshold '${threshold}'). Export the model again.`,
    );
  }
  return levels as number[];
}

/**
 * Fills in and validates the quantization settings of a layer: the one place they are checked
 * (a layer is built from a config, a conversion or a model.json), so the forward pass need not.
 */
export function resolveQuant(args: TernaryQuantArgs, layerName: string | undefined): LayerQuant {
  try {
    const { method, thresholdFactor, threshold, tex } = parseTernaryQuant({
      method: args.method,
      thresholdFactor: args.thresholdFactor,
      threshold: args.threshold,
      tex: args.tex,
    });
    const residualLevels = storedResidualLevels(args.residualLevels, tex, threshold);
    return { method, thresholdFactor, threshold, tex, ...(residualLevels ? { residualLevels } : {}) };
  } catch (err) {
    if (!isUserError(err)) throw err;
    const layer = layerName ?? '(unnamed)';
    throw new UserError('badModel', `Layer '${layer}': ${err.message}`, { ...err.data, layer });
  }
}

/**
 * A layer's quantization settings as its config (model.json) holds them. `threshold` is written only
 * when it is `optimal`, so a model with fixed thresholds saves as it did before the option existed
 * (and readers that predate it, such as older exports, still read it).
 */
export function quantConfig(quant: LayerQuant): serialization.ConfigDict {
  return {
    method: quant.method,
    thresholdFactor: quant.thresholdFactor,
    tex: quant.tex,
    ...(quant.threshold === 'optimal' ? { threshold: quant.threshold } : {}),
    ...(quant.residualLevels ? { residualLevels: quant.residualLevels } : {}),
  };
}

/** The keys quantConfig writes, as model.json spells them (tfjs serializes camelCase as snake_case). */
export const QUANT_JSON_KEYS: readonly string[] = ['method', 'threshold_factor', 'threshold', 'tex', 'residual_levels', 'input_quant'];

const INITIALIZER_FACTORIES: Record<string, () => Initializer> = {
  glorotUniform: () => initializers.glorotUniform({}),
  glorotNormal: () => initializers.glorotNormal({}),
  heNormal: () => initializers.heNormal({}),
  heUniform: () => initializers.heUniform({}),
  leCunNormal: () => initializers.leCunNormal({}),
  leCunUniform: () => initializers.leCunUniform({}),
  zeros: () => initializers.zeros(),
  ones: () => initializers.ones(),
};

/** Builds a registered tfjs class from `{className, config}`, or says which class is missing. */
function deserializeRegistered<T>(className: string, config: serialization.ConfigDict, what: string): T {
  const entry = serialization.SerializationMap.getMap().classNameMap[className];
  if (!entry) {
    throw new Error(`Unknown ${what} '${className}': it is not a tfjs-layers class; use one of tfjs-layers' built-in ${what}s.`);
  }
  const [cls, fromConfig] = entry;
  return fromConfig(cls, config) as T;
}

export function resolveInitializer(spec: InitializerSpec | undefined, fallback: string): Initializer {
  if (spec === undefined || spec === null) return resolveInitializer(fallback, fallback);
  if (typeof spec === 'string') {
    const factory = INITIALIZER_FACTORIES[spec];
    if (factory) return factory();
    return deserializeRegistered<Initializer>(spec.charAt(0).toUpperCase() + spec.slice(1), {}, 'initializer');
  }
  if (typeof (spec as Initializer).apply === 'function') return spec as Initializer;
  const dict = spec as serialization.ConfigDict;
  return deserializeRegistered<Initializer>(
    typeof dict.className === 'string' ? dict.className : JSON.stringify(dict.className),
    (dict.config ?? {}) as serialization.ConfigDict,
    'initializer',
  );
}

/** `{className, config}` as tfjs-layers writes initializers into model.json. */
export function serializeInitializer(init: Initializer): serialization.ConfigDict {
  return { className: init.getClassName(), config: init.getConfig() };
}

/** An element-wise activation from tfjs-layers' registry (`relu`, `linear`, `softmax`, …). */
export interface ResolvedActivation {
  name: string;
  apply(x: Tensor): Tensor;
}

export function resolveActivation(name: string | undefined): ResolvedActivation {
  const id = name ?? 'linear';
  const activation = deserializeRegistered<{ apply(x: Tensor): Tensor }>(id, {}, 'activation');
  return { name: id, apply: (x) => activation.apply(x) };
}
