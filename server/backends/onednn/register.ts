// Registers the `onednn` backend: a MathBackendCPU (same tensors, same Float32Arrays; backend.ts) carrying
// every cpu kernel, with the hot ones replaced by addon-backed kernels.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs-core';
import type { OnednnAddon } from './addon';
import { conv2dKernels } from './kernels/conv2d';
import { elementwiseKernels } from './kernels/elementwise';
import { poolingKernels } from './kernels/pooling';
import { matMulKernels } from './kernels/matmul';
import { optimizerKernels } from './kernels/optimizer';
import { batchNormTrainingGradConfig, batchNormTrainingKernels } from './kernels/batchNormTraining';
import { routeBatchNormTraining } from './batchNormLayer';
import { broadcastScaledKernel, registerFastGradients } from './gradients';
import { BACKEND_NAME } from './util';
import { OnednnBackend } from './backend';

/** The kernels this backend implements natively (the rest are the cpu backend's). */
export function nativeKernels(addon: OnednnAddon, cpu: Map<string, KernelFunc>): KernelConfig[] {
  return [
    ...conv2dKernels(addon, cpu),
    ...elementwiseKernels(addon, cpu),
    ...poolingKernels(addon, cpu),
    ...matMulKernels(addon, cpu),
    ...batchNormTrainingKernels(addon),
    ...optimizerKernels(addon),
  ];
}

/** Names of the kernels the addon runs, for tests and the profile. */
export let overriddenKernels: string[] = [];

/**
 * Registers the backend once (later calls only update the thread count). Priority 0: tfjs never
 * picks it by itself; the backend ladder does, with setBackend('onednn').
 */
export async function registerBackendWithAddon(addon: OnednnAddon, threads: number): Promise<boolean> {
  addon.setThreads(threads);
  if (tf.findBackendFactory(BACKEND_NAME)) return true;
  const cpuKernels = tf.getKernelsForBackend('cpu');
  const cpu = new Map(cpuKernels.map((k) => [k.kernelName, k.kernelFunc]));
  tf.registerBackend(BACKEND_NAME, () => new OnednnBackend(), 0);
  const natives = nativeKernels(addon, cpu);
  const nativeNames = new Set(natives.map((k) => k.kernelName));
  for (const kernel of cpuKernels) {
    if (!nativeNames.has(kernel.kernelName)) tf.registerKernel({ ...kernel, backendName: BACKEND_NAME });
  }
  for (const kernel of natives) tf.registerKernel(kernel);
  tf.registerKernel(broadcastScaledKernel(addon));
  registerFastGradients(addon);
  tf.registerGradient(batchNormTrainingGradConfig);
  routeBatchNormTraining();
  overriddenKernels = [...nativeNames].sort();
  return true;
}
