/**
 * The report's content, built from the records the other stages wrote: the
 * chart specs, the table rows and the text, as a ReportDocument for pdf.ts.
 * Pure: everything arrives as arguments, nothing is read or written here.
 */
import path from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import type { VersionRecord } from '../deploy-store.js';
import { FILE_NAMES } from '../layout.js';
import type { Metrics } from '../metrics.js';
import type { ModelFile } from '../model.js';
import type { DiagnosticsRecord, IngestionRecord, ScoreRecord } from '../records.js';
import type { RunRecord } from '../run-history.js';
import {
  CLASS_LABELS,
  F1_SERIES,
  confusionMatrixSpec,
  f1HistorySpec,
  riskDistributionSpec,
  rocCurveSpec,
  type F1Point,
  type RiskBin,
} from './charts.js';
import type { Block, ReportDocument, TableColumn } from './pdf.js';
import type { Chart } from './render.js';

/** The model the report is about: the deployed one, or the trained model when nothing is deployed. */
export interface ModelInUse {
  model: ModelFile;
  file: string;
  /** Null when the report fell back to an undeployed model. */
  deployment: { version: number; record: VersionRecord } | null;
}

/** The model's predictions on the labelled test data. */
export interface Evaluation {
  file: string;
  sha256: string;
  actual: Uint8Array;
  probabilities: Float64Array;
  metrics: Metrics;
  roc: { fpr: number; tpr: number }[];
}

/** The newest ingested clients scored by the model. */
export interface ScoredClients {
  file: string;
  idColumn: string;
  features: string[];
  ids: string[];
  columns: Float64Array[];
  target?: Uint8Array;
  probabilities: Float64Array;
}

/** Everything the report shows, read from disk by the reporting stage. */
export interface ReportInputs {
  generatedAt: Date;
  model: ModelInUse;
  evaluation: Evaluation;
  /** The scoring record of this model on this test data, when one exists. */
  score: { file: string; record: ScoreRecord } | null;
  diagnostics: DiagnosticsRecord | null;
  ingestion: IngestionRecord | null;
  clients: ScoredClients | null;
  runs: RunRecord[];
  versions: VersionRecord[];
  /** The configured data-drift thresholds (for the drift table's legend). */
  drift: { psi_threshold: number; ks_alpha: number };
  /** What is missing or stale, as shown to the reader (also printed as warnings). */
  notes: string[];
  topClients: number;
}

/** The charts of the report, by role. */
export interface ReportCharts {
  confusion: Chart;
  roc: Chart;
  risk: Chart | null;
  f1: Chart | null;
}

// ---------------------------------------------------------------- formatting

/** A metric with 4 decimals; "n/a" for null (ROC AUC with a single class). */
export function formatMetric(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? 'n/a' : value.toFixed(4);
}

/** An instant as `YYYY-MM-DD HH:MM:SS UTC`; "unknown" when absent or unparsable. */
export function formatTime(value: string | Date | null | undefined): string {
  if (value === null || value === undefined) return 'unknown';
  const time = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(time.getTime())) return 'unknown';
  return time.toISOString().slice(0, 19).replace('T', ' ') + ' UTC';
}

/** An integer with thousands separators. */
export function formatCount(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/** A statistic: integers as they are, else 2 decimals from 100 up and 4 below; "–" for null. */
export function formatStat(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  return Math.abs(value) >= 100 ? value.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 }) : value.toFixed(4);
}

/** A feature value of a client: as read, "missing" for an empty cell. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'missing';
  return Number.isInteger(value) ? String(value) : String(Number(value.toFixed(4)));
}

function formatPValue(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  return value < 1e-4 ? value.toExponential(1) : value.toFixed(4);
}

function plural(count: number, word: string): string {
  return `${formatCount(count)} ${word}${count === 1 ? '' : 's'}`;
}

// ---------------------------------------------------------------- data for charts and tables

/** Counts predicted probabilities in `bins` equal bins over [0, 1], split by the recorded outcome when known. */
export function binRisk(probabilities: ArrayLike<number>, outcome: ArrayLike<number> | undefined, bins = 20): RiskBin[] {
  const groups = outcome ? [CLASS_LABELS[0], CLASS_LABELS[1]] : ['unknown'];
  const counts = groups.map(() => new Array<number>(bins).fill(0));
  for (let i = 0; i < probabilities.length; i++) {
    const bin = Math.min(bins - 1, Math.max(0, Math.floor(probabilities[i] * bins)));
    counts[outcome ? (outcome[i] === 1 ? 1 : 0) : 0][bin]++;
  }
  return groups.flatMap((group, g) => counts[g].map((count, b) => ({ start: b / bins, end: (b + 1) / bins, outcome: group, count })));
}

