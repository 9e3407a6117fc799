import { UserError, type UserErrorCode } from '../../shared/userError';

/**
 * Where an experiment computes: `tfjs` (this process, server/engines/tfjs/) or `torch`
 * (PyTorch DDP under torchrun, server/engines/torch/). One lifecycle (server/runs/lifecycle.ts) writes the run folder of both.
 */
export type Engine = 'tfjs' | 'torch';
export const ENGINES: readonly Engine[] = ['tfjs', 'torch'];

/** How a torch run is launched (torchrun's options; one node with one process by default). */
export interface TorchOptions {
  device: 'cpu' | 'cuda';
  /** Processes on this node (torchrun --nproc-per-node). */
  nprocPerNode: number;
  /** Machines taking part (torchrun --nnodes). */
  nnodes: number;
  /** This machine's rank, 0 … nnodes−1; node 0 writes the run folder. */
  nodeRank: number;
  /** host:port of node 0's rendezvous store (needed with nnodes > 1). */
  rdzvEndpoint?: string;
  /** torchrun --max-restarts: how often the worker group restarts after a worker fails. */
  maxRestarts: number;
  /** The Python interpreter; default: the first of $TERN_PYTHON, python3, /usr/bin/python3 with PyTorch. */
  python?: string;
}

export const DEFAULT_TORCH_OPTIONS: TorchOptions = { device: 'cpu', nprocPerNode: 1, nnodes: 1, nodeRank: 0, maxRestarts: 0 };

/** The VS Code setting that changes what an EngineError is about (shown as the fix in the extension). */
export type EngineSetting = 'ternary.torch.python' | 'ternary.torch.device' | 'ternary.engine';

/**
 * A problem with the engine setup the user must fix: install Python or PyTorch, pick a device
 * (`engineUnavailable`, with the setting that changes it: the protocol's EngineUnavailable), or a
 * bad option value (`invalidArgument`).
 */
export class EngineError extends UserError {
  constructor(message: string, code: UserErrorCode = 'engineUnavailable', setting?: EngineSetting) {
    super(code, message, code === 'engineUnavailable' ? { engine: 'torch', ...(setting ? { setting } : {}) } : {});
    // Explicit, so the name survives minification.
    this.name = 'EngineError';
  }
}

/** Checks option values; throws EngineError naming the option. */
export function checkTorchOptions(o: TorchOptions): TorchOptions {
  const int = (name: string, v: number, min: number) => {
    if (!Number.isInteger(v) || v < min) throw new EngineError(`--${name} must be an integer ≥ ${min} (got ${v}).`, 'invalidArgument');
  };
  if (o.device !== 'cpu' && o.device !== 'cuda')
    throw new EngineError(`--device must be cpu or cuda (got '${String(o.device)}').`, 'invalidArgument');
  int('nproc-per-node', o.nprocPerNode, 1);
  int('nnodes', o.nnodes, 1);
  int('node-rank', o.nodeRank, 0);
  int('max-restarts', o.maxRestarts, 0);
  if (o.nodeRank >= o.nnodes)
    throw new EngineError(`--node-rank ${o.nodeRank} must be below --nnodes ${o.nnodes} (ranks count from 0).`, 'invalidArgument');
  if (o.nnodes > 1) {
    if (!o.rdzvEndpoint)
      throw new EngineError(
        `--nnodes ${o.nnodes} needs --rdzv-endpoint host:port: the address of node 0, where every node meets.`,
        'invalidArgument',
      );
  }
  if (o.rdzvEndpoint !== undefined && !/^[^:\s]+:\d{1,5}$/.test(o.rdzvEndpoint)) {
    throw new EngineError(`--rdzv-endpoint must be host:port, e.g. 10.0.0.1:29500 (got '${o.rdzvEndpoint}').`, 'invalidArgument');
  }
  return o;
}
