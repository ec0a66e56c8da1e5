/**
 * The report's middle pages: how much calling helps (gain), model quality on
 * the test data, the F1 history, coefficients of this and the previous
 * version, per-feature drift, and the ingested data's statistics. Pure.
 */
import path from 'node:path';
import type { Metrics } from '../model/metrics.js';
import type { ModelFile } from '../model/model-file.js';
import type { DiagnosticsRecord } from '../store/records.js';
import {
  featureLabel,
  formatCount,
  formatMetric,
  formatPercent,
  formatSigned,
  formatStat,
  formatTime,
  outcomeWords,
  plural,
} from '../wording.js';
import { DRIFT_COLORS } from './charts.js';
import { driftSentence, levelName } from './figures.js';
import { levelBaseline } from './risk-list.js';
import { MISSING_DIAGNOSTICS, type ReportCharts, type ReportInputs, driftByPsi, gainFigure, newestDataDrift } from './inputs.js';
import type { Block, TableColumn } from './pdf.js';
import type { Chart } from './render.js';
import { shorten } from './text-fit.js';

export function gainBlocks(inputs: ReportInputs, chart: Chart | null): Block[] {
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
function performanceSentence(metrics: Metrics, ingestedRate: number | null, target: string, positive: string): string {
  const [[, fp], [fn, tp]] = metrics.confusion_matrix;
  const flagged = tp + fp;
  const leavers = tp + fn;
  const baseRate = metrics.rows === 0 ? 0 : leavers / metrics.rows;
  const lift = baseRate > 0 && flagged > 0 ? ` (${(metrics.precision / baseRate).toFixed(1)} times the base rate)` : '';
  const ingested =
    ingestedRate === null ? '' : ` In the ingested data, ${formatPercent(ingestedRate)} of the rows have ${target} = ${positive}.`;
  return (
    `${formatPercent(baseRate)} of the ${plural(metrics.rows, 'test client')} left (${target} = ${positive}). The model flags a client when its risk is above 50%: ` +
    `of the ${plural(flagged, 'client')} it flags, ${formatCount(tp)} left (precision ${formatPercent(metrics.precision)}${lift}); ` +
    `of the ${formatCount(leavers)} who left, it flags ${formatCount(tp)} (recall ${formatPercent(metrics.recall)}). ` +
    `It misses ${formatCount(fn)} and raises ${plural(fp, 'false alarm')}.${ingested}`
  );
}

export function qualityBlocks(inputs: ReportInputs, charts: ReportCharts): Block[] {
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
    { kind: 'text', text: performanceSentence(metrics, ingestedRate, inputs.model.model.target, inputs.targetLabels[1]), keep: true },
    { kind: 'charts', charts: [charts.confusion, charts.roc] },
  ];
}

export function historyBlocks(chart: Chart | null): Block[] {
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

export function coefficientBlocks(inputs: ReportInputs): Block[] {
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
    ...levelBlocks(current),
  ];
}

/** Levels shown per categorical feature in "What drives the risk" (a state column has 50; all are in the appendix). */
export const LEVELS_SHOWN = 6;

/**
 * The levels of each categorical feature against a typical client of the
 * training data (its reason rule): the LEVELS_SHOWN levels that move the
 * risk most, then the others in one row with their range.
 */