/** Keeps at most `max` points of a curve, always the first and the last. */
export function thinCurve<T>(points: T[], max = 800): T[] {
  if (points.length <= max) return points;
  const step = (points.length - 1) / (max - 1);
  return Array.from({ length: max }, (_, i) => points[Math.round(i * step)]);
}

/** Row indexes of the `n` highest probabilities, highest first (ties: file order). */
export function topRiskIndexes(probabilities: ArrayLike<number>, n: number): number[] {
  const top: number[] = [];
  for (let i = 0; i < probabilities.length; i++) {
    const p = probabilities[i];
    if (top.length === n && p <= probabilities[top[n - 1]]) continue;
    let at = top.length;
    while (at > 0 && probabilities[top[at - 1]] < p) at--;
    top.splice(at, 0, i);
    if (top.length > n) top.pop();
  }
  return top;
}

/** The top-risk table: rank, id, probability, feature values and recorded outcome. */
export function topRiskTable(clients: ScoredClients, n: number): { columns: TableColumn[]; rows: string[][] } {
  const columns: TableColumn[] = [
    { header: '#', align: 'right' },
    { header: clients.idColumn, align: 'left' },
    { header: 'P(exit)', align: 'right' },
    ...clients.features.map((feature): TableColumn => ({ header: feature, align: 'right' })),
  ];
  if (clients.target) columns.push({ header: 'exited (recorded)', align: 'center' });
  const rows = topRiskIndexes(clients.probabilities, n).map((i, rank) => {
    const row = [
      String(rank + 1),
      clients.ids[i] || `(row ${i + 2})`,
      clients.probabilities[i].toFixed(4),
      ...clients.columns.map((column) => formatValue(column[i])),
    ];
    if (clients.target) row.push(clients.target[i] === 1 ? 'yes' : 'no');
    return row;
  });
  return { columns, rows };
}

/**
 * F1 points for the history chart: from the run history (deployed model and
 * retrained candidate, where recorded), else from the deployed versions.
 */
export function f1History(runs: RunRecord[], versions: VersionRecord[], maxRuns = 200): { points: F1Point[]; subtitle: string[] } {
  const scored = runs.filter((run) => run.scores && (run.scores.deployed_f1 !== null || run.scores.candidate_f1 !== null)).slice(-maxRuns);
  if (scored.length > 0) {
    const points: F1Point[] = [];
    for (const run of scored) {
      if (run.scores.deployed_f1 !== null)
        points.push({ time: run.started_at, series: F1_SERIES.deployed, f1: run.scores.deployed_f1, label: '' });
      if (run.scores.candidate_f1 !== null) {
        const label =
          run.outcome === 'redeployed' || run.outcome === 'bootstrapped'
            ? `v${run.version_after ?? ''}`
            : run.outcome === 'rejected'
              ? 'rejected'
              : '';
        points.push({ time: run.started_at, series: F1_SERIES.candidate, f1: run.scores.candidate_f1, label });
      }
    }
    const span = `${formatTime(scored[0].started_at)} to ${formatTime(scored.at(-1)!.started_at)}`;
    return { points, subtitle: [`fullprocess run history: ${plural(scored.length, 'run')} with scores, ${span}`] };
  }
  const deployed = versions.filter((v) => v.f1 !== null);
  const points = deployed.map((v) => ({ time: v.deployed_at, series: F1_SERIES.versions, f1: v.f1!, label: `v${v.version}` }));
  return {
    points,
    subtitle: [`no run history yet: F1 of each deployed version (${plural(deployed.length, 'version')}) when it was deployed`],
  };
}

