/**
 * reporting: the PDF report, the confusion-matrix PNG and the risk list
 * (the risk-scores CSV) in `output_model_path` for the deployed model (or, with a
 * warning, the undeployed trained model) and the newest ingested data, built
 * from the records the other stages wrote. One call refreshes all three, so a
 * tick that ingests new data can refresh the call list whatever it decided.
 * A missing record becomes a note in the report and a warning; a missing
 * model or test data is an error (exit 2): there is nothing to report on.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseIntegerOption, runCommand } from './lib/cli.js';
import type { Config } from './lib/config.js';
import { readDataset } from './lib/data/dataset.js';
import { listVersions, readCurrentDeployment, versionFolder } from './lib/store/deploy-store.js';
import { UserError, messageOf } from './lib/errors.js';
import { ensureFolder, exists, sha256, writeFileAtomic } from './lib/store/files.js';
import { evaluateModel, readDataForModel } from './lib/model/evaluation.js';
import { artefactPaths, deployedFile, FILE_NAMES } from './lib/layout.js';
import { silentLogger, type Logger } from './lib/log.js';
import { isDiagnosticsRecord, isIngestionRecord, isScoreRecord, readRecordFile, type ScoreRecord } from './lib/store/records.js';
import { rocCurve, type Metrics } from './lib/model/metrics.js';
import { loadModelFile, schemaForModel, type ModelFile } from './lib/model/model-file.js';
import { buildRiskList, riskListCsv } from './lib/report/risk-list.js';
import { readRuns, type RunRecord } from './lib/store/run-history.js';
import { characterMeasurer, loadFonts, type TextMeasurer } from './lib/report/fonts.js';
import { createPdfDocument, renderPdf } from './lib/report/pdf.js';
import { renderChart, renderPng } from './lib/report/render.js';
import { buildChartSpecs, buildReportDocument, reportHealth } from './lib/report/document.js';
import { gainFigure, type ModelInUse, type ReportCharts, type ReportInputs, type ScoredClients } from './lib/report/inputs.js';

/** Options of the reporting stage. */
export interface ReportingOptions {
  /** How many clients the report's call list shows (default 20; the risk-scores CSV holds them all). */
  topClients?: number;
  /** The report's "generated at" time (default now). */
  now?: Date;
  /** A run still in progress (fullprocess reports before its own record is appended). */
  pendingRun?: RunRecord;
}

/** The stage result. */
export interface ReportingResult {
  /** The files written; risk_scores is null when there was no ingested data to list. */
  written: { report: string; confusion_matrix: string; risk_scores: string | null };
  /** The health verdict on page 1. */
  health: string;
  /** The risk list written, and what it was made from. */
  risk_list: {
    clients: number;
    left: number;
    ids: number;
    rows: number;
    data_file: string;
    data_sha256: string;
  } | null;
  /** Calling the riskiest share of the test clients reaches this share of those who left. */
  gain: { share: number; reached: number | null };
  pages: number;
  /** Deployed version reported on; null when the report fell back to an undeployed model. */
  model_version: number | null;
  model_file: string;
  metrics: Omit<Metrics, 'positives'>;
  confusion_matrix_png: { width: number; height: number };
  warnings: string[];
  generated_at: string;
  duration_ms: number;
}

/** The deployed model, else the trained model of output_model_path (with a warning), else a UserError. */
function locateModel(config: Config, warn: (message: string) => void): ModelInUse {
  const current = readCurrentDeployment(config.prod_deployment_path);
  if (current) {
    const file = deployedFile(current.folder, FILE_NAMES.model);
    return { model: loadModelFile(file), file, deployment: { version: current.version, record: current.record } };
  }
  const file = artefactPaths(config).model;
  if (!exists(file)) {
    throw new UserError(
      `nothing to report on: no model is deployed in ${config.prod_deployment_path} and ${file} does not exist (run training, scoring and deployment first)`,
    );
  }
  warn(`no model is deployed in ${config.prod_deployment_path}; the report describes ${file}, which is not deployed`);
  return { model: loadModelFile(file), file, deployment: null };
}

