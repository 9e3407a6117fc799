/**
 * Loads `*.tern.json` files: JSON with comments, validated against `tern.schema.json`, with the
 * schema's defaults applied. Every error names the file, the line:column and the property path
 * (`experiments[0].train.lr`) and says what was expected.
 */
import { readFile } from 'node:fs/promises';
import Ajv, { type ErrorObject } from 'ajv';
import { findNodeAtLocation, getNodeValue, parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import schema from './tern.schema.json';
import type { ExperimentConfig } from '../../shared/experimentConfig';

/** A loaded config file: its experiments with defaults applied, and where it came from. */
export interface ConfigFile {
  path: string;
  experiments: ExperimentConfig[];
}

/** A config file that cannot be used: where (file, line:column, property) and what to do. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    /** Property path like `experiments[0].train.lr`; undefined for file-level problems. */
    readonly property: string | undefined,
    readonly detail: string,
    readonly line?: number,
    readonly column?: number,
  ) {
    const where = line !== undefined ? `${file}:${line}:${column ?? 1}` : file;
    super(`${where}: ${property ? `${property}: ` : ''}${detail}`);
    this.name = 'ConfigError';
  }
}

type JsonSchema = { properties?: Record<string, JsonSchema & { default?: unknown }>; $ref?: string; enum?: unknown[] } & Record<string, unknown>;

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

function describeAjvError(err: ErrorObject): { segments: (string | number)[]; detail: string } {
  const segments = segmentsOf(err.instancePath);
  const p = err.params as Record<string, unknown>;
  switch (err.keyword) {
    case 'required':
      return { segments: [...segments, String(p.missingProperty)], detail: `is required but missing.` };
    case 'additionalProperty':
    case 'additionalProperties': {
      const allowed = Object.keys(schemaAt(segments)?.properties ?? {});
      return {
        segments: [...segments, String(p.additionalProperty)],
        detail: `is not a known property${allowed.length ? `; expected one of: ${allowed.join(', ')}` : ''}.`,
      };
    }
    case 'enum':
      return { segments, detail: `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}.` };
    case 'type':
      return { segments, detail: `must be ${p.type === 'integer' ? 'an integer' : p.type === 'object' || p.type === 'array' ? `an ${p.type}` : `a ${String(p.type)}`}.` };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return { segments, detail: `${err.message ?? 'is out of range'}.` };
    case 'oneOfShape':
      return { segments, detail: 'must be a preset name ("cifar10", "cifar100", "fmnist", "mnist", "imagenet") or an object { "mean": [...], "std": [...] }.' };
    case 'pattern':
      if (segments.includes('augment')) {
        return { segments, detail: 'is not a known augmentation: use crop<size>pad<p> (crop32pad4), hflip, rrc<size> (rrc224) or resize<r>center<c> (resize256center224).' };
      }
      return { segments, detail: `must start with a letter or digit and contain only letters, digits, '.', '_' and '-' (it names a folder).` };
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
    return { segments: at('model'), detail: 'needs either "arch" (a zoo model trained from scratch) or "from" (a float model.json or .onnx CNN to fine-tune).' };
  }
  if (e.model.arch !== undefined && e.model.from !== undefined) {
    return { segments: at('model', 'from'), detail: 'cannot be used together with "arch": keep "arch" to train from scratch, or "from" to fine-tune.' };
  }
  if (e.train.schedule.length !== e.train.gammas.length) {
    return {
      segments: at('train', 'gammas'),
      detail: `has ${e.train.gammas.length} entries but train.schedule has ${e.train.schedule.length}: give one factor per schedule epoch.`,
    };
  }
  for (let k = 1; k < e.train.schedule.length; k++) {
    if (e.train.schedule[k]! <= e.train.schedule[k - 1]!) {
      return { segments: at('train', 'schedule', k), detail: `must be greater than the previous entry (${e.train.schedule[k - 1]}): list the epochs in ascending order.` };
    }
  }
  if (e.quant.method === 'twn' && e.quant.tex !== 1) {
    return { segments: at('quant', 'tex'), detail: 'must be 1 with method "twn": REL branches are defined by he2019 threshold factors.' };
  }
  if (typeof e.data.normalize === 'object' && e.data.normalize.mean.length !== e.data.normalize.std.length) {
    return { segments: at('data', 'normalize', 'std'), detail: `has ${e.data.normalize.std.length} entries but mean has ${e.data.normalize.mean.length}: give one per channel.` };
  }
  return undefined;
}

