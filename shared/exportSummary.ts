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
  /** Within the file's criterion: maxRelDiff within the tolerance, or `criterion`. */
  ok: boolean;
  /** What the file is compared with, when not our inference as trained (the int8 file: our fake-quantized inference). */
  reference?: string;
  /** The criterion when it is not the relative tolerance, in words (the int8 file's bound). */
  criterion?: string;
}

/** ONNX Runtime latency of one model, one thread count, batch 1. */
export interface LatencyResult {
  /** "float", "ternary", "ternary int8". */
  model: string;
  /** The file measured, or how it was made (the float model is built for the measurement, not written). */
  file: string;
  medianMs: number;
  p10Ms: number;
}

/** Top-1 accuracy of a model on the labelled inputs of the parity check. */
export interface AccuracyResult {
  model: string;
  top1: number;
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
  /** With 8-bit activations: the calibration and what was quantized. */
  int8?: { calibration: string; int8Layers: number; quantizedTensors: number };
  /** ONNX Runtime latency at batch 1 of float / ternary / ternary int8, measured side by side (round-robin). */
  latency?: { runs: number; threads: string; results: LatencyResult[] };
  /** Why the latency was not measured, when measuring failed. */
  latencySkipped?: string;
  /** Accuracy of our inference and of each ONNX file on the test images (when they have labels). */
  accuracy?: { inputs: string; results: AccuracyResult[] };
}
