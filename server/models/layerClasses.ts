/**
 * Every layer class a model.json of this studio can hold: what the zoo (server/models/zoo.ts),
 * ternarization (server/models/convert.ts: Conv2D/Dense → TernaryConv2D/TernaryDense) and the ONNX
 * importer (server/formats/onnx/import/ops.ts) put into a model. Each engine must train all of them: the torch
 * engine's list is SUPPORTED_CLASSES in engines/torch/ternary_torch/graph.py.
 * test/unit/models-layer-classes.test.ts checks this list against the zoo's models, the imported
 * ONNX fixtures and the layer factories the importer calls; test/unit/engines-torch-layers.test.ts
 * checks every class on the torch engine against tfjs-layers.
 */
export const MODEL_LAYER_CLASSES = [
  'InputLayer',
  // kernels
  'Conv2D',
  'TernaryConv2D',
  'DepthwiseConv2D',
  'Dense',
  'TernaryDense',
  'BatchNormalization',
  // activations
  'Activation',
  'ReLU',
  'LeakyReLU',
  'Softmax',
  'HardSigmoid',
  'HardSwish',
  // pooling
  'MaxPooling2D',
  'AveragePooling2D',
  'GlobalAveragePooling2D',
  'GlobalMaxPooling2D',
  // merges
  'Add',
  'Multiply',
  'Concatenate',
  // shapes and padding
  'Flatten',
  'Reshape',
  'Permute',
  'ZeroPadding2D',
  'Cropping2D',
  'ChannelZeroPad',
  'OptionAShortcut',
  'Dropout',
] as const;

export type ModelLayerClass = (typeof MODEL_LAYER_CLASSES)[number];
