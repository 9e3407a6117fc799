/** Per-layer statistics of ternary (and float) layers: what `tern stats`, layers.jsonl and the Layers tree show. */

export interface TernaryCounts {
  /** Number of weights equal to −α, 0 and +α. */
  neg: number;
  zero: number;
  pos: number;
}

/** One REL branch k: its threshold factor, Δ_k, α_k and counts. */
export interface BranchStats {
  /** Fixed thresholds: f_k in Δ_k = f_k·max|W|. Optimal thresholds: the same ratio Δ_k / max|W| as it came out. */
  factor: number;
  delta: number;
  alpha: number;
  sparsity: number;
  counts: TernaryCounts;
}

export interface LayerStats {
  /** Layer name in the model. */
  layer: string;
  /** Class name: `TernaryConv2D`, `TernaryDense`, `Conv2D`, `Dense`. */
  type: string;
  /** Whether the kernel is ternarized (false for full-precision first/last layers). */
  ternary: boolean;
  /** Kernel shape. */
  shape: number[];
  /** Number of kernel weights (+ bias when present). */
  params: number;
  /** Storage bits per kernel weight as model.tern packs it (shared/quant.ts codeBits: 2 at t_ex 1), 32 when float (bias: 32). */
  bits: number;
  /** Δ and α of the first branch (t_ex = 1: the layer's only ones); NaN-free, 0 for float layers. */
  delta: number;
  alpha: number;
  /** Fraction of zeros among the first branch's ternary weights. */
  sparsity: number;
  counts: TernaryCounts;
  /** One entry per REL branch (length t_ex); empty for float layers. */
  branches: BranchStats[];
  /**
   * ‖W − Ŵ‖ / ‖W‖, Ŵ = Σ_k T_k the weight the layer computes with (0 for float layers and all-zero
   * kernels). Absent in statistics written before it existed.
   */
  relError?: number;
  /** How Δ and α were chosen (ternary layers; absent: `fixed`). */
  threshold?: 'fixed' | 'optimal';
  /**
   * 8-bit activations (quant.activations int8): the range of the layer's input as training observed
   * it ([0, 0]: not yet) and the uint8 grid it gives (docs/method.md). Absent: the input is float.
   */
  input?: InputQuantStats;
}

/** An int8 layer's input range and its uint8 grid: x ≈ (q − zeroPoint)·scale, q ∈ [0, 255]. */
export interface InputQuantStats {
  min: number;
  max: number;
  scale: number;
  zeroPoint: number;
}

export interface ModelSummary {
  layers: number;
  ternaryLayers: number;
  params: number;
  ternaryParams: number;
  /** Size with every parameter in float32. */
  fp32Bytes: number;
  /** Size with ternary kernels packed as model.tern stores them (codes + 4 bytes per level), the rest float32: its arithmetic minimum. */
  ternaryBytes: number;
  /** fp32Bytes / ternaryBytes. */
  compression: number;
}

/** A binned histogram of one layer's latent (full-precision) weights. */
export interface WeightHistogram {
  layer: string;
  /** Range covered by the bins; bins are equal-width over [min, max]. */
  min: number;
  max: number;
  /** Counts per bin. */
  bins: number[];
  /** Δ and α of the first branch, to mark ±Δ and the ternary values. */
  delta: number;
  alpha: number;
  counts: TernaryCounts;
  /** Whether the layer is ternarized (false: a float layer; Δ, α and counts are then 0). */
  ternary?: boolean;
}
