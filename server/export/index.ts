/** Export of runs into the workspace (model, metrics.csv, layers.csv, report.md); no tfjs. */
export { exportRun, defaultExportDir, ExportError, metricsCsv, layersCsv, reportMarkdown, type ExportResult } from './exportRun';
