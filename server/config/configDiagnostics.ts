/**
 * What `ternary/validateConfig` answers: the problems of a config text as the loader
 * (`checkConfig.ts`) finds them, plus a warning on each experiment whose name another config of
 * the same folder also uses (`server/config/experimentFolder.ts`: their runs go to separate folders).
 */
import { findNodeAtLocation, parseTree } from 'jsonc-parser';
import type { ConfigDiagnostic } from '../../shared/protocol';
import { experimentFolder, experimentNamesOf, sharedNameWarning } from './experimentFolder';
import { checkConfigText, type ConfigProblem } from './checkConfig';
import { readConfigText } from './loadConfig';

function toDiagnostic(p: ConfigProblem): ConfigDiagnostic {
  return {
    message: `${p.property ? `${p.property}: ` : ''}${p.detail}`,
    ...(p.property ? { property: p.property } : {}),
    severity: p.severity,
    ...(p.syntax ? { syntax: true as const } : {}),
    line: p.line,
    column: p.column,
    range: p.range,
  };
}

function positionAt(text: string, offset: number): { line: number; character: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length - 1;
  return { line, character: offset - (before.lastIndexOf('\n') + 1) };
}

/** Warnings on experiment names that another config of the folder uses too. */
async function sharedNameWarnings(path: string, text: string): Promise<ConfigDiagnostic[]> {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const tree = parseTree(body, [], { allowTrailingComma: true, disallowComments: false });
  if (!tree) return [];
  const out: ConfigDiagnostic[] = [];
  const names = experimentNamesOf(body);
  for (const [i, name] of names.entries()) {
    const folder = await experimentFolder(path, name);
    if (!folder.sharedWith.length) continue;
    const node = findNodeAtLocation(tree, ['experiments', i, 'name']);
    if (!node) continue;
    const start = positionAt(body, node.offset);
    const property = `experiments[${i}].name`;
    out.push({
      message: `${property}: ${sharedNameWarning(path, name, folder)}`,
      property,
      severity: 'warning',
      line: start.line + 1,
      column: start.character + 1,
      range: { start, end: positionAt(body, node.offset + node.length) },
    });
  }
  return out;
}

/** Every problem of the config at `path` (its `text` when given, else the file on disk). */
export async function configDiagnostics(path: string, text?: string): Promise<{ problems: ConfigDiagnostic[] }> {
  text ??= await readConfigText(path);
  const checked = checkConfigText(text, path);
  const problems = checked.problems.map(toDiagnostic);
  // Only a config that parses has experiment names worth comparing.
  if (!checked.problems.some((p) => p.syntax)) problems.push(...(await sharedNameWarnings(path, text)));
  return { problems };
}
