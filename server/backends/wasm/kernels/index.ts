/**
 * The project's kernels for the wasm backend, registered in one loop (as the backends do).
 * Both conv gradients run as forward convolutions on XNNPACK and per-channel Sum/Mean as a matrix
 * product on XNNPACK; Identity shares buffers. See each file for the why.
 */
import { getKernel, registerKernel, unregisterKernel, type KernelConfig } from '@tensorflow/tfjs-core';
import { meanConfig, sumConfig } from './channelReductions';
import { conv2dBackpropFilterConfig } from './conv2dBackpropFilter';
import { conv2dBackpropInputConfig } from './conv2dBackpropInput';
import { identityConfig } from './identity';
import { tileConfig } from './tile';
import { originalKernel, rememberOriginalKernel } from './wasmKernelCalls';

const kernelConfigs: KernelConfig[] = [
  conv2dBackpropFilterConfig,
  conv2dBackpropInputConfig,
  identityConfig,
  sumConfig,
  meanConfig,
  tileConfig,
];

/** Registers (or re-registers) the project's wasm kernels; safe to call more than once. */
export function registerWasmKernels(): void {
  for (const config of kernelConfigs) {
    const existing = getKernel(config.kernelName, config.backendName);
    if (existing === config) continue;
    if (existing) {
      rememberOriginalKernel(config.kernelName);
      unregisterKernel(config.kernelName, config.backendName);
    }
    registerKernel(config);
  }
}

/** Puts the backend's original kernels back (for before/after measurements). */
export function unregisterWasmKernels(): void {
  for (const config of kernelConfigs) {
    if (getKernel(config.kernelName, config.backendName) === config) {
      unregisterKernel(config.kernelName, config.backendName);
    }
  }
  // Restore what the backend shipped (it had no Conv2DBackpropFilter).
  for (const config of kernelConfigs) {
    const original = originalKernel(config.kernelName);
    if (original && !getKernel(config.kernelName, config.backendName)) registerKernel(original);
  }
}