/** Reads a record; undefined when absent, a warning when unreadable or not of its shape. */
function readRecord<T>(file: string, what: string, guard: (value: unknown) => value is T, warn: (message: string) => void): T | undefined {
  try {
    return readRecordFile(file, what, guard);
  } catch (error) {
    warn(`${file} cannot be read (${messageOf(error)}); it is left out of the report`);
    return undefined;
  }
}

/** Reads every record the report shows; missing ones become warnings. */
function readInputs(
  config: Config,
  options: ReportingOptions & { topClients: number },
  warn: (message: string) => void,
  log: Logger,
): Omit<ReportInputs, 'notes'> {
  const model = locateModel(config, warn);
  const paths = artefactPaths(config);
  const testFile = paths.testData;
  if (!exists(testFile)) throw new UserError(`nothing to report on: test data not found: ${testFile}`);
  const test = readDataForModel(testFile, model.model, config.schema);
  if (test.rows === 0) throw new UserError(`nothing to report on: ${testFile} has no data rows`);
  const { metrics, probabilities } = evaluateModel(model.model, test);
  const evaluation = {
    file: testFile,
    sha256: test.digest.sha256,
    actual: test.target!,
    probabilities,
    metrics,
    roc: rocCurve(test.target!, probabilities),
  };

  // The scoring record of exactly this model on exactly this test data; the report's numbers are recomputed either way.
  const modelSha = sha256(fs.readFileSync(model.file));
  const scoreFiles = [...(model.deployment ? [deployedFile(path.dirname(model.file), FILE_NAMES.scoreRecord)] : []), paths.scoreRecord];
  let score: ReportInputs['score'] = null;
  let staleScore: ScoreRecord | undefined;
  for (const file of scoreFiles) {
    const record = readRecord(file, 'a scoring record', isScoreRecord, warn);
    if (record?.model_sha256 !== modelSha) continue;
    if (record.data_sha256 === evaluation.sha256) {
      score = { file: path.relative(config.baseFolder, file), record };
      break;
    }
    staleScore ??= record;
  }
  const localScore = paths.scoreRecord;
  if (model.deployment && fs.existsSync(localScore)) {
    const local = readRecord(localScore, 'a scoring record', isScoreRecord, warn);
    if (local && local.model_sha256 !== modelSha) {
      warn(
        `${path.relative(config.baseFolder, localScore)} scores a trained model that is not deployed; this report is about the deployed version ${model.deployment.version}`,
      );
    }
  }
  if (!score) {
    warn(
      staleScore
        ? `the scoring record of this model was made on other test data (scored ${staleScore.scored_at}); the metrics were computed now on ${testFile}`
        : `no scoring record (${FILE_NAMES.scoreRecord}) for this model; the metrics were computed now on ${testFile}`,
    );
  }

  const diagnosticsFile = paths.diagnostics;
  const diagnostics = readRecord(diagnosticsFile, 'a diagnostics record', isDiagnosticsRecord, warn) ?? null;
  if (!diagnostics) {
    // An unreadable record was already reported by readRecord.
    if (!exists(diagnosticsFile))
      warn(
        `no diagnostics record (${diagnosticsFile}): summary statistics, missing data, timings and dependency status are left out (run diagnostics)`,
      );
  } else if (model.deployment && diagnostics.model_version !== model.deployment.version) {
    warn(
      `${FILE_NAMES.diagnostics} was made for model version ${diagnostics.model_version ?? 'none'}, not version ${model.deployment.version}; run diagnostics again for current figures`,
    );
  }

  const ingestion = readRecord(paths.ingestionRecord, 'an ingestion record', isIngestionRecord, warn) ?? null;
  const clients = readClients(config, model, warn);
  if (diagnostics && clients && diagnostics.summary_statistics.rows !== clients.list.rows)
    warn(
      `${FILE_NAMES.diagnostics} describes ${diagnostics.summary_statistics.rows} rows of ${FILE_NAMES.finalData}, which now holds ${clients.list.rows}; the summary statistics and missing data are older than the call list (run diagnostics)`,
    );
  const versions = listVersions(config.prod_deployment_path);
  const previous = model.deployment ? readPreviousModel(config, model.deployment.version, versions, warn) : null;

  const runs = [...readRuns(config.prod_deployment_path, log), ...(options.pendingRun ? [options.pendingRun] : [])];
  if (runs.length === 0) {
    const history = versions.length > 0 ? 'the F1 history shows the deployed versions' : 'there is no F1 history';
    warn(`no run history (${paths.runHistory}): ${history} and no drift table (run fullprocess)`);
  }

  return {
    generatedAt: options.now ?? new Date(),
    idColumn: config.schema.id_column,
    targetLabels: config.schema.target_labels ?? ['0', '1'],
    model,
    previous,
    evaluation,
    score,
    diagnostics,
    ingestion,
    clients,
    runs,
    versions,
    drift: { psi_threshold: config.drift.psi_threshold, ks_alpha: config.drift.ks_alpha },
    topClients: options.topClients,
    gainShare: GAIN_SHARE,
  };
}

