/**
 * Where runs go when nothing else is said: `runs/` next to the config file. The default of the
 * `ternary.runsFolder` setting (package.json; test/unit/runs-files.test.ts checks they agree), of
 * `tern train --runs-dir` and of the `runsDir` of `ternary/train`.
 */
export const DEFAULT_RUNS_FOLDER = 'runs';
