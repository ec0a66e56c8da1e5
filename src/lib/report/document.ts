/**
 * The report's content, built from the records the other stages wrote: the
 * chart specs, and the blocks of every page (page-one.ts, model-sections.ts,
 * appendix.ts) assembled as a ReportDocument for pdf.ts.
 * Read first by a client manager (page 1: what happened and whom to call;
 * then how much calling helps, how good and how stable the model is), then by
 * an engineer (the appendix). Names come from the schema: the id column, the
 * target and feature labels derived from the column names.
 * Pure: everything arrives as arguments, nothing is read or written here.
 */
import path from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { featureLabel, formatCount, formatMetric, formatPValue, formatTime, plural } from '../wording.js';
import { appendixBlocks } from './appendix.js';
import { classLabels, confusionMatrixSpec, driftDistributionSpec, f1HistorySpec, gainChartSpec, rocCurveSpec } from './charts.js';
import { driftBars, f1History, gainCurve, thinCurve } from './figures.js';
import { driftPValue } from '../store/run-history.js';
import { type HealthSummary, summarizeHealth } from './health.js';
import { PAGE_ONE_CLIENTS, type ReportCharts, type ReportInputs, driftByPsi, gainFigure, modelLabel, newestDataDrift } from './inputs.js';
import { coefficientBlocks, dataBlocks, driftBlocks, gainBlocks, historyBlocks, qualityBlocks } from './model-sections.js';
import { callListTable, pageOne } from './page-one.js';
import type { Block, ReportDocument } from './pdf.js';
import { shorten } from './text-fit.js';

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
  const confusion = confusionMatrixSpec(evaluation.metrics.confusion_matrix, classLabels(model.model.target, inputs.targetLabels), [
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
          `PSI ${Number.isFinite(d.psi) ? d.psi.toFixed(2) : 'n/a'} · ${d.kind === 'categorical' ? 'chi-square' : 'KS'} p ${formatPValue(driftPValue(d))} · ${d.drifted ? 'drifted' : 'not drifted'}`,
        ]),
      }))
    : [];
  return { confusion, roc, gain: gainSpec, f1, drift };
}

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
  blocks.push(...dataBlocks(inputs.diagnostics, model.model.target, inputs.targetLabels[1]));
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
