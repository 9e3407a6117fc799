/** Per-layer statistics, model size summary, weight histograms and their text table. */
export * from '../../shared/layerStats';
export { layerStats, modelSummary } from './layerStats';
export { weightHistograms, binValues } from './histograms';
export { formatLayerTable } from './format';
export { writeModelStats } from './report';
