/**
 * The report's appendix, for the engineer: provenance, the newest tick as
 * recorded, notes on what is missing, model parameters, stage timings and
 * dependency status. Pure.
 */
import path from 'node:path';
import { FILE_NAMES } from '../layout.js';
import type { ModelFile } from '../model/model-file.js';
import type { DiagnosticsRecord } from '../store/records.js';
import type { RunRecord } from '../store/run-history.js';
import { formatCount, formatMetric, formatStat, formatTime, plural } from '../wording.js';
import type { HealthSummary } from './health.js';
import { MISSING_DIAGNOSTICS, type ReportInputs } from './inputs.js';
import type { Block } from './pdf.js';
import { shorten } from './text-fit.js';

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
    `${path.basename(evaluation.file)}: ${plural(evaluation.metrics.rows, 'row')}, ${formatCount(evaluation.metrics.positives)} with ${model.target} = ${inputs.targetLabels[1]}; log-loss ${formatMetric(evaluation.metrics.log_loss)}`,
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
        // Every level's coefficient (one-hot, not standardized, no imputation: an empty cell is the level "(empty)").
        ...model.categorical.flatMap((entry) =>
          entry.levels.map((level, k) => [
            `${shorten(entry.feature, 30)}: ${shorten(level === '' ? '(empty)' : level, 40)}`,
            entry.coefficients[k].toFixed(6),
            '–',
            '–',
            '–',
          ]),
        ),
      ],
    },
  ];
}

export function appendixBlocks(inputs: ReportInputs, summary: HealthSummary): Block[] {
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
