/**
 * Vega-Lite specifications of the report's charts, built from plain data.
 * Pure: no I/O and no rendering (see render.ts). Every chart is sized as a
 * whole (`autosize: fit`, padding included), so the PDF layout knows its box
 * and long labels shrink the plot instead of being clipped.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { ConfusionMatrix } from '../metrics.js';
import { FONT_FAMILY } from './fonts.js';

/** Labels of the two classes, as axis and legend labels. */
export const CLASS_LABELS = ['0 stayed', '1 exited'] as const;

const COLORS = { stayed: '#4c78a8', exited: '#e45756', unknown: '#9d9d9d', candidate: '#f58518', deployed: '#4c78a8' };

/** Shared look: the embedded font everywhere, white background, legends on top (never clipped at the side). */
function baseSpec(width: number, height: number) {
  return {
    width,
    height,
    autosize: { type: 'fit' as const, contains: 'padding' as const },
    padding: { left: 6, right: 14, top: 6, bottom: 10 },
    background: 'white',
    config: {
      font: FONT_FAMILY,
      view: { stroke: '#ddd' },
      axis: { labelFontSize: 9, titleFontSize: 10, titlePadding: 8, labelPadding: 4, labelOverlap: true, labelFlush: false },
      legend: { orient: 'top', labelFontSize: 9, titleFontSize: 9, symbolSize: 80, padding: 2 },
      title: { fontSize: 12, subtitleFontSize: 9, subtitleColor: '#555', anchor: 'start', offset: 10, subtitlePadding: 3 },
    },
  };
}

/**
 * Heatmap of `[[TN, FP], [FN, TP]]`: actual class down, predicted class across,
 * the count (large) and the cell's name and share of all rows (small) in each cell.
 */
export function confusionMatrixSpec(matrix: ConfusionMatrix, subtitle: string[], size = { width: 270, height: 290 }): TopLevelSpec {
  const [[tn, fp], [fn, tp]] = matrix;
  const total = tn + fp + fn + tp;
  const max = Math.max(tn, fp, fn, tp);
  const cell = (actual: number, predicted: number, count: number, name: string) => ({
    actual: CLASS_LABELS[actual],
    predicted: CLASS_LABELS[predicted],
    count,
    label: `${name} · ${total === 0 ? '0.0' : ((100 * count) / total).toFixed(1)}%`,
  });
  const values = [cell(0, 0, tn, 'TN'), cell(0, 1, fp, 'FP'), cell(1, 0, fn, 'FN'), cell(1, 1, tp, 'TP')];
  // Dark cells get white text; the cut sits where the blues scheme turns dark.
  const textColor = { condition: { test: `datum.count > ${0.55 * max}`, value: 'white' }, value: 'black' };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...baseSpec(size.width, size.height),
    title: { text: 'Confusion matrix', subtitle },
    data: { values },
    encoding: {
      x: {
        field: 'predicted',
        type: 'nominal',
        sort: [...CLASS_LABELS],
        title: 'Predicted',
        axis: { labelAngle: 0, orient: 'bottom', ticks: false, domain: false },
      },
      y: {
        field: 'actual',
        type: 'nominal',
        sort: [...CLASS_LABELS],
        title: 'Actual',
        axis: { labelAngle: -90, labelAlign: 'center', labelBaseline: 'bottom', ticks: false, domain: false },
      },
    },
    layer: [
      {
        mark: { type: 'rect', stroke: 'white', strokeWidth: 2 },
        encoding: {
          color: { field: 'count', type: 'quantitative', scale: { scheme: 'blues', domain: [0, Math.max(1, max)] }, legend: null },
        },
      },
      {
        mark: { type: 'text', fontSize: 24, fontWeight: 'bold', dy: -8 },
        encoding: { text: { field: 'count', type: 'quantitative', format: 'd' }, color: textColor },
      },
      { mark: { type: 'text', fontSize: 9, dy: 16 }, encoding: { text: { field: 'label', type: 'nominal' }, color: textColor } },
    ],
  } as TopLevelSpec;
}

/** ROC curve with the chance diagonal; `points` in threshold order (from rocCurve). */
export function rocCurveSpec(points: { fpr: number; tpr: number }[], subtitle: string[], size = { width: 250, height: 290 }): TopLevelSpec {
  const values = points.map((p, order) => ({ fpr: p.fpr, tpr: p.tpr, order }));
  const unit = { type: 'quantitative' as const, scale: { domain: [0, 1], nice: false }, axis: { format: '.1f', tickCount: 5 } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...baseSpec(size.width, size.height),
    title: { text: 'ROC curve', subtitle },
    layer: [
      {
        data: {
          values: [
            { fpr: 0, tpr: 0 },
            { fpr: 1, tpr: 1 },
          ],
        },
        mark: { type: 'line', color: '#999', strokeDash: [4, 4], strokeWidth: 1 },
        encoding: { x: { field: 'fpr', ...unit, title: 'False positive rate' }, y: { field: 'tpr', ...unit, title: 'True positive rate' } },
      },
      {
        data: { values },
        // Area marks sort by x (stable, so ties keep the curve's order); no stacking.
        mark: { type: 'area', color: COLORS.deployed, opacity: 0.12 },
        encoding: { x: { field: 'fpr', ...unit }, y: { field: 'tpr', ...unit, stack: null } },
      },
      {
        data: { values },
        mark: { type: 'line', color: COLORS.deployed, strokeWidth: 2 },
        encoding: { x: { field: 'fpr', ...unit }, y: { field: 'tpr', ...unit }, order: { field: 'order', type: 'quantitative' } },
      },
    ],
  } as TopLevelSpec;
}

