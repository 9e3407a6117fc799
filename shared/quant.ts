/**
 * Quantization settings: their type, their defaults and their one validation. The defaults, the
 * allowed values and the range of `thresholdFactor` come from the config schema
 * (shared/tern.schema.json), so the editor's completion, the config loader, the training
 * server's `ternary/ternarize`, `tern ternarize` and the extension's input box agree.
 */
import schema from './tern.schema.json';
import { UserError } from './userError';

export type TernaryMethod = 'he2019' | 'twn';

/** How Δ and α are chosen: `fixed` factors of max|W|, or the least-squares `optimal` ones (docs/method.md). */
export type ThresholdMode = 'fixed' | 'optimal';

/** What ternary layers compute on: `float` activations, or inputs fake-quantized to 8 bits in training (docs/method.md). */
export type ActivationMode = 'float' | 'int8';

/** A ternary model: how its conv and dense weights are ternarized. */
export interface TernaryQuant {
  /** `he2019`: Δ = f·max|W|, α = mean|W| over |W| ≥ Δ. `twn`: Δ = 0.7·mean|W|, α over |W| > Δ. */
  method: TernaryMethod;
  /** f in Δ = f·max|W| (he2019, t_ex = 1), in [THRESHOLD_FACTOR_RANGE.min, .max]. */
  thresholdFactor: number;
  /** `fixed`: Δ = f·max|W| (REL: the fixed factors). `optimal`: Δ, α minimizing ‖W − α·T‖² per layer and step (he2019 only). */
  threshold: ThresholdMode;
  /** Residual expansion: number of ternary branches (1, 2 or 4); factors 0.05, 0.1, 0.15, 0.2. */
  tex: 1 | 2 | 4;
  /** `ternary`: every conv/dense layer ternary; `float`: keep the first and last layers full precision. */
  firstLast: 'ternary' | 'float';
  /**
   * `float` (the paper's setting) or `int8`: the input of every ternary layer is fake-quantized while
   * training. parseQuant always fills it in; settings built in code may leave it out, which is `float`.
   */
  activations?: ActivationMode;
}

/** A float model (the baseline): nothing is ternarized. */
export interface FloatQuant {
  method: 'none';
}

export type QuantConfig = FloatQuant | TernaryQuant;

interface PropertySchema {
  default: unknown;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
}
const properties = schema.definitions.quant.properties as unknown as Record<keyof TernaryQuant, PropertySchema>;

/** The schema's defaults: he2019, f = 0.05, fixed thresholds, t_ex = 1, every layer ternary. */
export const QUANT_DEFAULTS: Readonly<Required<TernaryQuant>> = Object.freeze({
  method: properties.method.default as TernaryMethod,
  thresholdFactor: properties.thresholdFactor.default as number,
  threshold: properties.threshold.default as ThresholdMode,
  tex: properties.tex.default as 1 | 2 | 4,
  firstLast: properties.firstLast.default as 'ternary' | 'float',
  activations: properties.activations.default as ActivationMode,
});

/** Allowed values of t_ex, the number of REL branches. */
/** Allowed values of `threshold`. */
export const THRESHOLD_MODES: readonly ThresholdMode[] = Object.freeze(properties.threshold.enum as ThresholdMode[]);

export const TEX_VALUES: readonly (1 | 2 | 4)[] = Object.freeze(properties.tex.enum as (1 | 2 | 4)[]);

/** Allowed values of `activations`. */
export const ACTIVATION_MODES: readonly ActivationMode[] = Object.freeze(properties.activations.enum as ActivationMode[]);

/**
 * Allowed values of f, both ends included: f = 0 makes Δ = 0 (every weight ±α, no zeros),
 * f = 1 makes Δ = max|W| (only the largest weights stay non-zero). Beyond 1 every weight would
 * be zero (Δ > max|W|), and α = mean over an empty set is undefined.
 */
export const THRESHOLD_FACTOR_RANGE: Readonly<{ min: number; max: number }> = Object.freeze({
  min: properties.thresholdFactor.minimum as number,
  max: properties.thresholdFactor.maximum as number,
});

/**
 * Bits a packed ternary kernel stores per weight (docs/formats.md, `model.tern`): nested codes
 * c ∈ [−t_ex, t_ex] take ⌈log2(2·t_ex + 1)⌉ (2, 3, 4); REL with optimal thresholds needs residual
 * codes, one of 3^t_ex sums, ⌈log2 3^t_ex⌉ (4 for t_ex 2, 7 for t_ex 4; at t_ex 1 both are 2).
 */
export function codeBits(quant: { tex: number; threshold?: ThresholdMode }): number {
  return quant.threshold === 'optimal' ? Math.ceil(Math.log2(3 ** quant.tex)) : Math.ceil(Math.log2(2 * quant.tex + 1));
}

/** Bits of one packed ternary kernel of `weights` weights: its codes and one float32 level (A_k or α_k) per branch. */
export function ternaryKernelBits(weights: number, quant: { tex: number; threshold?: ThresholdMode }): number {
  return weights * codeBits(quant) + 32 * quant.tex;
}

