/**
 * The report's content, built from the records the other stages wrote: the
 * chart specs, the table rows and the text, as a ReportDocument for pdf.ts.
 * Read first by a client manager (page 1: what happened and whom to call;
 * then how much calling helps, how good and how stable the model is), then by
 * an engineer (the appendix). Names come from the schema: the id column, the
 * target and feature labels derived from the column names.
 * Pure: everything arrives as arguments, nothing is read or written here.
 */
import path from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import type { Dataset } from '../data/dataset.js';
import type { VersionRecord } from '../store/deploy-store.js';
import { FILE_NAMES } from '../layout.js';
import type { Metrics } from '../model/metrics.js';
import type { ModelFile } from '../model/model-file.js';
import type { DiagnosticsRecord, IngestionRecord, ScoreRecord } from '../store/records.js';
import { featureLabel, reasonPhrases, type RiskList } from './risk-list.js';
import type { FeatureDrift, RunRecord } from '../store/run-history.js';
import {
  classLabels,
  confusionMatrixSpec,
  DRIFT_COLORS,
  driftDistributionSpec,
  f1HistorySpec,
  gainChartSpec,
  rocCurveSpec,
} from './charts.js';
import { driftBars, driftSentence, f1History, formatPValue, gainAt, gainCurve, thinCurve, type Gain } from './figures.js';
import { checkFigures, summarizeHealth, type HealthSummary } from './health.js';
import type { Block, ReportDocument, TableColumn } from './pdf.js';
import type { Chart } from './render.js';
import { shorten } from './text-fit.js';

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

/** The risk list of the newest ingested data under the model. */
export interface ScoredClients {
  file: string;
  list: RiskList;
  /** The data the list was made from (the feature values shown). */
  data: Dataset;
  /** SHA-256 of that file. */
  sha256: string;
}

/** Everything the report shows, read from disk by the reporting stage. */
export interface ReportInputs {
  generatedAt: Date;
  /** The config's id column; the target is the model's. */
  idColumn: string;
  model: ModelInUse;
  /** The version deployed before the current one, for the coefficient comparison. */
  previous: { version: number; model: ModelFile } | null;
  evaluation: Evaluation;
  /** The scoring record of this model on this test data, when one exists. */
  score: { file: string; record: ScoreRecord } | null;
  diagnostics: DiagnosticsRecord | null;
  ingestion: IngestionRecord | null;
  clients: ScoredClients | null;
  runs: RunRecord[];
  versions: VersionRecord[];
  /** The configured data-drift thresholds. */
  drift: { psi_threshold: number; ks_alpha: number };
  /** What is missing or stale, as shown to the reader (also printed as warnings). */
  notes: string[];
  /** Clients in the call list (page 1 shows the first of them). */
  topClients: number;
  /** Share of clients the gain figure calls (0.1 = the riskiest 10 %). */
  gainShare: number;
}

/** The charts of the report, by role. */
export interface ReportCharts {
  confusion: Chart;
  roc: Chart;
  gain: Chart | null;
  f1: Chart | null;
  drift: { feature: string; chart: Chart }[];
}

/** Rows of the call list on page 1; the rest follow on page 2. */
export const PAGE_ONE_CLIENTS = 10;
/** Characters of an id shown (the CSV and the API carry it whole). */
const ID_CHARACTERS = 40;

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

/** A share as a percentage with one decimal ("35.3%"). */
export function formatPercent(share: number | null): string {
  return share === null || !Number.isFinite(share) ? 'n/a' : `${(100 * share).toFixed(1)}%`;
}

/** A statistic: integers as they are, else 2 decimals from 100 up and 4 below; "–" for null. */
export function formatStat(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  return Math.abs(value) >= 100 ? value.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 }) : value.toFixed(4);
}

/** A coefficient with its sign and 2 decimals ("+0.10", "−2.17", "0.00"). */
function formatSigned(value: number): string {
  const rounded = Number(value.toFixed(2));
  return rounded === 0 ? '0.00' : (rounded < 0 ? '−' : '+') + Math.abs(rounded).toFixed(2);
}

function plural(count: number, word: string, many = `${word}s`): string {
  return `${formatCount(count)} ${count === 1 ? word : many}`;
}

/** File names of a tick, at most `max` named. */
function fileList(files: { name: string }[], max = 4): string {
  if (files.length === 0) return 'no files';
  const named = files.slice(0, max).map((f) => shorten(f.name, 60));
  return named.join(', ') + (files.length > max ? ` and ${files.length - max} more` : '');
}

// ---------------------------------------------------------------- chart specs

/** How chart subtitles name the model. */
function modelLabel(model: ModelInUse): string {
  return model.deployment ? `model version ${model.deployment.version}` : `model not deployed (${FILE_NAMES.model})`;
}

/** The newest tick that measured data drift, and its per-feature figures. */
function newestDataDrift(runs: RunRecord[]): { run: RunRecord; drift: Record<string, FeatureDrift> } | null {
  const run = [...runs].reverse().find((r) => r.data_drift && Object.keys(r.data_drift).length > 0);
  return run ? { run, drift: run.data_drift! } : null;
}

