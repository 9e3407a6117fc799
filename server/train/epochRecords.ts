/** The records of a finished epoch: its metrics line, per-layer stats and weight histograms. */
import { join } from 'node:path';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { layerStats, modelSummary, weightHistograms } from '../stats';
import { writeJsonAtomic } from '../files/atomicFiles';
import { appendJsonLine } from '../files/jsonLines';
import { faultPoint } from './faultInjection';
import type { RunPaths } from './runFolder';
import type { TrainListener } from './types';
import type { HistogramsRecord, LayersRecord, MetricsRecord } from '../../shared/runRecords';

/** Bins of the per-epoch latent-weight histograms. */
const HISTOGRAM_BINS = 64;

/** Appends the epoch's lines to metrics.jsonl and layers.jsonl, writes its histograms, tells the listener. */
export async function recordEpoch(model: LayersModel, paths: RunPaths, epochRecord: MetricsRecord, listener: TrainListener): Promise<void> {
  await appendJsonLine(paths.metrics, epochRecord);
  listener.onMetrics?.(epochRecord);
  const layersRecord: LayersRecord = { epoch: epochRecord.epoch, layers: layerStats(model), summary: modelSummary(model) };
  await appendJsonLine(paths.layers, layersRecord);
  listener.onLayers?.(layersRecord);
  const histogramsRecord: HistogramsRecord = { epoch: epochRecord.epoch, histograms: weightHistograms(model, HISTOGRAM_BINS) };
  await writeJsonAtomic(join(paths.histograms, `epoch-${String(epochRecord.epoch).padStart(3, '0')}.json`), histogramsRecord);
  listener.onHistograms?.(histogramsRecord);
  faultPoint('epoch-recorded');
}