// ---------------------------------------------------------------- chart specs

/** How chart subtitles name the model. */
function modelLabel(model: ModelInUse): string {
  return model.deployment ? `model version ${model.deployment.version}` : `model not deployed (${FILE_NAMES.model})`;
}

/** Vega-Lite specs of every chart the inputs allow; null where the data is missing. */
export function buildChartSpecs(inputs: ReportInputs): {
  confusion: TopLevelSpec;
  roc: TopLevelSpec;
  risk: TopLevelSpec | null;
  f1: TopLevelSpec | null;
} {
  const { evaluation, model, clients } = inputs;
  const testName = path.basename(evaluation.file);
  const confusion = confusionMatrixSpec(evaluation.metrics.confusion_matrix, [
    `${modelLabel(model)}, ${testName}`,
    `${plural(evaluation.metrics.rows, 'row')}, threshold 0.5`,
  ]);
  const roc = rocCurveSpec(thinCurve(evaluation.roc), [
    `${modelLabel(model)}, ${testName}`,
    `AUC ${formatMetric(evaluation.metrics.roc_auc)}`,
  ]);
  const risk = clients
    ? riskDistributionSpec(binRisk(clients.probabilities, clients.target), [
        `${plural(clients.ids.length, 'client')} of ${path.basename(clients.file)} (newest ingested data), ${modelLabel(model)}`,
      ])
    : riskDistributionSpec(binRisk(evaluation.probabilities, evaluation.actual), [
        `${plural(evaluation.metrics.rows, 'row')} of ${testName} (no ingested data found), ${modelLabel(model)}`,
      ]);
  const history = f1History(inputs.runs, inputs.versions);
  const f1 = history.points.length > 0 ? f1HistorySpec(history.points, history.subtitle) : null;
  return { confusion, roc, risk, f1 };
}

// ---------------------------------------------------------------- sections

function provenanceFacts(inputs: ReportInputs): [string, string][] {
  const { model: used, evaluation, score, ingestion, clients, diagnostics } = inputs;
  const { model, deployment } = used;
  const training = model.training;
  const facts: [string, string][] = [];
  facts.push(['Model', deployment ? `version ${deployment.version} (the current deployment)` : `not deployed: ${used.file}`]);
  const convergence = model.convergence.converged
    ? `converged in ${plural(model.convergence.iterations, 'iteration')}`
    : `NOT converged after ${plural(model.convergence.iterations, 'iteration')}`;
  facts.push([
    'Trained',
    `${formatTime(training.trained_at)} on ${plural(training.rows, 'row')} of ${path.basename(training.data_file)}; logistic regression (${model.hyperparameters.objective}, C = ${model.hyperparameters.C}), ${convergence}`,
  ]);
  facts.push([
    'Deployed',
    deployment
      ? formatTime(deployment.record.deployed_at) + (deployment.record.origin ? ` by ${deployment.record.origin}` : '')
      : 'not deployed',
  ]);
  // An undeployed model's files are known only when the ingestion record is of the data it was trained on.
  const files = deployment ? deployment.record.data.files : ingestion?.finaldata_sha256 === training.data_sha256 ? ingestion.files : [];
  if (files.length > 0) {
    const list = files.map((f) => `${f.name} (${plural(f.rows_read, 'row')})`).join(', ');
    facts.push(['Training data files', `${list}; ${plural(training.rows, 'row')} after dropping duplicates`]);
  } else {
    facts.push([
      'Training data files',
      `not recorded (${path.basename(training.data_file)}, SHA-256 ${training.data_sha256.slice(0, 12)}…)`,
    ]);
  }
  facts.push([
    'Test data',
    `${path.basename(evaluation.file)}: ${plural(evaluation.metrics.rows, 'row')}, ${formatCount(evaluation.metrics.positives)} exited`,
  ]);
  facts.push([
    'Scores',
    score
      ? `${score.file}, scored ${formatTime(score.record.scored_at)}`
      : 'computed now on the test data (no scoring record matches this model and test data)',
  ]);
  if (clients) {
    const when = ingestion ? `, ingested ${formatTime(ingestion.ingested_at)}` : '';
    facts.push(['Newest ingested data', `${path.basename(clients.file)}: ${plural(clients.ids.length, 'client')}${when}`]);
  }
  facts.push([
    'Diagnostics',
    diagnostics ? `${FILE_NAMES.diagnostics}, generated ${formatTime(diagnostics.generated_at)}` : 'not available',
  ]);
  facts.push(['Report generated', formatTime(inputs.generatedAt)]);
  return facts;
}