/** Features of a drift record, the largest PSI first. */
function driftByPsi(drift: Record<string, FeatureDrift>): [string, FeatureDrift][] {
  return Object.entries(drift).sort((a, b) => (Number.isFinite(b[1].psi) ? b[1].psi : -1) - (Number.isFinite(a[1].psi) ? a[1].psi : -1));
}

/** Vega-Lite specs of every chart the inputs allow; null where the data is missing. */
export function buildChartSpecs(inputs: ReportInputs): {
  confusion: TopLevelSpec;
  roc: TopLevelSpec;
  gain: TopLevelSpec | null;
  f1: TopLevelSpec | null;
  drift: { feature: string; spec: TopLevelSpec }[];
} {
  const { evaluation, model } = inputs;
  const testName = path.basename(evaluation.file);
  const confusion = confusionMatrixSpec(evaluation.metrics.confusion_matrix, classLabels(model.model.target), [
    `${modelLabel(model)}, ${testName}`,
    `${plural(evaluation.metrics.rows, 'row')}, flagged when the risk is above 50%`,
  ]);
  const roc = rocCurveSpec(thinCurve(evaluation.roc), [
    `${modelLabel(model)}, ${testName}`,
    `AUC ${formatMetric(evaluation.metrics.roc_auc)}`,
  ]);
  const gainPoints = gainCurve(evaluation.actual, evaluation.probabilities);
  const gain = gainFigure(inputs);
  const gainSpec =
    gainPoints.length > 0 && gain.reachedShare !== null
      ? gainChartSpec(thinCurve(gainPoints, 400), { called: gain.called / gain.clients, reached: gain.reachedShare }, [
          `${testName}: ${plural(gain.clients, 'client')}, ${formatCount(gain.leavers)} of them left; ${modelLabel(model)}`,
        ])
      : null;
  const history = f1History(inputs.runs, inputs.versions);
  const f1 =
    history.points.length > 0
      ? f1HistorySpec(history.points, [
          `${plural(history.deployments, 'deployment')}, ${plural(history.checks, 'drift check')}` +
            (history.rejected > 0 ? `, ${plural(history.rejected, 'rejected candidate')}` : ''),
        ])
      : null;
  const newest = newestDataDrift(inputs.runs);
  const drift = newest
    ? driftByPsi(newest.drift).map(([feature, d]) => ({
        feature,
        spec: driftDistributionSpec(driftBars(d.psi_bins), shorten(featureLabel(feature), 60), [
          `PSI ${Number.isFinite(d.psi) ? d.psi.toFixed(2) : 'n/a'} · KS p ${formatPValue(d.ks_pvalue)} · ${d.drifted ? 'drifted' : 'not drifted'}`,
        ]),
      }))
    : [];
  return { confusion, roc, gain: gainSpec, f1, drift };
}

/** The gain figure of the inputs' test data. */
export function gainFigure(inputs: Pick<ReportInputs, 'evaluation' | 'gainShare'>): Gain {
  return gainAt(inputs.evaluation.actual, inputs.evaluation.probabilities, inputs.gainShare);
}

// ---------------------------------------------------------------- page 1: what happened

function outcomeWords(run: RunRecord): string {
  switch (run.outcome) {
    case 'bootstrapped':
      return `bootstrapped version ${run.version_after ?? '?'}`;
    case 'redeployed':
      return `drift found, deployed version ${run.version_after ?? '?'}`;
    case 'rejected':
      return 'drift found, candidate rejected';
    case 'no-drift':
      return 'no drift';
    case 'failed':
      return 'failed';
    default:
      return run.outcome;
  }
}

/** How the rule drew its line, in words. */
function ruleWords(run: RunRecord): string {
  const drift = run.model_drift;
  if (!drift) return 'rule not recorded';
  const earlier = plural(drift.history.length, 'earlier score');
  if (drift.explanation.includes('raw rule applied') || drift.rule === 'raw') return 'raw rule: any drop counts as drift';
  if (drift.rule === 'parametric') return `parametric rule: below ${formatMetric(drift.threshold)} = mean − 2 std of ${earlier}`;
  return `nonparametric rule: below ${formatMetric(drift.threshold)} = Q1 − 1.5 IQR of ${earlier}`;
}

