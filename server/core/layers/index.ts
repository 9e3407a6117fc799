/**
 * The project's custom layers. Importing this module registers them with tfjs serialization, which
 * is what lets a saved model containing them load back.
 */
export { TernaryConv2D, type TernaryConv2DArgs } from './ternaryConv2d';
export { TernaryDense, type TernaryDenseArgs } from './ternaryDense';
export { OptionAShortcut, type OptionAShortcutArgs } from './optionAShortcut';
export { HardSigmoid, HardSwish, type HardSigmoidArgs } from './hardActivations';
export { ChannelZeroPad, type ChannelZeroPadArgs } from './channelZeroPad';
export type { TernaryQuantArgs } from './common';