function levelBlocks(model: ModelFile): Block[] {
  if (model.categorical.length === 0) return [];
  const rows: string[][] = [];
  for (const entry of model.categorical) {
    const baseline = levelBaseline(entry);
    const total = entry.counts.reduce((a, b) => a + b, 0);
    const label = shorten(featureLabel(entry.feature), 30);
    const ranked = entry.levels
      .map((level, k) => ({ level, share: entry.counts[k] / total, relative: entry.coefficients[k] - baseline }))
      .sort((a, b) => Math.abs(b.relative) - Math.abs(a.relative));
    const shown = ranked.length > LEVELS_SHOWN + 1 ? ranked.slice(0, LEVELS_SHOWN) : ranked;
    for (const { level, share, relative } of shown) {
      rows.push([`${label}: ${shorten(levelName(level), 40)}`, formatPercent(share), formatSigned(relative), levelEffect(relative)]);
    }
    const rest = ranked.slice(shown.length);
    if (rest.length > 0) {
      const low = Math.min(...rest.map((r) => r.relative));
      const high = Math.max(...rest.map((r) => r.relative));
      const share = rest.reduce((sum, r) => sum + r.share, 0);
      rows.push([
        `${label}: ${rest.length} other levels`,
        formatPercent(share),
        `${formatSigned(low)} to ${formatSigned(high)}`,
        'smaller effects',
      ]);
    }
  }
  return [
    {
      kind: 'text',
      text:
        'Categorical features: each level against a typical client of the training data (the training-share-weighted mean of that feature’s level coefficients), ' +
        'in log-odds; a level not seen in training counts as 0. The levels that move the risk most are shown; every coefficient is in the appendix.',
      size: 8.5,
      keep: true,
    },
    {
      kind: 'table',
      columns: [
        { header: 'feature: level' },
        { header: 'training share', align: 'right' },
        { header: 'vs typical', align: 'right' },
        { header: 'what this level does' },
      ],
      rows,
    },
  ];
}

function levelEffect(relative: number): string {
  if (Math.abs(Number(relative.toFixed(2))) < 0.05) return 'little either way';
  return relative > 0 ? 'raises the risk' : 'lowers the risk';
}

export function driftBlocks(inputs: ReportInputs, charts: ReportCharts): Block[] {
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
      `a feature counts as drifted when its PSI is at least ${threshold} and the KS test's p-value is below ${inputs.drift.ks_alpha}.` +
      (features.some(([, d]) => d.kind === 'categorical')
        ? ' For a categorical feature the bins are its training levels plus one for levels not seen in training, and the test is a chi-square test of the level counts.'
        : ''),
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

export function dataBlocks(diagnostics: DiagnosticsRecord | null, target: string, positive = '1'): Block[] {
  if (!diagnostics)
    return [
      { kind: 'heading', text: 'Ingested data' },
      { kind: 'note', text: MISSING_DIAGNOSTICS },
    ];
  const stats = diagnostics.summary_statistics;
  const missing = diagnostics.missing_data;
  const categorical = Object.entries(stats.categorical ?? {});
  const levelTable: Block[] =
    categorical.length === 0
      ? []
      : [
          {
            kind: 'table',
            caption:
              'Categorical columns: filled cells, distinct levels, the most frequent levels (share of all rows) and empty cells (a level of their own).',
            columns: [
              { header: 'column' },
              { header: 'count', align: 'right' },
              { header: 'levels', align: 'right' },
              { header: 'most frequent' },
              { header: 'missing %', align: 'right' },
            ],
            rows: categorical.map(([name, s]) => [
              shorten(name, 40),
              formatCount(s.count),
              formatCount(s.levels),
              shorten(
                s.top
                  .slice(0, 3)
                  .map((t) => `${shorten(t.level, 16)} ${formatPercent(t.share)}`)
                  .join(', '),
                70,
              ),
              `${s.missing_percent.toFixed(2)}%`,
            ]),
          },
        ];
  const targetStats = stats.columns[target];
  const rate = targetStats ? ` ${formatPercent(targetStats.mean)} of the rows have ${target} = ${positive} (left).` : '';
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
          ? [shorten(name, 60), formatCount(s.count), `${formatPercent(s.mean)} = ${shorten(positive, 20)}`, '–', '–', '–', '–']
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
    ...levelTable,
    { kind: 'heading', text: 'Missing data' },
    {
      kind: 'table',
      caption: `Empty cells per column of ${path.basename(missing.data_file)} (${plural(missing.rows, 'row')}); missing features are imputed with the training median.`,
      columns: [{ header: 'column' }, { header: 'missing cells', align: 'right' }, { header: 'missing %', align: 'right' }],
      rows: Object.entries(missing.columns).map(([name, m]) => [shorten(name, 60), formatCount(m.missing), `${m.percent.toFixed(2)}%`]),
    },
  ];
}