/** The health line: a verdict with its figures. */
function healthBanner(inputs: ReportInputs, summary: HealthSummary): Block {
  const { newest, check } = summary;
  const figures = check ? checkFigures(check) : null;
  const current = inputs.model.deployment?.version ?? null;
  const f2 = (value: number | null | undefined): string =>
    value === null || value === undefined || !Number.isFinite(value) ? 'n/a' : value.toFixed(2);
  const testF1 = f2(inputs.evaluation.metrics.f1);
  let text: string;
  let detail: string;
  switch (summary.health) {
    case 'undeployed':
      text = 'No model is deployed';
      detail = `This report describes ${FILE_NAMES.model} of ${path.basename(path.dirname(inputs.model.file))}, which is not deployed; deploy a model (npm run deployment) or run fullprocess.`;
      break;
    case 'unchecked':
      text = `Not checked for drift yet: version ${current} is deployed`;
      detail = `F1 ${testF1} on the test data. No fullprocess tick has checked new data against it yet.`;
      break;
    case 'failing':
      text = 'Failing: the newest tick failed';
      detail = `${formatTime(newest!.started_at)}: ${shorten(newest!.error ?? 'no error recorded', 300)}. Version ${current} is still served.`;
      break;
    case 'retrained':
      text = `Drift found and retrained: version ${newest!.version_before ?? '?'} replaced by version ${newest!.version_after ?? '?'}`;
      detail = `The deployed model's F1 was ${f2(figures?.newF1)} on the new data against ${f2(figures?.deployedF1)} when deployed; the retrained model scores ${f2(newest!.scores.candidate_f1)} on the test data.`;
      break;
    case 'rejected':
      text = `Drift found but the candidate was rejected: version ${newest!.version_before ?? '?'} stays`;
      detail = `The deployed model's F1 was ${f2(figures?.newF1)} on the new data against ${f2(figures?.deployedF1)} when deployed; the retrained candidate scored ${f2(newest!.scores.candidate_f1)} on the test data, not better than ${f2(newest!.scores.deployed_f1)}. Look at the new data.`;
      break;
    default:
      if (newest!.outcome === 'bootstrapped') {
        text = `Healthy: first model deployed as version ${newest!.version_after ?? '?'}`;
        detail = `F1 ${f2(newest!.scores.candidate_f1)} on the test data.`;
      } else {
        text = `Healthy: version ${newest!.version_before ?? current} holds up on the new data`;
        detail = `F1 ${f2(figures?.newF1)} on the new data against ${f2(figures?.deployedF1)} when deployed; no retraining needed.`;
      }
  }
  if (newest && current !== null && newest.version_after !== null && newest.version_after !== current && summary.health !== 'failing')
    detail += ` Version ${current} is current now (switched after that tick, e.g. by a rollback).`;
  return { kind: 'banner', text, detail, tone: summary.tone };
}

/** The newest tick's decision with its figures, as label/value rows. */
function decisionFacts(summary: HealthSummary): [string, string][] {
  const { newest, check, quiet } = summary;
  const facts: [string, string][] = [];
  if (newest && newest !== check && newest.outcome !== 'bootstrapped') {
    facts.push(['Newest tick', `${formatTime(newest.started_at)} · ${outcomeWords(newest)} · new files: ${fileList(newest.new_files)}`]);
    if (newest.outcome === 'failed') facts.push(['Error', shorten(newest.error ?? 'no error recorded', 400)]);
  }
  const figures = check ? checkFigures(check) : null;
  if (check && figures) {
    facts.push([
      check === newest ? 'Newest tick' : 'Newest drift check',
      `${formatTime(check.started_at)} · ${outcomeWords(check)} · new files: ${fileList(check.new_files)}`,
    ]);
    const verdict = figures.drifted ? 'drift' : 'no drift';
    const newF1 = Number.isFinite(figures.newF1)
      ? formatMetric(figures.newF1)
      : `n/a (${check.model_drift?.explanation ?? 'not measured'})`;
    facts.push([
      'Deployed model',
      `F1 ${newF1} on the new data against ${formatMetric(figures.deployedF1)} when deployed (version ${check.version_before ?? '?'}): ${verdict} (${ruleWords(check)})`,
    ]);
    const candidate = check.scores.candidate_f1;
    const against = `against ${formatMetric(check.scores.deployed_f1)} for the deployed model`;
    facts.push([
      'Retrained candidate',
      check.outcome === 'redeployed'
        ? `F1 ${formatMetric(candidate)} on the test data ${against}: deployed`
        : check.outcome === 'rejected'
          ? `F1 ${formatMetric(candidate)} on the test data ${against}: rejected, not better`
          : candidate === null
            ? `none trained (${verdict})`
            : `F1 ${formatMetric(candidate)} on the test data (${outcomeWords(check)})`,
    ]);
    const before = check.version_before;
    const after = check.version_after;
    facts.push([
      'Model version',
      before !== null && after !== null && before !== after ? `${before} → ${after}` : `${after ?? before ?? '?'}, unchanged`,
    ]);
    const data = check.data_drift;
    const drifted = data ? Object.entries(data).filter(([, d]) => d.drifted) : [];
    facts.push([
      'Features that drifted',
      !data
        ? 'not measured in that tick'
        : drifted.length === 0
          ? `none of the ${plural(Object.keys(data).length, 'feature')} checked`
          : drifted
              .slice(0, 8)
              .map(([feature, d]) => `${shorten(featureLabel(feature), 40)} (PSI ${d.psi.toFixed(2)})`)
              .join(', ') + (drifted.length > 8 ? ` and ${drifted.length - 8} more` : ''),
    ]);
  } else if (newest?.outcome === 'bootstrapped') {
    facts.push(['Newest tick', `${formatTime(newest.started_at)} · ${outcomeWords(newest)} · files: ${fileList(newest.new_files)}`]);
    facts.push(['First model', `F1 ${formatMetric(newest.scores.candidate_f1)} on the test data; no drift check yet`]);
  }
  if (quiet.count > 0 && quiet.last)
    facts.push(['Since then', `${plural(quiet.count, 'tick')} found no new data, the newest at ${formatTime(quiet.last.started_at)}`]);
  return facts;
}