/** One bar segment of the risk histogram. */
export interface RiskBin {
  start: number;
  end: number;
  outcome: string;
  count: number;
}

/** Stacked histogram of predicted risk by recorded outcome, with the 0.5 decision threshold. */
export function riskDistributionSpec(bins: RiskBin[], subtitle: string[], size = { width: 495, height: 230 }): TopLevelSpec {
  const outcomes = [...new Set(bins.map((b) => b.outcome))];
  const palette = outcomes.map((o) => (o === CLASS_LABELS[0] ? COLORS.stayed : o === CLASS_LABELS[1] ? COLORS.exited : COLORS.unknown));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...baseSpec(size.width, size.height),
    title: { text: 'Distribution of predicted attrition risk', subtitle },
    layer: [
      {
        data: { values: bins },
        mark: { type: 'bar', stroke: 'white', strokeWidth: 0.5 },
        encoding: {
          x: {
            field: 'start',
            type: 'quantitative',
            bin: { binned: true, step: bins.length ? bins[0].end - bins[0].start : 0.05 },
            scale: { domain: [0, 1] },
            axis: { format: '.0%', tickCount: 10 },
            title: 'Predicted probability of exiting',
          },
          x2: { field: 'end' },
          y: { field: 'count', type: 'quantitative', stack: 'zero', title: 'Clients', axis: { format: 'd', tickMinStep: 1 } },
          color: { field: 'outcome', type: 'nominal', scale: { domain: outcomes, range: palette }, title: 'Recorded outcome' },
        },
      },
      {
        data: { values: [{ threshold: 0.5, label: 'decision threshold 0.5' }] },
        layer: [
          { mark: { type: 'rule', color: '#333', strokeDash: [4, 3] }, encoding: { x: { field: 'threshold', type: 'quantitative' } } },
          {
            mark: { type: 'text', align: 'left', baseline: 'top', dx: 4, y: 2, fontSize: 9, color: '#333' },
            encoding: { x: { field: 'threshold', type: 'quantitative' }, text: { field: 'label', type: 'nominal' } },
          },
        ],
      },
    ],
  } as TopLevelSpec;
}

/** Names of the F1 history series (legend labels). */
export const F1_SERIES = { deployed: 'deployed model', candidate: 'retrained candidate', versions: 'deployed version' } as const;

/** One point of the F1 history chart. */
export interface F1Point {
  /** ISO time of the run or deployment. */
  time: string;
  series: string;
  f1: number;
  /** Short label drawn next to the point (e.g. "v3"), or empty. */
  label: string;
}

/** F1 over time, one line per series (deployed model vs retrained candidate, or deployed versions). */
export function f1HistorySpec(points: F1Point[], subtitle: string[], size = { width: 495, height: 230 }): TopLevelSpec {
  const order: string[] = [F1_SERIES.deployed, F1_SERIES.versions, F1_SERIES.candidate];
  const series = [...new Set(points.map((p) => p.series))].sort((a, b) => order.indexOf(a) - order.indexOf(b));
  const palette = series.map((name) => (name === F1_SERIES.candidate ? COLORS.candidate : COLORS.deployed));
  const times = points.map((p) => Date.parse(p.time));
  let lo = Math.min(...times);
  let hi = Math.max(...times);
  // A single instant would collapse the time axis; widen it so the point sits in the middle.
  const pad = Math.max((hi - lo) * 0.05, hi === lo ? 12 * 3600_000 : 0);
  lo -= pad;
  hi += pad;
  const f1s = points.map((p) => p.f1);
  const yLo = Math.max(0, Math.floor((Math.min(...f1s) - 0.05) * 10) / 10);
  const yHi = Math.min(1, Math.ceil((Math.max(...f1s) + 0.05) * 10) / 10);
  // Labels name the day when the history spans days, the hour within one day.
  // Label precision follows the span, so ticks a few seconds apart do not repeat the same minute.
  const span = hi - lo;
  const format = span > 3 * 86400_000 ? '%Y-%m-%d' : span > 2 * 3600_000 ? '%b %d %H:%M' : '%H:%M:%S';
  const x = {
    field: 'time',
    type: 'temporal' as const,
    scale: { type: 'utc' as const, domain: [lo, hi] },
    title: 'Time (UTC)',
    axis: { labelAngle: 0, tickCount: 6, format },
  };
  const y = {
    field: 'f1',
    type: 'quantitative' as const,
    scale: { domain: [yLo, yHi], zero: false },
    title: 'F1 on test data',
    axis: { format: '.2f' },
  };
  const color = { field: 'series', type: 'nominal' as const, scale: { domain: series, range: palette }, title: null };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...baseSpec(size.width, size.height),
    title: { text: 'F1 across runs and deployments', subtitle },
    data: { values: points },
    layer: [
      { mark: { type: 'line', strokeWidth: 1.5 }, encoding: { x, y, color } },
      { mark: { type: 'point', filled: true, size: 40, opacity: 1 }, encoding: { x, y, color } },
      { mark: { type: 'text', dy: -9, fontSize: 8, color: '#333' }, encoding: { x, y, text: { field: 'label', type: 'nominal' } } },
    ],
  } as TopLevelSpec;
}
