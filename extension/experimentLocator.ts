/**
 * Finds the experiments of a `*.tern.json` text (JSON with comments) and where each one starts,
 * with jsonc-parser's syntax tree, so lenses sit above each experiment even while the file has
 * errors elsewhere. Pure: no `vscode` here, unit-tested on its own.
 */
import { getNodeValue, parseTree, type Node } from 'jsonc-parser';
import { sweepPoints, type SweepSpec } from '../shared/sweep';

export interface LocatedExperiment {
  /** Its `name`, or undefined when it has none (yet). */
  name: string | undefined;
  /** Index in the `experiments` array. */
  index: number;
  /** Offset of the experiment object's `{` and of its end. */
  offset: number;
  end: number;
  /** `model.from` when present (a float model to fine-tune / ternarize). */
  modelFrom: string | undefined;
  /** The `sweep` property: where its name starts and how many points its grid has. */
  sweep?: { offset: number; points: number };
}

/** The sweep's place and size, when the experiment has a `sweep` object of arrays. */
function sweepOf(experiment: Node): LocatedExperiment['sweep'] {
  const value = property(experiment, 'sweep');
  if (value?.type !== 'object' || !value.parent) return undefined;
  const spec = getNodeValue(value) as SweepSpec;
  if (!Object.values(spec).every((v) => Array.isArray(v))) return undefined;
  return { offset: value.parent.offset, points: sweepPoints(spec).length };
}

function property(node: Node | undefined, key: string): Node | undefined {
  if (node?.type !== 'object') return undefined;
  const pair = node.children?.find((child) => child.children?.[0]?.value === key);
  return pair?.children?.[1];
}

function stringValue(node: Node | undefined): string | undefined {
  return node?.type === 'string' && typeof node.value === 'string' ? node.value : undefined;
}

/** The experiments of a config text, in file order; [] when there is no `experiments` array. */
export function locateExperiments(text: string): LocatedExperiment[] {
  const root = parseTree(text, [], { allowTrailingComma: true, disallowComments: false });
  const list = property(root, 'experiments');
  if (list?.type !== 'array') return [];
  return (list.children ?? [])
    .map((node, index) => ({ node, index }))
    .filter(({ node }) => node.type === 'object')
    .map(({ node, index }) => ({
      name: stringValue(property(node, 'name')),
      index,
      offset: node.offset,
      end: node.offset + node.length,
      modelFrom: stringValue(property(property(node, 'model'), 'from')),
      ...(sweepOf(node) ? { sweep: sweepOf(node) } : {}),
    }));
}
