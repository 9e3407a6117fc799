/**
 * The project's gradients, registered in one loop (as tfjs-core registers its own). They replace
 * tfjs-core's for the same kernels with the same math, minus full-size temporaries; see each file.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GradConfig } from '@tensorflow/tfjs-core';
import { fusedBatchNormGradConfig, restoreOriginalFusedBatchNormGradient } from './fusedBatchNormGrad';
import { meanGradConfig, restoreOriginalMeanGradient } from './meanGrad';

const gradConfigs: GradConfig[] = [fusedBatchNormGradConfig, meanGradConfig];

/** Registers the project's gradients (backend-independent; idempotent). */
export function registerFastGradients(): void {
  for (const config of gradConfigs) {
    if (tf.getGradient(config.kernelName) !== config) tf.registerGradient(config);
  }
}

/** Puts tfjs-core's gradients back (for before/after measurements and tests). */
export function restoreOriginalGradients(): void {
  restoreOriginalFusedBatchNormGradient();
  restoreOriginalMeanGradient();
}