function metricCards(metrics: Metrics): Block {
  return {
    kind: 'metrics',
    items: [
      { label: 'F1', value: formatMetric(metrics.f1), detail: 'class 1 = exited' },
      { label: 'Precision', value: formatMetric(metrics.precision), detail: 'flagged who exit' },
      { label: 'Recall', value: formatMetric(metrics.recall), detail: 'exits flagged' },
      { label: 'Accuracy', value: formatMetric(metrics.accuracy), detail: 'correct overall' },
      { label: 'ROC AUC', value: formatMetric(metrics.roc_auc), detail: 'ranking quality' },
      { label: 'Log-loss', value: formatMetric(metrics.log_loss), detail: 'lower is better' },
    ],
  };
}

/** One plain sentence on what the metrics mean for the people who call clients. */
function performanceSentence(metrics: Metrics): string {
  const [[, fp], [fn, tp]] = metrics.confusion_matrix;
  const flagged = tp + fp;
  const exits = tp + fn;
  return (
    `Of the ${plural(exits, 'test client')} who exited, the model flagged ${formatCount(tp)} (recall ${(100 * metrics.recall).toFixed(1)}%); ` +
    `of the ${plural(flagged, 'client')} it flagged as at risk, ${formatCount(tp)} exited (precision ${(100 * metrics.precision).toFixed(1)}%). ` +
    `It missed ${formatCount(fn)} exits and raised ${formatCount(fp)} false alarms.`
  );
}

function driftBlocks(runs: RunRecord[], thresholds: ReportInputs['drift']): Block[] {
  const run = [...runs].reverse().find((r) => r.data_drift && Object.keys(r.data_drift).length > 0);
  if (!run) {
    const why = runs.length === 0 ? 'there is no run history yet (fullprocess has not run)' : 'no run in the history recorded data drift';
    return [{ kind: 'note', text: `Per-feature drift is not available: ${why}.` }];
  }
  const rows = Object.entries(run.data_drift!).map(([feature, d]) => [
    feature,
    formatMetric(d.psi),
    formatMetric(d.ks_statistic),
    formatPValue(d.ks_pvalue),
    d.drifted ? 'yes' : 'no',
  ]);
  return [
    {
      kind: 'table',
      caption: `Training data vs new data in run ${run.run_id}, started ${formatTime(run.started_at)} (outcome: ${run.outcome}). A feature drifted when its PSI is at least ${thresholds.psi_threshold} and its KS p-value is below ${thresholds.ks_alpha} (as configured now).`,
      columns: [
        { header: 'feature' },
        { header: 'PSI', align: 'right' },
        { header: 'KS statistic', align: 'right' },
        { header: 'KS p-value', align: 'right' },
        { header: 'drifted', align: 'center' },
      ],
      rows,
    },
  ];
}

const MISSING_DIAGNOSTICS = `No diagnostics record (${FILE_NAMES.diagnostics}) could be read; run \`npm run diagnostics\` to fill this section.`;