/** The gain figure calls the riskiest 10 % of the test clients. */
const GAIN_SHARE = 0.1;

/** The model of the highest version below `current`, for the coefficient comparison; null (with a warning) when unreadable. */
function readPreviousModel(
  config: Config,
  current: number,
  versions: { version: number }[],
  warn: (message: string) => void,
): { version: number; model: ModelFile } | null {
  const earlier = versions.filter((v) => v.version < current).sort((a, b) => b.version - a.version)[0];
  if (!earlier) return null;
  const file = deployedFile(versionFolder(config.prod_deployment_path, earlier.version), FILE_NAMES.model);
  try {
    return { version: earlier.version, model: loadModelFile(file) };
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    warn(`the model of version ${earlier.version} cannot be read (${error.message}): the coefficients are not compared`);
    return null;
  }
}

/** The risk list of the newest ingested data under the model; null (with a warning) when absent or unreadable. */
function readClients(config: Config, model: ModelInUse, warn: (message: string) => void): ScoredClients | null {
  const file = artefactPaths(config).finalData;
  if (!exists(file)) {
    warn(`no ingested data (${file}): no call list, and ${FILE_NAMES.riskScores} is not written (run ingestion)`);
    return null;
  }
  try {
    const data = readDataset(file, schemaForModel(config.schema, model.model), { label: path.basename(file) });
    const list = buildRiskList(data, config.schema, model.model);
    if (list.unidentified === data.rows && data.rows > 0)
      warn(`no row of ${path.basename(file)} has a value in the id column "${config.schema.id_column}": the call list is empty`);
    return { file, list, data, sha256: data.digest.sha256 };
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    warn(`${file} cannot be scored (${error.message}): no call list, and ${FILE_NAMES.riskScores} is not written`);
    return null;
  }
}

/** Renders every chart spec to SVG, one after another (vega's text measurement is module-wide). */
async function renderCharts(specs: ReturnType<typeof buildChartSpecs>, measure: TextMeasurer, log: Logger): Promise<ReportCharts> {
  const warnings: string[] = [];
  const charts: ReportCharts = {
    confusion: await renderChart(specs.confusion, measure, warnings),
    roc: await renderChart(specs.roc, measure, warnings),
    gain: specs.gain && (await renderChart(specs.gain, measure, warnings)),
    f1: specs.f1 && (await renderChart(specs.f1, measure, warnings)),
    drift: [],
  };
  for (const { feature, spec } of specs.drift) charts.drift.push({ feature, chart: await renderChart(spec, measure, warnings) });
  for (const message of warnings) log.debug(`vega: ${message}`);
  return charts;
}

