/**
 * Finds the conv/dense layers of a model (through nested models) and reads their kernels and
 * quantization settings (server/core/layers/quantOf.ts). By class name, so it also works when the
 * layer classes come from another copy of the module (a bundle next to the sources).
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { LayerQuant } from '../core/quantizer';
import { quantOf, TERNARY_CLASSES } from '../core/layers/quantOf';

type AnyLayer = LayersModel['layers'][number];
/**
 * Every layer with a conv or dense kernel. DepthwiseConv2D (from imported MobileNets, whose
 * depthwise convs stay float: server/models/convert.ts ternarizes Conv2D and Dense only) is
 * listed as a float layer, so a model's layer count is all its convs, not the ternarizable ones.
 */
export const KERNEL_CLASSES = new Set([...TERNARY_CLASSES, 'Conv2D', 'Dense', 'DepthwiseConv2D']);

export interface KernelLayer {
  /** Name, prefixed by enclosing model names for nested models (`inner/dense_1`). */
  name: string;
  type: string;
  layer: AnyLayer;
  /** Quantization settings; undefined for float layers. */
  quant?: LayerQuant;
  shape: number[];
  kernel: Float32Array;
  /** Number of weights besides the kernel (the bias). */
  otherParams: number;
}

function isContainer(layer: AnyLayer): layer is LayersModel {
  return Array.isArray((layer as LayersModel).layers);
}

/** Conv/dense layers in model order, with their kernels copied to the host. */
export function kernelLayers(model: LayersModel, prefix = ''): KernelLayer[] {
  const out: KernelLayer[] = [];
  for (const layer of model.layers) {
    if (isContainer(layer)) {
      out.push(...kernelLayers(layer, `${prefix}${layer.name}/`));
      continue;
    }
    const type = layer.getClassName();
    if (!KERNEL_CLASSES.has(type) || layer.weights.length === 0) continue;
    const weights = layer.getWeights();
    const kernelIndex = Math.max(
      0,
      layer.weights.findIndex((w) => /(^|\/)(depthwise_)?kernel(_\d+)?$/.test(w.originalName ?? w.name)),
    );
    const kernel = weights[kernelIndex];
    const otherParams = weights.reduce((sum, w, i) => (i === kernelIndex ? sum : sum + w.size), 0);
    const quant = quantOf(layer);
    out.push({
      name: prefix + layer.name,
      type,
      layer,
      quant,
      shape: kernel.shape.slice(),
      kernel: kernel.dataSync() as Float32Array,
      otherParams,
    });
  }
  return out;
}