function dataBlocks(diagnostics: DiagnosticsRecord | null): Block[] {
  if (!diagnostics)
    return [
      { kind: 'heading', text: 'Ingested data' },
      { kind: 'note', text: MISSING_DIAGNOSTICS },
    ];
  const stats = diagnostics.summary_statistics;
  const missing = diagnostics.missing_data;
  return [
    { kind: 'heading', text: 'Ingested data: summary statistics' },
    {
      kind: 'table',
      caption: `${path.basename(stats.data_file)}, ${plural(stats.rows, 'row')}; standard deviation with ddof = 1, as pandas.`,
      columns: [
        { header: 'column' },
        ...['count', 'mean', 'median', 'std', 'min', 'max'].map((header): TableColumn => ({ header, align: 'right' })),
      ],
      rows: Object.entries(stats.columns).map(([name, s]) => [
        name,
        formatCount(s.count),
        formatStat(s.mean),
        formatStat(s.median),
        formatStat(s.std),
        formatStat(s.min),
        formatStat(s.max),
      ]),
    },
    { kind: 'heading', text: 'Missing data' },
    {
      kind: 'table',
      caption: `Empty cells per column of ${path.basename(missing.data_file)} (${plural(missing.rows, 'row')}); missing features are imputed with the training median.`,
      columns: [{ header: 'column' }, { header: 'missing cells', align: 'right' }, { header: 'missing %', align: 'right' }],
      rows: Object.entries(missing.columns).map(([name, m]) => [name, formatCount(m.missing), `${m.percent.toFixed(2)}%`]),
    },
  ];
}

function timingBlocks(inputs: ReportInputs): Block[] {
  const rows: string[][] = [];
  const timings = inputs.diagnostics?.timings;
  if (timings?.status === 'ok') {
    rows.push([
      'ingestion',
      timings.ingestion_seconds.toFixed(3),
      `diagnostics timing run (${plural(timings.rows, 'row')}), ${formatTime(inputs.diagnostics!.generated_at)}`,
    ]);
    rows.push([
      'training',
      timings.training_seconds.toFixed(3),
      `diagnostics timing run (${plural(timings.rows, 'row')}), ${formatTime(inputs.diagnostics!.generated_at)}`,
    ]);
  }
  if (inputs.ingestion)
    rows.push([
      'ingestion (last run)',
      (inputs.ingestion.duration_ms / 1000).toFixed(3),
      `${FILE_NAMES.ingestionRecord}, ${formatTime(inputs.ingestion.ingested_at)}`,
    ]);
  rows.push([
    'training (this model)',
    (inputs.model.model.training.duration_ms / 1000).toFixed(3),
    `${FILE_NAMES.model}, ${formatTime(inputs.model.model.training.trained_at)}`,
  ]);
  const lastRun = inputs.runs.at(-1);
  if (lastRun) {
    for (const [step, ms] of Object.entries(lastRun.durations ?? {}))
      rows.push([`fullprocess: ${step}`, (ms / 1000).toFixed(3), `last run, ${formatTime(lastRun.started_at)} (${lastRun.outcome})`]);
  }
  const blocks: Block[] = [{ kind: 'heading', text: 'Stage timings' }];
  if (!inputs.diagnostics) blocks.push({ kind: 'note', text: MISSING_DIAGNOSTICS });
  else if (timings?.status === 'unavailable')
    blocks.push({ kind: 'note', text: `The diagnostics timing runs are not available: ${timings.reason}.` });
  blocks.push({ kind: 'table', columns: [{ header: 'stage' }, { header: 'seconds', align: 'right' }, { header: 'measured by' }], rows });
  return blocks;
}

function dependencyBlocks(diagnostics: DiagnosticsRecord | null): Block[] {
  const blocks: Block[] = [{ kind: 'heading', text: 'Dependency status' }];
  if (!diagnostics) return [...blocks, { kind: 'note', text: MISSING_DIAGNOSTICS }];
  const report = diagnostics.dependencies;
  if (report.status !== 'ok')
    blocks.push({
      kind: 'note',
      text: `The registry check (npm outdated) is unavailable: ${report.reason ?? 'no reason given'}. Installed versions only.`,
    });
  const outdated = report.packages.filter((p) => p.outdated).length;
  blocks.push({
    kind: 'table',
    caption:
      report.status === 'ok'
        ? `Checked ${formatTime(report.checked_at)}: ${formatCount(report.packages.length)} direct ${report.packages.length === 1 ? 'dependency' : 'dependencies'}, ${formatCount(outdated)} outdated.`
        : undefined,
    columns: [
      { header: 'package' },
      { header: 'type' },
      { header: 'installed', align: 'right' },
      { header: 'wanted', align: 'right' },
      { header: 'latest', align: 'right' },
      { header: 'status', align: 'center' },
    ],
    rows: report.packages.map((p) => [
      p.name,
      p.type === 'devDependencies' ? 'dev' : 'runtime',
      p.current ?? 'not installed',
      p.wanted ?? '–',
      p.latest ?? '–',
      report.status !== 'ok' ? 'unknown' : p.current === null ? 'missing' : p.outdated ? 'outdated' : 'up to date',
    ]),
  });
  return blocks;
}