/** Call-list table rows from rank `from` (1-based) to `to`. */
function callListTable(inputs: ReportInputs, clients: ScoredClients, from: number, to: number, reasonLines: number): Block {
  const { list } = clients;
  const model = inputs.model.model;
  const rows = list.clients
    .slice(from - 1, to)
    .map((client, i) => [
      String(from + i),
      shorten(client.id, ID_CHARACTERS),
      formatPercent(client.probability),
      reasonPhrases(model, list.explain(client)).join('; '),
    ]);
  const columns: TableColumn[] = [
    { header: '#', align: 'right' },
    { header: shorten(featureLabel(list.idColumn), ID_CHARACTERS) },
    { header: 'risk', align: 'right' },
    { header: 'why: what raises the risk most', wrap: reasonLines },
  ];
  return { kind: 'table', columns, rows };
}

function callListLead(inputs: ReportInputs, clients: ScoredClients): string {
  const { list } = clients;
  const file = path.basename(clients.file);
  const left = `${plural(list.left, 'client')} whose newest row has ${inputs.model.model.target} = 1 ${list.left === 1 ? 'has' : 'have'} left and ${list.left === 1 ? 'is' : 'are'} not listed`;
  const unidentified = list.unidentified > 0 ? `; ${plural(list.unidentified, 'row')} without ${list.idColumn} cannot be called` : '';
  return (
    `${plural(list.clients.length, 'client')} of ${file} ${list.clients.length === 1 ? 'is' : 'are'} still with us (each ${list.idColumn} counted once, by its newest row); ${left}${unidentified}. ` +
    `Riskiest first; risk is the predicted probability of leaving. The whole list is in ${FILE_NAMES.riskScores}.`
  );
}

function pageOne(inputs: ReportInputs, summary: HealthSummary): Block[] {
  const { model, clients } = inputs;
  const version = model.deployment ? `Model version ${model.deployment.version}` : 'Undeployed model';
  const blocks: Block[] = [
    { kind: 'title', text: 'Client attrition risk report', subtitle: `${version} · generated ${formatTime(inputs.generatedAt)}` },
    healthBanner(inputs, summary),
  ];
  const facts = decisionFacts(summary);
  if (facts.length > 0) blocks.push({ kind: 'heading', text: 'What the newest tick decided' }, { kind: 'facts', rows: facts });
  blocks.push({ kind: 'heading', text: 'Whom to call first' });
  if (clients) {
    blocks.push({ kind: 'text', text: callListLead(inputs, clients), size: 8.5, keep: true });
    if (clients.list.clients.length > 0) blocks.push(callListTable(inputs, clients, 1, Math.min(inputs.topClients, PAGE_ONE_CLIENTS), 2));
    const listed = Math.min(inputs.topClients, clients.list.clients.length);
    if (listed > PAGE_ONE_CLIENTS)
      blocks.push({ kind: 'text', text: `Ranks ${PAGE_ONE_CLIENTS + 1} to ${listed} follow on page 2.`, size: 8, color: '#5f6b7a' });
  } else {
    blocks.push({
      kind: 'note',
      text: `No ingested data (${FILE_NAMES.finalData}) could be read, so no client can be ranked; run \`npm run ingestion\`.`,
    });
  }
  if (inputs.notes.length > 0)
    blocks.push({
      kind: 'text',
      text: `${plural(inputs.notes.length, 'record')} ${inputs.notes.length === 1 ? 'was' : 'were'} missing or stale when this report was made; see the notes in the appendix.`,
      size: 8,
      color: '#8a5a00',
    });
  return blocks;
}

// ---------------------------------------------------------------- what calling helps, model quality

function gainBlocks(inputs: ReportInputs, chart: Chart | null): Block[] {
  const gain = gainFigure(inputs);
  const blocks: Block[] = [{ kind: 'heading', text: 'How much calling helps' }];
  if (gain.reachedShare === null) {
    blocks.push({
      kind: 'note',
      text: `Nobody in ${path.basename(inputs.evaluation.file)} left, so the gain of calling cannot be measured.`,
    });
    return blocks;
  }
  const share = Math.round(100 * gain.share);
  blocks.push({
    kind: 'text',
    text:
      `Calling the riskiest ${share}% of clients reaches ${formatPercent(gain.reachedShare)} of those who left ` +
      `(test data: the ${formatCount(gain.called)} riskiest of ${plural(gain.clients, 'client')} include ${formatCount(gain.reached)} of the ${formatCount(gain.leavers)} who left; ` +
      `calling at random would reach about ${share}%, and no list could reach more than ${formatPercent(Math.min(1, gain.called / gain.leavers))}).`,
    size: 10,
    keep: true,
  });
  if (chart) blocks.push({ kind: 'charts', charts: [chart] });
  return blocks;
}

