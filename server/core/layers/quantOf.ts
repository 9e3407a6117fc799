/**
 * Which layers are ternary, and their quantization settings. By class name and the `quant`
 * property rather than `instanceof`, so it also holds for layers made by another copy of these
 * classes (a bundle next to the sources): the statistics, the packer and the exporters ask here.
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { LayerQuant } from '../quantizer';

/** The classes whose kernel is ternary (TernaryConv2D, TernaryDense). */
export const TERNARY_CLASSES: ReadonlySet<string> = new Set(['TernaryConv2D', 'TernaryDense']);

type AnyLayer = LayersModel['layers'][number];

/** The quantization settings of a ternary layer; undefined for any other layer. */
export function quantOf(layer: AnyLayer): LayerQuant | undefined {
  return TERNARY_CLASSES.has(layer.getClassName()) ? (layer as unknown as { quant: LayerQuant }).quant : undefined;
}