function modelBlocks(model: ModelFile): Block[] {
  const std = model.standardization;
  return [
    { kind: 'heading', text: 'Model parameters' },
    {
      kind: 'table',
      caption: std
        ? 'Coefficients act on standardized features z = (x − mean) / std; missing values are replaced by the training median first.'
        : 'Coefficients act on the raw (imputed) features; missing values are replaced by the training median.',
      columns: [
        { header: 'term' },
        { header: 'coefficient', align: 'right' },
        { header: 'training mean', align: 'right' },
        { header: 'training std', align: 'right' },
        { header: 'median (imputation)', align: 'right' },
      ],
      rows: [
        ['intercept', model.intercept.toFixed(6), '', '', ''],
        ...model.features.map((feature, f) => [
          feature,
          model.coefficients[f].toFixed(6),
          std ? formatStat(std.mean[f]) : '–',
          std ? formatStat(std.std[f]) : '–',
          formatStat(model.imputation[feature]),
        ]),
      ],
    },
  ];
}

/** Assembles the whole report from the inputs and the rendered charts. */
export function buildReportDocument(inputs: ReportInputs, charts: ReportCharts): ReportDocument {
  const { model, evaluation, clients } = inputs;
  const version = model.deployment ? `model version ${model.deployment.version}` : 'undeployed model';
  const blocks: Block[] = [
    {
      kind: 'title',
      text: 'Client attrition risk report',
      subtitle: `${version[0].toUpperCase()}${version.slice(1)} · generated ${formatTime(inputs.generatedAt)}`,
    },
    { kind: 'facts', rows: provenanceFacts(inputs) },
    { kind: 'heading', text: 'Model performance on the test data' },
    metricCards(evaluation.metrics),
    { kind: 'text', text: performanceSentence(evaluation.metrics) },
    { kind: 'charts', charts: [charts.confusion, charts.roc] },
  ];
  if (inputs.notes.length > 0) {
    blocks.push({ kind: 'heading', text: 'Notes: what is missing from this report' });
    for (const note of inputs.notes) blocks.push({ kind: 'note', text: note });
  }

  // No forced break: the top-clients table is kept whole, so it starts a page unless it fits below the summary.
  blocks.push({ kind: 'heading', text: `Top ${inputs.topClients} clients by attrition risk` });
  if (clients) {
    const table = topRiskTable(clients, inputs.topClients);
    blocks.push({
      kind: 'table',
      caption: `The clients of ${path.basename(clients.file)} (newest ingested data) with the highest predicted probability of exiting under ${version}. Call these first.`,
      ...table,
    });
  } else {
    blocks.push({
      kind: 'note',
      text: `No ingested data (${FILE_NAMES.finalData}) was found, so no clients can be ranked; run \`npm run ingestion\`.`,
    });
  }
  if (charts.risk) blocks.push({ kind: 'charts', charts: [charts.risk] });

  blocks.push({ kind: 'heading', text: 'Model history' });
  if (charts.f1) blocks.push({ kind: 'charts', charts: [charts.f1] });
  else blocks.push({ kind: 'note', text: 'No F1 history yet: there is no run history and no deployed version with a recorded F1.' });
  blocks.push(...modelBlocks(model.model));
  blocks.push({ kind: 'heading', text: 'Data drift per feature' }, ...driftBlocks(inputs.runs, inputs.drift));
  blocks.push(...dataBlocks(inputs.diagnostics));
  blocks.push(...timingBlocks(inputs));
  blocks.push(...dependencyBlocks(inputs.diagnostics));

  return {
    title: 'Client attrition risk report',
    subject: `Attrition model report, ${version}`,
    footer: `Client attrition risk report · ${version} · generated ${formatTime(inputs.generatedAt)}`,
    createdAt: inputs.generatedAt,
    blocks,
  };
}