function metricCards(metrics: Metrics): Block {
  const baseRate = metrics.rows === 0 ? null : metrics.positives / metrics.rows;
  return {
    kind: 'metrics',
    items: [
      {
        label: 'Left (base rate)',
        value: formatPercent(baseRate),
        detail: `${formatCount(metrics.positives)} of ${formatCount(metrics.rows)} test clients`,
      },
      { label: 'Precision', value: formatMetric(metrics.precision), detail: 'of the flagged, share who left' },
      { label: 'Recall', value: formatMetric(metrics.recall), detail: 'of who left, share flagged' },
      { label: 'F1', value: formatMetric(metrics.f1), detail: 'balance of the two' },
      {
        label: 'Accuracy',
        value: formatMetric(metrics.accuracy),
        detail: `"nobody leaves": ${formatPercent(baseRate === null ? null : 1 - baseRate)}`,
      },
      { label: 'ROC AUC', value: formatMetric(metrics.roc_auc), detail: 'ranking quality, 0.5 = chance' },
    ],
  };
}

/** Plain sentences on what the metrics mean for the people who call clients. */
function performanceSentence(metrics: Metrics, ingestedRate: number | null, target: string): string {
  const [[, fp], [fn, tp]] = metrics.confusion_matrix;
  const flagged = tp + fp;
  const leavers = tp + fn;
  const baseRate = metrics.rows === 0 ? 0 : leavers / metrics.rows;
  const lift = baseRate > 0 && flagged > 0 ? ` (${(metrics.precision / baseRate).toFixed(1)} times the base rate)` : '';
  const ingested = ingestedRate === null ? '' : ` In the ingested data, ${formatPercent(ingestedRate)} of the rows have ${target} = 1.`;
  return (
    `${formatPercent(baseRate)} of the ${plural(metrics.rows, 'test client')} left (${target} = 1). The model flags a client when its risk is above 50%: ` +
    `of the ${plural(flagged, 'client')} it flags, ${formatCount(tp)} left (precision ${formatPercent(metrics.precision)}${lift}); ` +
    `of the ${formatCount(leavers)} who left, it flags ${formatCount(tp)} (recall ${formatPercent(metrics.recall)}). ` +
    `It misses ${formatCount(fn)} and raises ${plural(fp, 'false alarm')}.${ingested}`
  );
}

function qualityBlocks(inputs: ReportInputs, charts: ReportCharts): Block[] {
  const metrics = inputs.evaluation.metrics;
  const data = inputs.clients?.data;
  let ingestedRate: number | null = null;
  if (data?.target && data.rows > 0) {
    let left = 0;
    for (let i = 0; i < data.rows; i++) left += data.target[i];
    ingestedRate = left / data.rows;
  }
  return [
    { kind: 'heading', text: `Model quality on the test data (${path.basename(inputs.evaluation.file)})` },
    metricCards(metrics),
    { kind: 'text', text: performanceSentence(metrics, ingestedRate, inputs.model.model.target), keep: true },
    { kind: 'charts', charts: [charts.confusion, charts.roc] },
  ];
}

// ---------------------------------------------------------------- history, coefficients, drift

function historyBlocks(chart: Chart | null): Block[] {
  const blocks: Block[] = [{ kind: 'heading', text: 'Model history' }];
  if (!chart) {
    blocks.push({ kind: 'note', text: 'No F1 history yet: there is no run history and no deployed version with a recorded F1.' });
    return blocks;
  }
  blocks.push({
    kind: 'text',
    text: 'Each colour is one model version: its F1 on the test data when deployed (circle), then its F1 on the new data of each drift check while it was deployed (triangle). A drop on new data is what triggers a retrain.',
    size: 8.5,
    keep: true,
  });
  blocks.push({ kind: 'charts', charts: [chart] });
  return blocks;
}

