/** Export of runs and models: run files (metrics.csv, layers.csv, report.md) and the model as model.onnx, model.tern and a stock tfjs model, with a parity check. */
export {
  exportRun,
  exportModelTarget,
  defaultExportDir,
  ExportError,
  metricsCsv,
  layersCsv,
  reportMarkdown,
  type ExportResult,
  type ExportOptions,
} from './exportRun';
export {
  exportModelFiles,
  assertParity,
  exportSummaryLine,
  exportSummaryMarkdown,
  ParityError,
  PARITY_TOLERANCE,
  INT8_ONNX_FILE,
  type ModelExportSummary,
  type ParityResult,
} from './exportModel';
export { EXPORT_ACTIVATIONS, DEFAULT_CALIBRATION_IMAGES, Int8ExportError, type ExportActivations } from './int8Activations';
