/**
 * Our own model.onnx back as a ternary model: its metadata names the Conv/Gemm nodes that compute
 * with ternary weights (server/formats/onnx/ternaryMetadata.ts); those become TernaryConv2D/TernaryDense
 * layers whose latent weights are rebuilt from the codes (server/formats/packedModel.ts, as a
 * `.tern` loads), so `tern stats` and the Layers view show the Δ, α and counts it was exported with.
 */
import type { onnx } from '../proto';
import { latentFromCodes } from '../../packedModel';
import { fitFromValues } from '../../../core/optimalThresholds';
import { TERNARY_LAYERS_KEY, type OnnxTernaryLayer } from '../ternaryMetadata';
import { OnnxImportError } from './errors';
import type { ImportContext } from './context';
import type { Weight } from './layout';

/** The ternary layers listed in the file's metadata, by node name (empty for other ONNX models). */
export function ternaryLayersOf(model: onnx.IModelProto, file: string): Map<string, OnnxTernaryLayer> {
  const entry = (model.metadataProps ?? []).find((p) => p.key === TERNARY_LAYERS_KEY);
  if (!entry) return new Map();
  const damaged = (why: string) =>
    new OnnxImportError(`${file}: its metadata '${TERNARY_LAYERS_KEY}' is damaged (${why}); export the model again.`, file);
  let parsed: unknown;
  try {
    parsed = JSON.parse(entry.value ?? '');
  } catch (err) {
    throw damaged((err as Error).message);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw damaged('not a JSON object');
  const out = new Map<string, OnnxTernaryLayer>();
  for (const [node, v] of Object.entries(parsed as Record<string, Partial<OnnxTernaryLayer>>)) {
    const ok =
      typeof v?.layer === 'string' &&
      (v.method === 'he2019' || v.method === 'twn') &&
      typeof v.thresholdFactor === 'number' &&
      (v.tex === 1 || v.tex === 2 || v.tex === 4) &&
      Array.isArray(v.levels) &&
      v.levels.length === v.tex &&
      v.levels.every((l) => typeof l === 'number') &&
      typeof v.maxAbs === 'number' &&
      (v.threshold === undefined || v.threshold === 'fixed' || v.threshold === 'optimal');
    if (!ok) throw damaged(`the entry of node '${node}'`);
    out.set(node, v as OnnxTernaryLayer);
  }
  return out;
}

/**
 * The latent kernel of a ternary layer from its dequantized weights `kernel` (tfjs layout): each
 * weight is sign(c)·A_|c|, so its code is read off the levels; a weight that is no level means the
 * metadata does not describe these weights.
 */
export function ternaryKernel(ctx: ImportContext, node: onnx.INodeProto, kernel: Weight, info: OnnxTernaryLayer): Weight {
  if (info.threshold === 'optimal') {
    // The least-squares fit cannot be rebuilt through a latent (docs/formats.md, Loading back): the
    // layer keeps the values, each one of the sums of its α's.
    try {
      fitFromValues(kernel.data, info.levels, info.layer);
    } catch (err) {
      throw ctx.error(node, `${(err as Error).message}`);
    }
    return kernel;
  }
  const levels = Float32Array.from(info.levels);
  const codes = new Int8Array(kernel.data.length);
  for (let i = 0; i < codes.length; i++) {
    const v = kernel.data[i];
    if (v === 0) continue;
    const m = levels.indexOf(Math.abs(v));
    if (m < 0)
      throw ctx.error(
        node,
        `weight ${i} is ${v}, none of the ternary levels ±${Array.from(levels).join(', ±')} its metadata lists; export the model again.`,
      );
    codes[i] = v < 0 ? -(m + 1) : m + 1;
  }
  const { method, thresholdFactor, tex } = info;
  const latent = latentFromCodes({
    kind: 'ternary',
    name: info.layer,
    shape: kernel.shape,
    quant: { method, thresholdFactor, tex },
    codes,
    levels,
    maxAbs: Math.fround(info.maxAbs),
  });
  return { shape: kernel.shape, data: latent };
}