function coefficientBlocks(inputs: ReportInputs): Block[] {
  const current = inputs.model.model;
  const version = inputs.model.deployment?.version;
  const previous = inputs.previous;
  const features = [...current.features];
  for (const feature of previous?.model.features ?? []) if (!features.includes(feature)) features.push(feature);
  const coefficient = (model: ModelFile, feature: string): number | null => {
    const f = model.features.indexOf(feature);
    return f < 0 ? null : model.coefficients[f];
  };
  const sorted = features.sort((a, b) => Math.abs(coefficient(current, b) ?? 0) - Math.abs(coefficient(current, a) ?? 0));
  const currentHeader = version === undefined ? 'this model' : `version ${version} (current)`;
  const columns: TableColumn[] = [
    { header: 'feature' },
    ...(previous ? [{ header: `version ${previous.version}`, align: 'right' as const }] : []),
    { header: currentHeader, align: 'right' },
    { header: 'what a higher value does now' },
  ];
  const effect = (value: number | null): string =>
    value === null
      ? 'not used'
      : Math.abs(Number(value.toFixed(2))) < 0.05
        ? 'little either way'
        : value > 0
          ? 'raises the risk'
          : 'lowers the risk';
  const cell = (value: number | null): string => (value === null ? '–' : formatSigned(value));
  const rows = sorted.map((feature) => [
    shorten(featureLabel(feature), 60),
    ...(previous ? [cell(coefficient(previous.model, feature))] : []),
    cell(coefficient(current, feature)),
    effect(coefficient(current, feature)),
  ]);
  rows.push(['baseline (intercept)', ...(previous ? [cell(previous.model.intercept)] : []), cell(current.intercept), '']);
  const scale = current.standardization
    ? 'Log-odds per standard deviation of each version’s training data: +1 means a client one standard deviation above the training mean has e ≈ 2.7 times the odds of leaving.'
    : 'Log-odds per unit of each feature (the model has no standardization).';
  let change = '';
  if (previous) {
    let biggest: { feature: string; from: number; to: number } | null = null;
    for (const feature of features) {
      const from = coefficient(previous.model, feature);
      const to = coefficient(current, feature);
      if (from === null || to === null) continue;
      if (!biggest || Math.abs(to - from) > Math.abs(biggest.to - biggest.from)) biggest = { feature, from, to };
    }
    if (biggest) {
      const flipped = Math.sign(biggest.from) !== Math.sign(biggest.to) && Math.abs(biggest.from) >= 0.05 && Math.abs(biggest.to) >= 0.05;
      change = ` The largest change since version ${previous.version}: ${featureLabel(biggest.feature)}, from ${formatSigned(biggest.from)} to ${formatSigned(biggest.to)}${flipped ? ` (its effect reversed: a higher value now ${effect(biggest.to)})` : ''}.`;
    }
  } else {
    change = ' There is no earlier version to compare with.';
  }
  return [
    { kind: 'heading', text: 'What drives the risk' },
    { kind: 'text', text: scale + change, size: 8.5, keep: true },
    { kind: 'table', columns, rows },
  ];
}

function driftBlocks(inputs: ReportInputs, charts: ReportCharts): Block[] {
  const blocks: Block[] = [{ kind: 'heading', text: 'Data drift per feature' }];
  const newest = newestDataDrift(inputs.runs);
  if (!newest) {
    const why =
      inputs.runs.length === 0
        ? 'there is no run history yet (fullprocess has not run)'
        : 'no tick has checked new data against a deployed model yet (the first tick bootstraps the model; the next tick with new files measures drift)';
    blocks.push({ kind: 'note', text: `Per-feature drift is not available: ${why}.` });
    return blocks;
  }
  const threshold = inputs.drift.psi_threshold;
  const features = driftByPsi(newest.drift);
  const drifted = features.filter(([, d]) => d.drifted).length;
  blocks.push({
    kind: 'text',
    text:
      `The training data of version ${newest.run.version_before ?? '?'} against the new data of the tick at ${formatTime(newest.run.started_at)} (${outcomeWords(newest.run)}): ` +
      `${drifted} of ${plural(features.length, 'feature')} drifted. Each chart shows the share of rows in each range of values (cut at the training deciles), ` +
      `${DRIFT_COLORS.training} for the training data and ${DRIFT_COLORS.newData} for the new data; the largest shift first. ` +
      `PSI (population stability index) sums how far the shares moved: below 0.1 is little change, from ${threshold} a shift; ` +
      `a feature counts as drifted when its PSI is at least ${threshold} and the KS test's p-value is below ${inputs.drift.ks_alpha}.`,
    size: 8.5,
    keep: true,
  });
  const chartOf = new Map(charts.drift.map((d) => [d.feature, d.chart]));
  const items = features.flatMap(([feature, drift]) => {
    const chart = chartOf.get(feature);
    return chart ? [{ chart, caption: driftSentence(shorten(featureLabel(feature), 60), drift, threshold) }] : [];
  });
  if (items.length > 0) blocks.push({ kind: 'chartGrid', columns: 3, items });
  return blocks;
}

// ---------------------------------------------------------------- data

const MISSING_DIAGNOSTICS = `No diagnostics record (${FILE_NAMES.diagnostics}) could be read; run \`npm run diagnostics\` to fill this section.`;

