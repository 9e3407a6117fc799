/**
 * What an export reports about the model files it wrote (server/export/exportModel.ts): sizes, the
 * model.tern arithmetic minimum, and the parity of each file against our inference. Crosses the
 * process boundary in `ternary/export` results and errors (shared/protocol.ts).
 */

export interface ParityResult {
  /** What ran the file: "ONNX Runtime", "stock tfjs (loadLayersModel)", "model.tern loaded back". */
  target: string;
  /** The exported file, relative to the export folder. */
  file: string;
  maxAbsDiff: number;
  /** maxAbsDiff / max |logit of our inference|. */
  maxRelDiff: number;
  /** Fraction of inputs whose top-1 class agrees with ours. */
  top1Agreement: number;
  samples: number;
  /** maxRelDiff within the tolerance. */
  ok: boolean;
}

export interface ExportedFile {
  /** Relative to the export folder. */
  path: string;
  bytes: number;
  what: string;
}

export interface TernSize {
  bytes: number;
  /** Code bits plus 4 bytes per float parameter and per α: what no packing of these values beats. */
  minimumBytes: number;
  /** bytes − minimumBytes: header, topology, alignment, per-layer max|W|. */
  overheadBytes: number;
}

export interface ModelExportSummary {
  files: ExportedFile[];
  tern: TernSize;
  onnx: { opset: number; codeTypes: string[] };
  /** Number of ternary weight tensors. */
  ternaryLayers: number;
  parity?: { inputs: string; results: ParityResult[]; tolerance: number };
  /** Set when parity was not checked, with the reason. */
  paritySkipped?: string;
}
