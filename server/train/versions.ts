/** Versions recorded in every run's config.json (what produced these numbers). */
import * as tf from '@tensorflow/tfjs-core';
import { version_layers as layersVersion } from '@tensorflow/tfjs-layers';
import pkg from '../../package.json';

export function runtimeVersions(): Record<string, string> {
  return {
    ternaryStudio: pkg.version,
    tfjsCore: tf.version_core,
    tfjsLayers: layersVersion,
    node: process.versions.node,
  };
}
