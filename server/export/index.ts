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
  type ModelExportSummary,
  type ParityResult,
} from './exportModel';