function dataBlocks(diagnostics: DiagnosticsRecord | null, target: string): Block[] {
  if (!diagnostics)
    return [
      { kind: 'heading', text: 'Ingested data' },
      { kind: 'note', text: MISSING_DIAGNOSTICS },
    ];
  const stats = diagnostics.summary_statistics;
  const missing = diagnostics.missing_data;
  const targetStats = stats.columns[target];
  const rate = targetStats ? ` ${formatPercent(targetStats.mean)} of the rows have ${target} = 1 (left).` : '';
  return [
    { kind: 'heading', text: 'Ingested data: summary statistics' },
    {
      kind: 'table',
      caption: `${path.basename(stats.data_file)}, ${plural(stats.rows, 'row')}; standard deviation with ddof = 1, as pandas.${rate}`,
      columns: [
        { header: 'column' },
        ...['count', 'mean', 'median', 'std', 'min', 'max'].map((header): TableColumn => ({ header, align: 'right' })),
      ],
      rows: Object.entries(stats.columns).map(([name, s]) =>
        name === target
          ? [shorten(name, 60), formatCount(s.count), `${formatPercent(s.mean)} = 1`, '–', '–', '–', '–']
          : [
              shorten(name, 60),
              formatCount(s.count),
              formatStat(s.mean),
              formatStat(s.median),
              formatStat(s.std),
              formatStat(s.min),
              formatStat(s.max),
            ],
      ),
    },
    { kind: 'heading', text: 'Missing data' },
    {
      kind: 'table',
      caption: `Empty cells per column of ${path.basename(missing.data_file)} (${plural(missing.rows, 'row')}); missing features are imputed with the training median.`,
      columns: [{ header: 'column' }, { header: 'missing cells', align: 'right' }, { header: 'missing %', align: 'right' }],
      rows: Object.entries(missing.columns).map(([name, m]) => [shorten(name, 60), formatCount(m.missing), `${m.percent.toFixed(2)}%`]),
    },
  ];
}

// ---------------------------------------------------------------- appendix

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
      ? formatTime(deployment.record.deployed_at) + (deployment.record.origin ? ` by ${shorten(deployment.record.origin, 120)}` : '')
      : 'not deployed',
  ]);
  // An undeployed model's files are known only when the ingestion record is of the data it was trained on.
  const files = deployment ? deployment.record.data.files : ingestion?.finaldata_sha256 === training.data_sha256 ? ingestion.files : [];
  if (files.length > 0) {
    const list = files
      .slice(0, 20)
      .map((f) => `${shorten(f.name, 60)} (${plural(f.rows_read, 'row')})`)
      .join(', ');
    facts.push([
      'Training data files',
      `${list}${files.length > 20 ? ` and ${files.length - 20} more` : ''}; ${plural(training.rows, 'row')} after dropping duplicates`,
    ]);
  } else {
    facts.push([
      'Training data files',
      `not recorded (${path.basename(training.data_file)}, SHA-256 ${training.data_sha256.slice(0, 12)}…)`,
    ]);
  }
  facts.push([
    'Test data',
    `${path.basename(evaluation.file)}: ${plural(evaluation.metrics.rows, 'row')}, ${formatCount(evaluation.metrics.positives)} with ${model.target} = 1; log-loss ${formatMetric(evaluation.metrics.log_loss)}`,
  ]);
  facts.push([
    'Scores',
    score
      ? `${score.file}, scored ${formatTime(score.record.scored_at)}`
      : 'computed now on the test data (no scoring record matches this model and test data)',
  ]);
  if (clients) {
    const when = ingestion ? `, ingested ${formatTime(ingestion.ingested_at)}` : '';
    facts.push([
      'Newest ingested data',
      `${path.basename(clients.file)}: ${plural(clients.list.rows, 'row')}, ${plural(clients.list.ids, 'distinct id')}${when}; risk list in ${FILE_NAMES.riskScores}`,
    ]);
  }
  facts.push([
    'Diagnostics',
    diagnostics ? `${FILE_NAMES.diagnostics}, generated ${formatTime(diagnostics.generated_at)}` : 'not available',
  ]);
  facts.push(['Report generated', formatTime(inputs.generatedAt)]);
  return facts;
}

function tickRecordFacts(run: RunRecord): [string, string][] {
  const facts: [string, string][] = [
    ['Run', `${run.run_id}, ${formatTime(run.started_at)} to ${formatTime(run.finished_at)} (${run.outcome})`],
    ['Decision', shorten(run.decision, 300)],
  ];
  if (run.model_drift) facts.push(['Drift rule', `${run.model_drift.rule}: ${shorten(run.model_drift.explanation, 300)}`]);
  const steps = Object.entries(run.durations ?? {}).map(([step, ms]) => `${step} ${(ms / 1000).toFixed(3)} s`);
  if (steps.length > 0) facts.push(['Steps', steps.join(', ')]);
  if (run.error) facts.push(['Error', shorten(run.error, 600)]);
  for (const note of run.notes.slice(0, 5)) facts.push(['Note', shorten(note, 300)]);
  return facts;
}