/** The settings as they arrive: JSON (a config, request params) or numbers parsed from text. */
export interface QuantInput {
  method?: unknown;
  thresholdFactor?: unknown;
  threshold?: unknown;
  tex?: unknown;
  firstLast?: unknown;
  activations?: unknown;
}

/** How the caller names each setting in its messages (`--threshold-factor`, `experiments[0].quant.tex`). */
export type QuantNames = Partial<Record<keyof QuantInput, string>>;

function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value) : String(value);
}

function oneOf<T>(key: keyof QuantInput, value: unknown, allowed: readonly T[], names: QuantNames): T {
  if (value === undefined) return QUANT_DEFAULTS[key] as T;
  if (allowed.includes(value as T)) return value as T;
  const name = names[key] ?? key;
  throw new UserError('invalidArgument', `${name} must be one of ${allowed.map(show).join(', ')} (got ${show(value)}).`, {
    property: name,
  });
}

/**
 * Checks quantization settings and fills in the defaults. Throws a UserError (code
 * `invalidArgument`, `data.property` the setting's name) that says what is allowed.
 */
export function parseQuant(input: QuantInput, names: QuantNames = {}): QuantConfig {
  const method = oneOf<TernaryMethod | 'none'>('method', input.method, properties.method.enum as (TernaryMethod | 'none')[], names);
  // An experiment's setting (a trained property): tern ternarize and the layers take the rest only.
  const activations = oneOf<ActivationMode>('activations', input.activations, ACTIVATION_MODES, names);
  if (method === 'none') {
    // Only ternary layers quantize their inputs: a float model with int8 would silently train float.
    if (activations !== 'float') {
      const name = names.activations ?? 'activations';
      throw new UserError(
        'invalidArgument',
        `${name} "${activations}" needs a ternary ${names.method ?? 'method'} ("he2019" or "twn"): it quantizes the inputs of ternary layers, and method "none" has none.`,
        { property: name },
      );
    }
    return { method };
  }
  return { ...parseTernary(method, input, names), activations };
}

/** As parseQuant, for a ternary model only (`ternary/ternarize`, `tern ternarize`): refuses `none`. */
export function parseTernaryQuant(input: QuantInput, names: QuantNames = {}): TernaryQuant {
  const methods = (properties.method.enum as string[]).filter((m): m is TernaryMethod => m !== 'none');
  return parseTernary(oneOf<TernaryMethod>('method', input.method, methods, names), input, names);
}

function parseTernary(method: TernaryMethod, input: QuantInput, names: QuantNames): TernaryQuant {
  const { min, max } = THRESHOLD_FACTOR_RANGE;
  let thresholdFactor = QUANT_DEFAULTS.thresholdFactor;
  if (input.thresholdFactor !== undefined) {
    const f = input.thresholdFactor;
    if (typeof f !== 'number' || !Number.isFinite(f) || f < min || f > max) {
      const name = names.thresholdFactor ?? 'thresholdFactor';
      throw new UserError(
        'invalidArgument',
        `${name} must be a number in [${min}, ${max}] (got ${show(f)}); the default is ${QUANT_DEFAULTS.thresholdFactor}.`,
        { property: name },
      );
    }
    thresholdFactor = f;
  }
  const tex = oneOf<1 | 2 | 4>('tex', input.tex, TEX_VALUES, names);
  if (method === 'twn' && tex !== 1) {
    // REL's branches differ by their threshold factor f, which TWN's Δ = 0.7·mean|W| does not have.
    const name = names.tex ?? 'tex';
    throw new UserError(
      'invalidArgument',
      `${name} must be 1 with ${names.method ?? 'method'} "twn" (got ${tex}): REL branches are defined by he2019 threshold factors; TWN has one fixed threshold.`,
      { property: name },
    );
  }
  const threshold = oneOf<ThresholdMode>('threshold', input.threshold, THRESHOLD_MODES, names);
  if (method === 'twn' && threshold === 'optimal') {
    // TWN is itself a threshold rule (Δ = 0.7·mean|W|); `optimal` replaces the rule, so it belongs to he2019.
    const name = names.threshold ?? 'threshold';
    throw new UserError(
      'invalidArgument',
      `${name} "optimal" needs ${names.method ?? 'method'} "he2019" (got "twn"): TWN has its own fixed threshold rule; use method "he2019" with threshold "optimal", or threshold "fixed".`,
      { property: name },
    );
  }
  const firstLast = oneOf<'ternary' | 'float'>('firstLast', input.firstLast, properties.firstLast.enum as ('ternary' | 'float')[], names);
  return { method, thresholdFactor, threshold, tex, firstLast };
}

/**
 * A number typed as text (a command-line option, an input box) for parseQuant: the number when
 * the text is one, else the text itself, so the error shows what was typed.
 */
export function numberFromText(text: string | undefined): number | string | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  return text.trim() !== '' && Number.isFinite(n) ? n : text;
}