/** Runs reporting with the given config. */
export async function runReporting(config: Config, options: ReportingOptions = {}, log: Logger = silentLogger): Promise<ReportingResult> {
  const started = performance.now();
  const topClients = options.topClients ?? 20;
  if (!Number.isInteger(topClients) || topClients < 1) throw new UserError(`--top must be a positive integer, got ${topClients}`);
  const warnings: string[] = [];
  const warn = (message: string): void => {
    warnings.push(message);
    log.warn(message);
  };
  const phases: Record<string, number> = {};
  let mark = started;
  const lap = (phase: string): void => {
    phases[phase] = Math.round(performance.now() - mark);
    mark = performance.now();
  };

  const inputs: ReportInputs = { ...readInputs(config, { ...options, topClients }, warn, log), notes: [...warnings] };
  lap('read_ms');
  const fonts = loadFonts();
  // One document: its font instances measure the chart text too.
  const doc = createPdfDocument(fonts);
  const charts = await renderCharts(buildChartSpecs(inputs), characterMeasurer(doc), log);
  lap('charts_ms');
  const png = renderPng(charts.confusion, fonts);
  lap('png_ms');
  const { pdf, pages } = await renderPdf(doc, buildReportDocument(inputs, charts), {
    onWarning: (message) => log.debug(`svg-to-pdfkit: ${message}`),
  });
  lap('pdf_ms');

  // The report and the PNG are complete in memory before anything is written; the risk list streams out.
  ensureFolder(config.output_model_path);
  const paths = artefactPaths(config);
  const clients = inputs.clients;
  const written = { report: paths.report, confusion_matrix: paths.confusionMatrix, risk_scores: clients ? paths.riskScores : null };
  if (clients) writeFileAtomic(paths.riskScores, riskListCsv(clients.list, inputs.model.model, clients.data));
  writeFileAtomic(written.confusion_matrix, png.png);
  writeFileAtomic(written.report, pdf);
  lap('write_ms');
  log.debug('reporting phases', phases);

  const m = inputs.evaluation.metrics;
  const gain = gainFigure(inputs);
  const result: ReportingResult = {
    written,
    health: reportHealth(inputs),
    risk_list: clients && {
      clients: clients.list.clients.length,
      left: clients.list.left,
      ids: clients.list.ids,
      rows: clients.list.rows,
      data_file: path.basename(clients.file),
      data_sha256: clients.sha256,
    },
    gain: { share: gain.share, reached: gain.reachedShare },
    pages,
    model_version: inputs.model.deployment?.version ?? null,
    model_file: inputs.model.file,
    metrics: {
      f1: m.f1,
      precision: m.precision,
      recall: m.recall,
      accuracy: m.accuracy,
      roc_auc: m.roc_auc,
      log_loss: m.log_loss,
      rows: m.rows,
      confusion_matrix: m.confusion_matrix,
    },
    confusion_matrix_png: { width: png.width, height: png.height },
    warnings,
    generated_at: inputs.generatedAt.toISOString(),
    duration_ms: Math.round(performance.now() - started),
  };
  log.info(`report written: ${pages} pages`, { report: written.report, model_version: result.model_version, warnings: warnings.length });
  return result;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runCommand<{ top: number }>({
    name: 'reporting',
    description: `Write ${FILE_NAMES.report}, ${FILE_NAMES.confusionMatrix} and ${FILE_NAMES.riskScores} for the deployed model and the newest ingested data into output_model_path`,
    options: (program) =>
      program.option(
        '--top <n>',
        `clients in the report's call list (${FILE_NAMES.riskScores} holds them all)`,
        parseIntegerOption('--top'),
        20,
      ),
    run: (config, options, log) => runReporting(config, { topClients: options.top }, log),
  });
}
