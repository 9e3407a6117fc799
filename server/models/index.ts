/** Models: the zoo (`buildModel`), float → ternary conversion, and seeded initialization. */
export { buildModel, ARCHITECTURES, type BuildModelOptions, type ArchitectureInfo } from './zoo';
export { convertToTernary } from './convert';
export { initializeKaiming, fanIn } from './init';
