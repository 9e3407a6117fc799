/**
 * How our `model.onnx` says which of its layers are ternary (docs/formats.md, "model.onnx"): a
 * `metadata_props` entry whose value is JSON, keyed by the Conv or Gemm node that takes the
 * ternary weight. The export writes it (server/formats/onnx/export/toOnnx.ts); the import reads it
 * (server/formats/onnx/import/), so our own ONNX comes back as TernaryConv2D / TernaryDense layers with
 * the codes, α's and thresholds they were exported with. Other ONNX models have no such entry.
 */
import type { LayerQuant } from '../../core/quantizer';

export const TERNARY_LAYERS_KEY = 'ternary_studio.ternary_layers';

/** One ternary layer: its tfjs name and settings, its levels A_1 … A_t and max|W| (server/formats/packedModel.ts). */
export interface OnnxTernaryLayer extends LayerQuant {
  layer: string;
  levels: number[];
  maxAbs: number;
}

/** By the name of the Conv or Gemm node that computes with the layer's ternary weight. */
export type OnnxTernaryLayers = Record<string, OnnxTernaryLayer>;