function timingBlocks(inputs: ReportInputs): Block[] {
  const rows: string[][] = [];
  const timings = inputs.diagnostics?.timings;
  if (timings?.status === 'ok') {
    const by = `diagnostics timing run (${plural(timings.rows, 'row')}), ${formatTime(inputs.diagnostics!.generated_at)}`;
    rows.push(['ingestion', timings.ingestion_seconds.toFixed(3), by]);
    rows.push(['training', timings.training_seconds.toFixed(3), by]);
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
  const status = (p: (typeof report.packages)[number]): string =>
    report.status !== 'ok' ? 'unknown' : p.current === null ? 'missing' : p.outdated ? 'outdated' : 'up to date';
  const attention = report.packages.filter((p) => status(p) !== 'up to date');
  const upToDate = report.packages.filter((p) => status(p) === 'up to date');
  const checked =
    report.status === 'ok'
      ? `Checked ${formatTime(report.checked_at)}: ${plural(report.packages.length, 'direct dependency', 'direct dependencies')}, ${formatCount(attention.length)} outdated or missing.`
      : 'Installed versions only.';
  const upToDateText = upToDate.length > 0 ? ` Up to date: ${upToDate.map((p) => `${p.name} ${p.current}`).join(', ')}.` : '';
  blocks.push({ kind: 'text', text: checked + upToDateText, size: 8, keep: attention.length > 0 });
  if (attention.length > 0)
    blocks.push({
      kind: 'table',
      columns: [
        { header: 'package' },
        { header: 'type' },
        { header: 'installed', align: 'right' },
        { header: 'wanted', align: 'right' },
        { header: 'latest', align: 'right' },
        { header: 'status', align: 'center' },
      ],
      rows: attention.map((p) => [
        p.name,
        p.type === 'devDependencies' ? 'dev' : 'runtime',
        p.current ?? 'not installed',
        p.wanted ?? '–',
        p.latest ?? '–',
        status(p),
      ]),
    });
  return blocks;
}

function parameterBlocks(model: ModelFile): Block[] {
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
          shorten(feature, 60),
          model.coefficients[f].toFixed(6),
          std ? formatStat(std.mean[f]) : '–',
          std ? formatStat(std.std[f]) : '–',
          formatStat(model.imputation[feature]),
        ]),
      ],
    },
  ];
}

function appendixBlocks(inputs: ReportInputs, summary: HealthSummary): Block[] {
  const blocks: Block[] = [
    { kind: 'pageBreak' },
    { kind: 'heading', text: 'Appendix: engineering detail' },
    { kind: 'facts', rows: provenanceFacts(inputs) },
  ];
  const newest = inputs.runs.at(-1);
  if (newest) {
    blocks.push({ kind: 'heading', text: 'Newest tick as recorded' }, { kind: 'facts', rows: tickRecordFacts(newest) });
    if (summary.check && summary.check !== newest)
      blocks.push({ kind: 'heading', text: 'Newest drift check as recorded' }, { kind: 'facts', rows: tickRecordFacts(summary.check) });
  }
  if (inputs.notes.length > 0) {
    blocks.push({ kind: 'heading', text: 'Notes: what is missing from this report' });
    for (const note of inputs.notes) blocks.push({ kind: 'note', text: shorten(note, 600) });
  }
  blocks.push(...parameterBlocks(inputs.model.model));
  blocks.push(...timingBlocks(inputs));
  blocks.push(...dependencyBlocks(inputs.diagnostics));
  return blocks;
}

// ---------------------------------------------------------------- the document

/** Assembles the whole report from the inputs and the rendered charts. */
export function buildReportDocument(inputs: ReportInputs, charts: ReportCharts): ReportDocument {
  const { model, clients } = inputs;
  const version = model.deployment ? `model version ${model.deployment.version}` : 'undeployed model';
  const summary = summarizeHealth(inputs.runs, model.deployment !== null);
  const blocks: Block[] = [...pageOne(inputs, summary), { kind: 'pageBreak' }];
  const listed = clients ? Math.min(inputs.topClients, clients.list.clients.length) : 0;
  if (clients && listed > PAGE_ONE_CLIENTS) {
    blocks.push({ kind: 'heading', text: `Call list, continued: ranks ${PAGE_ONE_CLIENTS + 1} to ${listed}` });
    blocks.push(callListTable(inputs, clients, PAGE_ONE_CLIENTS + 1, listed, 3));
  }
  blocks.push(...gainBlocks(inputs, charts.gain));
  blocks.push(...qualityBlocks(inputs, charts));
  blocks.push(...historyBlocks(charts.f1));
  blocks.push(...coefficientBlocks(inputs));
  blocks.push(...driftBlocks(inputs, charts));
  blocks.push(...dataBlocks(inputs.diagnostics, model.model.target));
  blocks.push(...appendixBlocks(inputs, summary));
  return {
    title: 'Client attrition risk report',
    subject: `Attrition model report, ${version}`,
    footer: `Client attrition risk report · ${version} · generated ${formatTime(inputs.generatedAt)}`,
    createdAt: inputs.generatedAt,
    blocks,
  };
}

/** The health verdict the report opens with (for the stage result). */
export function reportHealth(inputs: Pick<ReportInputs, 'runs' | 'model'>): HealthSummary['health'] {
  return summarizeHealth(inputs.runs, inputs.model.deployment !== null).health;
}