/** Parses and validates config text; `file` is used in messages and stored as the config's path. */
export function parseConfigText(text: string, file: string): ConfigFile {
  // A UTF-8 byte order mark (Windows editors write one) is not JSON but carries no meaning: skip
  // it, as VS Code does. Positions stay right: editors do not count it as a column.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const parseErrors: ParseError[] = [];
  const tree = parseTree(text, parseErrors, { allowTrailingComma: true, disallowComments: false });
  if (parseErrors.length || !tree) {
    const first = parseErrors[0];
    const { line, column } = lineColumn(text, first?.offset ?? 0);
    const what = first ? printParseErrorCode(first.error) : 'EmptyFile';
    return throwError(new ConfigError(file, undefined, `is not valid JSON (${what}); fix the syntax at this position.`, line, column));
  }
  // Plain objects (jsonc-parser builds null-prototype ones), so deepEqual and spreading behave.
  const raw = JSON.parse(JSON.stringify(getNodeValue(tree))) as unknown;
  const locate = (segments: (string | number)[]) => {
    // The deepest existing node on the path: a missing property points at its parent object.
    for (let n = segments.length; n >= 0; n--) {
      const node: Node | undefined = findNodeAtLocation(tree, segments.slice(0, n));
      if (node) {
        const offset = node.parent?.type === 'property' && n === segments.length ? node.parent.offset : node.offset;
        return lineColumn(text, offset);
      }
    }
    return { line: 1, column: 1 };
  };
  const fail = (segments: (string | number)[], detail: string): never => {
    const { line, column } = locate(segments);
    throw new ConfigError(file, formatPropertyPath(segments) || undefined, detail, line, column);
  };

  if (!validateSchema(raw)) {
    const errors = usefulErrors(validateSchema.errors ?? []);
    const first = describeAjvError(errors[0]!);
    const more = errors.length > 1 ? ` (${errors.length - 1} more problem${errors.length > 2 ? 's' : ''} in this file)` : '';
    return fail(first.segments, first.detail + more);
  }

  const experiments = (raw as { experiments: Record<string, unknown>[] }).experiments.map((e): ExperimentConfig => ({
    name: e.name as string,
    model: { ...(e.model as ExperimentConfig['model']) },
    quant: withDefaults('quant', e.quant as Record<string, unknown>),
    data: withDefaults('data', e.data as Record<string, unknown>),
    train: withDefaults('train', e.train as Record<string, unknown>),
  }));
  const seen = new Map<string, number>();
  experiments.forEach((e, i) => {
    if (seen.has(e.name)) fail(['experiments', i, 'name'], `"${e.name}" is already the name of experiments[${seen.get(e.name)}]; names must be unique (they name the run folders).`);
    seen.set(e.name, i);
    const problem = checkExperiment(e, i);
    if (problem) fail(problem.segments, problem.detail);
  });
  return { path: file, experiments };
}

function throwError(err: Error): never {
  throw err;
}

/** Reads, parses and validates a `*.tern.json` file. Throws ConfigError. */
export async function loadConfigFile(path: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(path, undefined, code === 'ENOENT' ? 'file not found; check the path.' : `cannot be read (${code ?? String(err)}).`);
  }
  return parseConfigText(text, path);
}

/** The experiment to run: by name, or the only one. Throws ConfigError listing the names otherwise. */
export function resolveExperiment(config: ConfigFile, name?: string): ExperimentConfig {
  const names = config.experiments.map((e) => e.name);
  if (name === undefined) {
    if (config.experiments.length === 1) return config.experiments[0]!;
    throw new ConfigError(config.path, undefined, `holds ${names.length} experiments (${names.join(', ')}); choose one with --experiment NAME.`);
  }
  const found = config.experiments.find((e) => e.name === name);
  if (!found) throw new ConfigError(config.path, undefined, `has no experiment named "${name}"; its experiments are: ${names.join(', ')}.`);
  return found;
}
