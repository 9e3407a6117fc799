/**
 * `--engine` and the torch engine's launch options (`--device`, `--nproc-per-node`, `--nnodes`,
 * `--node-rank`, `--rdzv-endpoint`, `--max-restarts`, `--python`): pulled out of argv like
 * `--backend` (server/backends/options.ts), so `tern train`'s own parser sees only its options.
 */
import { ENGINES, EngineError, type Engine, type TorchOptions } from './types';

export interface EngineArgs {
  engine?: Engine;
  torch: Partial<TorchOptions>;
  rest: string[];
}

const INT_OPTIONS: Record<string, keyof TorchOptions> = {
  'nproc-per-node': 'nprocPerNode',
  nnodes: 'nnodes',
  'node-rank': 'nodeRank',
  'max-restarts': 'maxRestarts',
};

export function engineOptionsFromArgs(argv: readonly string[]): EngineArgs {
  const out: EngineArgs = { torch: {}, rest: [] };
  for (let i = 0; i < argv.length; i++) {
    const m = /^--(engine|device|nproc-per-node|nnodes|node-rank|rdzv-endpoint|max-restarts|python)(?:=(.*))?$/.exec(argv[i]!);
    if (!m) {
      out.rest.push(argv[i]!);
      continue;
    }
    const [, name, inline] = m;
    const value = inline ?? argv[++i];
    if (value === undefined || value === '') throw new EngineError(`--${name} needs a value`, 'invalidArgument');
    if (name === 'engine') {
      if (!ENGINES.includes(value as Engine))
        throw new EngineError(`--engine '${value}' is not one of ${ENGINES.join(', ')}`, 'invalidArgument');
      out.engine = value as Engine;
    } else if (name === 'device') {
      if (value !== 'cpu' && value !== 'cuda') throw new EngineError(`--device '${value}' is not one of cpu, cuda`, 'invalidArgument');
      out.torch.device = value;
    } else if (name === 'rdzv-endpoint') {
      out.torch.rdzvEndpoint = value;
    } else if (name === 'python') {
      out.torch.python = value;
    } else {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0)
        throw new EngineError(`--${name} must be a non-negative integer (got '${value}')`, 'invalidArgument');
      (out.torch as Record<string, number>)[INT_OPTIONS[name!]!] = n;
    }
  }
  return out;
}

export const ENGINE_USAGE = `  --engine E           tfjs | torch: where the run computes (default: the experiment's "engine", else tfjs)
  torch engine (docs/engines.md):
  --device D           cpu | cuda (default cpu)
  --nproc-per-node N   processes on this machine (default 1)
  --nnodes N           machines taking part (default 1); with more than one, also:
  --node-rank R        this machine's rank (0 writes the run folder)
  --rdzv-endpoint H:P  node 0's address and a free port, where the nodes meet
  --max-restarts N     restart the worker group up to N times after a worker dies (default 0)
  --python PATH        the Python with PyTorch ≥ 1.13 (default: $TERN_PYTHON, python3, /usr/bin/python3)`;
