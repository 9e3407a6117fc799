// The server's folders by floor, lowest first. A folder may import the folders on the floors below
// its own and none on its floor or above, so imports only point down and no cycle can form between
// folders (docs/architecture.md "Server layers"). eslint.config.mjs turns the floors into an import
// rule per folder; test/unit/server-layers.test.ts checks that every folder of server/ has a floor
// and that the import graph drawn from the sources (scripts/importGraph.ts) has no cycle.

/** Floors of server/<folder>, lowest first. */
export const SERVER_FLOORS = [
  ['files'],
  ['core', 'data', 'config'],
  ['stats', 'runs'],
  ['formats'],
  ['models'],
  ['export', 'train'],
  ['backends'],
  ['engines', 'bench'],
  ['jobs'],
  ['rpc'],
  ['cli'],
];

/** The folders `folder` may import: those on lower floors. */
export function foldersBelow(folder) {
  const floor = SERVER_FLOORS.findIndex((names) => names.includes(folder));
  if (floor < 0) throw new Error(`server/${folder} has no floor in scripts/serverLayers.mjs: give it one.`);
  return SERVER_FLOORS.slice(0, floor).flat();
}

/** Deepest subfolder level the import rule covers (server/<folder>/a/b/c/file.ts is level 3). */
const MAX_DEPTH = 5;

/**
 * ESLint config blocks: per folder and per depth of a file under it, `no-restricted-imports` on
 * relative specifiers that climb to server/ and enter a folder not below this one, and the same
 * for `import()` expressions and `import('…')` types, which that rule does not look at. Specifiers
 * are matched per depth because a relative path names server/<folder> only by how far it climbs
 * (server/formats/onnx/export/ is not server/export/).
 */
export function serverLayerRules() {
  const all = SERVER_FLOORS.flat();
  const blocks = [];
  for (const folder of all) {
    const allowed = new Set([folder, ...foldersBelow(folder)]);
    const forbidden = all.filter((name) => !allowed.has(name));
    if (forbidden.length === 0) continue;
    const message =
      `server/${folder} may import only ${
        [...allowed]
          .filter((name) => name !== folder)
          .map((name) => `server/${name}`)
          .join(', ') || 'no other server folder'
      }: ` +
      'the folders on lower floors (scripts/serverLayers.mjs, docs/architecture.md "Server layers"). ' +
      'Move the shared piece down to a floor both can import, or give the importer a higher floor.';
    for (let depth = 0; depth <= MAX_DEPTH; depth++) {
      const regex = `^(\\.\\./){${depth + 1}}(${forbidden.join('|')})(/|$)`;
      const files = [`server/${folder}/${'*/'.repeat(depth)}*.ts`];
      blocks.push({
        files,
        rules: {
          'no-restricted-imports': ['error', { patterns: [{ regex, message }] }],
          'no-restricted-syntax': [
            'error',
            ...['ImportExpression > Literal', 'TSImportType > Literal'].map((node) => ({
              selector: `${node}[value=/${regex.replaceAll('/', '\\/')}/]`,
              message,
            })),
          ],
        },
      });
    }
  }
  return blocks;
}
