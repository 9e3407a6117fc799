/**
 * Errors of the ONNX importer. They are ModelFileErrors (server/core/modelFileError.ts), so every place
 * that takes a model (tern ternarize/stats/eval, model.from, the server's jobs) reports them as a
 * user mistake: one message naming the file and, where one is to blame, the node and its op type.
 */
import { ModelFileError } from '../../../core/modelFileError';
import type { onnx } from '../proto';

export class OnnxImportError extends ModelFileError {
  constructor(
    message: string,
    file: string,
    readonly node?: { name: string; opType: string },
  ) {
    // A ModelFileError, so a UserError with code `badModel`: the server answers it as bad data
    // and the CLI prints it, by code (server/rpc/errors.ts, server/cli/command.ts).
    super(message, file);
  }
}

/** How a node is named in messages: its name and op type, or its first output when it has no name. */
export function describeNode(node: onnx.INodeProto): string {
  const name = node.name || `(unnamed, output '${node.output?.[0] ?? '?'}')`;
  return `node '${name}' (${node.opType ?? '?'})`;
}

/** An error about one node: the file, the node and what is wrong, then what to do. */
export function nodeError(file: string, node: onnx.INodeProto, what: string): OnnxImportError {
  return new OnnxImportError(`${file}: ${describeNode(node)}: ${what}`, file, { name: node.name ?? '', opType: node.opType ?? '' });
}
