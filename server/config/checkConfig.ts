/**
 * The one validator of `*.tern.json` text: JSON with comments, the JSON Schema
 * (`shared/tern.schema.json`), then the checks the schema cannot express. It returns every
 * problem with its property path and its place in the text (1-based line:column for messages, a
 * 0-based range for editors), so the CLI and the loader (`loadConfig.ts`, first problem) and the
 * editor's diagnostics (`ternary/validateConfig`, all problems) say the same thing.
 */
import Ajv, { type ErrorObject } from 'ajv';
import { findNodeAtLocation, getNodeValue, parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import { nearestName } from './nearestName';
import schema from '../../shared/tern.schema.json';
import type { ExperimentConfig } from '../../shared/experimentConfig';
import { parseQuant, type QuantConfig, type QuantInput } from '../../shared/quant';
import { isUserError } from '../../shared/userError';
import { applySweepPoint, SWEEP_KEYS, sweepPoints, type SweepSpec } from '../../shared/sweep';
import type { ConfigFile } from './loadConfig';

export interface TextPosition {
  line: number;
  character: number;
}

/** One thing wrong with a config text. */
export interface ConfigProblem {
  /** Property path like `experiments[0].train.lr`; undefined for file-level problems. */
  property?: string;
  /** What is wrong and what to do, e.g. `must be >= 0.`. */
  detail: string;
  severity: 'error' | 'warning';
  /** The text is not JSON (with comments): no property could be checked. */
  syntax?: true;
  /** 1-based line and column of the start, as in messages (`file:line:column`). */
  line: number;
  column: number;
  /** 0-based range (LSP convention) of the text at fault: the property name, the value, or the object missing a property. */
  range: { start: TextPosition; end: TextPosition };
}

export interface CheckedConfig {
  problems: ConfigProblem[];
  /** The config with defaults applied, when it has no error. */
  config?: ConfigFile;
}

interface Described {
  segments: (string | number)[];
  detail: string;
  /** The problem is the property's name (unknown property), not its value. */
  key?: boolean;
  /** For an unknown property: the known name it is probably a misspelling of. */
  suggestion?: string;
}

type JsonSchema = { properties?: Record<string, JsonSchema & { default?: unknown }>; $ref?: string; enum?: unknown[] } & Record<
  string,
  unknown
>;

const ajv = new Ajv({ allErrors: true, strict: false });
const validateSchema = ajv.compile(schema);

/** A path segment list (`['experiments', 0, 'train', 'lr']`) as `experiments[0].train.lr`. */
export function formatPropertyPath(segments: (string | number)[]): string {
  let out = '';
  for (const s of segments) out += typeof s === 'number' ? `[${s}]` : out ? `.${s}` : s;
  return out;
}

function segmentsOf(instancePath: string): (string | number)[] {
  if (!instancePath) return [];
  return instancePath
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/** The schema node for a data path, following `$ref`s and array items (for allowed property names). */
function schemaAt(segments: (string | number)[]): JsonSchema | undefined {
  const root = schema as unknown as JsonSchema;
  const deref = (s: JsonSchema | undefined): JsonSchema | undefined => {
    if (s?.$ref?.startsWith('#/definitions/')) return (root.definitions as Record<string, JsonSchema>)[s.$ref.slice(14)];
    return s;
  };
  let node: JsonSchema | undefined = root;
  for (const seg of segments) {
    node = deref(node);
    if (!node) return undefined;
    node = typeof seg === 'number' ? (node.items as JsonSchema | undefined) : node.properties?.[seg];
  }
  return deref(node);
}

function describeAjvError(err: ErrorObject): Described {
  const segments = segmentsOf(err.instancePath);
  const p = err.params as Record<string, unknown>;
  switch (err.keyword) {
    case 'required':
      return { segments: [...segments, String(p.missingProperty)], detail: `is required but missing.` };
    case 'additionalProperty':
    case 'additionalProperties': {
      const allowed = Object.keys(schemaAt(segments)?.properties ?? {});
      const name = String(p.additionalProperty);
      const guess = nearestName(name, allowed);
      return {
        segments: [...segments, name],
        detail: `is not a known property${guess !== undefined ? `; did you mean "${guess}"?` : '.'}${allowed.length ? ` Expected one of: ${allowed.join(', ')}.` : ''}`,
        key: true,
        ...(guess !== undefined ? { suggestion: guess } : {}),
      };
    }
    case 'enum':
      return { segments, detail: `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}.` };
    case 'type':
      return {
        segments,
        detail: `must be ${p.type === 'integer' ? 'an integer' : p.type === 'object' || p.type === 'array' ? `an ${p.type}` : `a ${String(p.type)}`}.`,
      };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return { segments, detail: `${err.message ?? 'is out of range'}.` };
    case 'oneOfShape':
      return {
        segments,
        detail:
          'must be a preset name ("cifar10", "cifar100", "fmnist", "mnist", "imagenet") or an object { "mean": [...], "std": [...] }.',
      };
    case 'pattern':
      if (segments.includes('augment')) {
        return {
          segments,
          detail:
            'is not a known augmentation: use crop<size>pad<p> (crop32pad4), hflip, rrc<size> (rrc224) or resize<r>center<c> (resize256center224).',
        };
      }
      return {
        segments,
        detail: `must start with a letter or digit and contain only letters, digits, '.', '_' and '-' (it names a folder).`,
      };
    default:
      return { segments, detail: `${err.message ?? 'is invalid'}.` };
  }
}

/**
 * Picks the most useful errors: for a failed `oneOf` ajv reports every branch plus the `oneOf`
 * itself. When the value fits no branch at all, say which shapes are accepted; when it is the
 * right shape with a bad part (deeper errors), report that part.
 */
function usefulErrors(errors: ErrorObject[]): ErrorObject[] {
  const oneOfPaths = [...new Set(errors.filter((e) => e.keyword === 'oneOf').map((e) => e.instancePath))];
  const inOneOf = (e: ErrorObject) => oneOfPaths.some((p) => e.instancePath === p || e.instancePath.startsWith(p + '/'));
  const out: ErrorObject[] = [];
  for (const path of oneOfPaths) {
    const deeper = errors.filter((e) => e.instancePath.startsWith(path + '/'));
    if (deeper.length) out.push(...deeper);
    else out.push({ ...errors.find((e) => e.keyword === 'oneOf' && e.instancePath === path)!, keyword: 'oneOfShape' });
  }
  out.push(...errors.filter((e) => e.keyword !== 'oneOf' && e.keyword !== 'if' && !inOneOf(e)));
  return out.length ? out : errors;
}

/** Fills in the schema's `default`s of one section (one level: config sections are flat). */
function withDefaults<T>(section: string, value: Record<string, unknown> | undefined): T {
  const props = ((schema as unknown as JsonSchema).definitions as Record<string, JsonSchema>)[section]?.properties ?? {};
  const out: Record<string, unknown> = {};
  for (const [key, prop] of Object.entries(props)) {
    if (prop.default !== undefined) out[key] = structuredClone(prop.default);
  }
  return { ...out, ...(value ?? {}) } as T;
}

/** Semantic checks the schema cannot express, each with a path and a fix. */
function checkExperiment(e: ExperimentConfig, i: number): { segments: (string | number)[]; detail: string } | undefined {
  const at = (...s: (string | number)[]) => ['experiments', i, ...s];
  if (e.model.arch === undefined && e.model.from === undefined) {
    return {
      segments: at('model'),
      detail: 'needs either "arch" (a zoo model trained from scratch) or "from" (a float model.json or .onnx CNN to fine-tune).',
    };
  }
  if (e.model.arch !== undefined && e.model.from !== undefined) {
    return {
      segments: at('model', 'from'),
      detail: 'cannot be used together with "arch": keep "arch" to train from scratch, or "from" to fine-tune.',
    };
  }
  if (e.train.schedule.length !== e.train.gammas.length) {
    return {
      segments: at('train', 'gammas'),
      detail: `has ${e.train.gammas.length} entries but train.schedule has ${e.train.schedule.length}: give one factor per schedule epoch.`,
    };
  }
  for (let k = 1; k < e.train.schedule.length; k++) {
    if (e.train.schedule[k]! <= e.train.schedule[k - 1]!) {
      return {
        segments: at('train', 'schedule', k),
        detail: `must be greater than the previous entry (${e.train.schedule[k - 1]}): list the epochs in ascending order.`,
      };
    }
  }
  if (typeof e.data.normalize === 'object' && e.data.normalize.mean.length !== e.data.normalize.std.length) {
    return {
      segments: at('data', 'normalize', 'std'),
      detail: `has ${e.data.normalize.std.length} entries but mean has ${e.data.normalize.mean.length}: give one per channel.`,
    };
  }
  return undefined;
}

/**
 * A sweep's keys and values: each key one SWEEP_KEYS names, each value one the property itself
 * takes (the schema, checked on the experiment with that value), and every point's quant settings
 * valid together (shared/quant.ts parseQuant: `twn` with t_ex 2 is not).
 */
function checkSweep(raw: { experiments: Record<string, unknown>[] }, i: number): Described[] {
  const experiment = raw.experiments[i];
  const spec = experiment.sweep as SweepSpec | undefined;
  if (!spec) return [];
  const out: Described[] = [];
  for (const [key, values] of Object.entries(spec)) {
    if (!SWEEP_KEYS.includes(key)) {
      const guess = nearestName(key, [...SWEEP_KEYS]);
      out.push({
        segments: ['experiments', i, 'sweep', key],
        detail: `is not a setting a sweep can vary${guess !== undefined ? `; did you mean "${guess}"?` : '.'} Expected one of: ${SWEEP_KEYS.join(', ')}.`,
        key: true,
      });
      continue;
    }
    values.forEach((value, j) => {
      const experiments = raw.experiments.map((e, k) => (k === i ? applySweepPoint(e, { [key]: value }) : e));
      if (validateSchema({ ...raw, experiments })) return;
      const err = usefulErrors(validateSchema.errors ?? []).map(describeAjvError)[0];
      out.push({
        segments: ['experiments', i, 'sweep', key, j],
        detail: `${JSON.stringify(value)} for ${key}: ${err?.detail ?? 'is invalid.'}`,
      });
    });
  }
  if (out.length) return out;
  for (const point of sweepPoints(spec)) {
    const quant = applySweepPoint(experiment, point).quant;
    try {
      parseQuant((quant ?? {}) as QuantInput);
    } catch (err) {
      if (!isUserError(err)) throw err;
      const key = Object.keys(point).find((k) => k === `quant.${String(err.data.property)}`) ?? Object.keys(point)[0];
      out.push({
        segments: ['experiments', i, 'sweep', key],
        detail: `the point ${JSON.stringify(point)} is not a valid setting: ${err.message}`,
      });
      break;
    }
  }
  return out;
}

/** 0-based line and character of an offset. */
function positionAt(text: string, offset: number): TextPosition {
  const { line, column } = lineColumn(text, offset);
  return { line: line - 1, character: column - 1 };
}

/**
 * Where a problem sits: the value at the path (a container by its property name, so an error on
 * a whole experiment does not underline forty lines), the property's name for an unknown
 * property, or, for a missing property, the name of the object that lacks it.
 */
function rangeOf(tree: Node, segments: (string | number)[], key: boolean): { start: number; end: number } {
  for (let n = segments.length; n >= 0; n--) {
    const node: Node | undefined = findNodeAtLocation(tree, segments.slice(0, n));
    if (!node) continue;
    const keyNode = node.parent?.type === 'property' ? node.parent.children?.[0] : undefined;
    const whole = n === segments.length;
    if (whole && key && keyNode) return { start: keyNode.offset, end: keyNode.offset + keyNode.length };
    if (whole && node.type !== 'object' && node.type !== 'array') return { start: node.offset, end: node.offset + node.length };
    if (keyNode) return { start: keyNode.offset, end: keyNode.offset + keyNode.length };
    return { start: node.offset, end: node.offset + 1 };
  }
  return { start: 0, end: 0 };
}

/**
 * A misspelled property also leaves the property it was meant to be missing: `{"experimentz": []}`
 * fails both "experimentz is not known" and "experiments is required". Report the misspelling
 * (with its "did you mean") and drop the missing-property error it explains.
 */
function withoutExplainedMissing(described: Described[]): Described[] {
  const explained = new Set(
    described.filter((d) => d.suggestion !== undefined).map((d) => formatPropertyPath([...d.segments.slice(0, -1), d.suggestion!])),
  );
  return described.filter((d) => !(d.detail.startsWith('is required') && explained.has(formatPropertyPath(d.segments))));
}

/** Checks config text and returns every problem; `file` is stored as the config's path. */
export function checkConfigText(input: string, file: string): CheckedConfig {
  // A UTF-8 byte order mark (Windows editors write one) is not JSON but carries no meaning: skip
  // it, as VS Code does. Positions stay right: editors do not count it as a column.
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  const parseErrors: ParseError[] = [];
  const tree = parseTree(text, parseErrors, { allowTrailingComma: true, disallowComments: false });
  if (parseErrors.length || !tree) {
    const problems = (parseErrors.length ? parseErrors : [undefined]).map((e): ConfigProblem => {
      const offset = e?.offset ?? 0;
      const { line, column } = lineColumn(text, offset);
      const what = e ? printParseErrorCode(e.error) : 'EmptyFile';
      return {
        detail: `is not valid JSON (${what}); fix the syntax at this position.`,
        severity: 'error',
        syntax: true,
        line,
        column,
        range: { start: positionAt(text, offset), end: positionAt(text, offset + Math.max(1, e?.length ?? 0)) },
      };
    });
    return { problems };
  }
  // Messages point where they always did: at the property (its name) when it exists, else at the
  // object that lacks it; the range says more precisely what to underline.
  const locate = (segments: (string | number)[]) => {
    for (let n = segments.length; n >= 0; n--) {
      const node: Node | undefined = findNodeAtLocation(tree, segments.slice(0, n));
      if (node) return lineColumn(text, node.parent?.type === 'property' && n === segments.length ? node.parent.offset : node.offset);
    }
    return { line: 1, column: 1 };
  };
  const problem = (d: Described, severity: ConfigProblem['severity'] = 'error'): ConfigProblem => {
    const { start, end } = rangeOf(tree, d.segments, d.key === true);
    const { line, column } = locate(d.segments);
    const property = formatPropertyPath(d.segments) || undefined;
    return {
      ...(property ? { property } : {}),
      detail: d.detail,
      severity,
      line,
      column,
      range: { start: positionAt(text, start), end: positionAt(text, end) },
    };
  };
  // Plain objects (jsonc-parser builds null-prototype ones), so deepEqual and spreading behave.
  const raw = JSON.parse(JSON.stringify(getNodeValue(tree))) as unknown;
  if (!validateSchema(raw)) {
    return { problems: withoutExplainedMissing(usefulErrors(validateSchema.errors ?? []).map(describeAjvError)).map((d) => problem(d)) };
  }

  const problems: ConfigProblem[] = [];
  // The quant settings go through the one parser the server and the CLI use too (shared/quant.ts).
  const quantOf = (quant: unknown, i: number): QuantConfig => {
    try {
      return parseQuant((quant ?? {}) as QuantInput);
    } catch (err) {
      if (!isUserError(err) || err.data.property === undefined) throw err;
      const property = err.data.property;
      const detail = err.message.startsWith(`${property} `) ? err.message.slice(property.length + 1) : err.message;
      problems.push(problem({ segments: ['experiments', i, 'quant', property], detail }));
      return { method: 'none' };
    }
  };
  const experiments = (raw as { experiments: Record<string, unknown>[] }).experiments.map((e, i): ExperimentConfig => ({
    name: e.name as string,
    engine: (e.engine as ExperimentConfig['engine']) ?? 'tfjs',
    model: { ...(e.model as ExperimentConfig['model']) },
    quant: quantOf(e.quant, i),
    data: withDefaults('data', e.data as Record<string, unknown>),
    train: withDefaults('train', e.train as Record<string, unknown>),
    ...(e.sweep ? { sweep: e.sweep as SweepSpec } : {}),
  }));
  const seen = new Map<string, number>();
  experiments.forEach((e, i) => {
    if (seen.has(e.name)) {
      problems.push(
        problem({
          segments: ['experiments', i, 'name'],
          detail: `"${e.name}" is already the name of experiments[${seen.get(e.name)}]; names must be unique (they name the run folders).`,
        }),
      );
    } else {
      seen.set(e.name, i);
    }
    const semantic = checkExperiment(e, i);
    if (semantic) problems.push(problem(semantic));
    for (const d of checkSweep(raw as { experiments: Record<string, unknown>[] }, i)) problems.push(problem(d));
  });
  return problems.length ? { problems } : { problems, config: { path: file, experiments } };
}
