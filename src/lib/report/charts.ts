/**
 * Vega-Lite specifications of the report's charts, built from plain data.
 * Pure: no I/O and no rendering (see render.ts). Every chart is sized as a
 * whole (`autosize: fit`, padding included), so the PDF layout knows its box
 * and long labels shrink the plot instead of being clipped.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { ConfusionMatrix } from '../model/metrics.js';
import { FONT_FAMILY } from './fonts.js';

const COLORS = { training: '#4c78a8', newData: '#e45756', model: '#4c78a8', chance: '#999999', marker: '#e45756' };

/** Version colours of the F1 history, in version order (repeats after ten). */
const VERSION_PALETTE = ['#4c78a8', '#f58518', '#54a24b', '#b279a2', '#e45756', '#72b7b2', '#eeca3b', '#9d755d', '#ff9da6', '#bab0ac'];

/** Shared look: the embedded font everywhere, white background, legends on top (never clipped at the side). */
export function baseSpec(width: number, height: number) {
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
      // The last label of an x axis would stick out of the chart's box (and past the page margin): flush it inside.
      axisX: { labelFlush: true },
      legend: { orient: 'top', labelFontSize: 9, titleFontSize: 9, symbolSize: 80, padding: 2 },
      // Longer titles and subtitles are cut with an ellipsis at the chart's width.
      title: {
        fontSize: 12,
        subtitleFontSize: 9,
        subtitleColor: '#555',
        anchor: 'start',
        offset: 10,
        subtitlePadding: 3,
        limit: width - 24,
      },
    },
  };
}

/** Axis labels of the two classes, named after the target column and its labels ("exited = 0", "churn = yes"). */
export function classLabels(target: string, labels: readonly [string, string] = ['0', '1']): [string, string] {
  return [`${target} = ${labels[0]}`, `${target} = ${labels[1]}`];
}

/**
 * Heatmap of `[[TN, FP], [FN, TP]]`: actual class down, predicted class across,
 * the count (large) and the cell's name and share of all rows (small) in each cell.
 */
export function confusionMatrixSpec(
  matrix: ConfusionMatrix,
  labels: [string, string],
  subtitle: string[],
  size = { width: 270, height: 290 },
): TopLevelSpec {
  const [[tn, fp], [fn, tp]] = matrix;
  const total = tn + fp + fn + tp;
  const max = Math.max(tn, fp, fn, tp);
  const cell = (actual: number, predicted: number, count: number, name: string) => ({
    actual: labels[actual],
    predicted: labels[predicted],
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
        sort: [...labels],
        title: 'Predicted',
        axis: { labelAngle: 0, orient: 'bottom', ticks: false, domain: false },
      },
      y: {
        field: 'actual',
        type: 'nominal',
        sort: [...labels],
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
        mark: { type: 'area', color: COLORS.model, opacity: 0.12 },
        encoding: { x: { field: 'fpr', ...unit }, y: { field: 'tpr', ...unit, stack: null } },
      },
      {
        data: { values },
        mark: { type: 'line', color: COLORS.model, strokeWidth: 2 },
        encoding: { x: { field: 'fpr', ...unit }, y: { field: 'tpr', ...unit }, order: { field: 'order', type: 'quantitative' } },
      },
    ],
  } as TopLevelSpec;
}

/** One point of the gain curve: share of clients called (riskiest first) and share of the leavers reached. */
export interface GainPoint {
  called: number;
  reached: number;
}

/**
 * Cumulative gain: calling clients riskiest first (x) against the share of
 * those who left that the calls reach (y), with random calling as the
 * diagonal and the configured share marked.
 */
export function gainChartSpec(
  points: GainPoint[],
  marked: GainPoint,
  subtitle: string[],
  size = { width: 495, height: 250 },
): TopLevelSpec {
  const unit = { type: 'quantitative' as const, scale: { domain: [0, 1], nice: false }, axis: { format: '.0%', tickCount: 10 } };
  const label = `calling ${Math.round(100 * marked.called)}% reaches ${Math.round(100 * marked.reached)}%`;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...baseSpec(size.width, size.height),
    title: { text: 'How much calling the riskiest clients helps', subtitle },
    layer: [
      {
        data: {
          values: [
            { called: 0, reached: 0, series: 'calling at random' },
            { called: 1, reached: 1, series: 'calling at random' },
          ],
        },
        mark: { type: 'line', color: COLORS.chance, strokeDash: [4, 4], strokeWidth: 1 },
        encoding: {
          x: { field: 'called', ...unit, title: 'Share of clients called, riskiest first' },
          y: { field: 'reached', ...unit, title: 'Share of those who left reached' },
        },
      },
      {
        data: { values: points },
        mark: { type: 'line', color: COLORS.model, strokeWidth: 2 },
        encoding: { x: { field: 'called', ...unit }, y: { field: 'reached', ...unit } },
      },
      {
        data: { values: [{ ...marked, label }] },
        layer: [
          { mark: { type: 'rule', color: COLORS.marker, strokeDash: [3, 3] }, encoding: { x: { field: 'called', ...unit } } },
          {
            mark: { type: 'point', filled: true, size: 60, color: COLORS.marker },
            encoding: { x: { field: 'called', ...unit }, y: { field: 'reached', ...unit } },
          },
          {
            mark: {
              type: 'text',
              align: 'left',
              dx: 7,
              dy: marked.reached > 0.15 ? 10 : -9,
              fontSize: 9,
              fontWeight: 'bold',
              color: COLORS.marker,
            },
            encoding: { x: { field: 'called', ...unit }, y: { field: 'reached', ...unit }, text: { field: 'label', type: 'nominal' } },
          },
        ],
      },
    ],
  } as TopLevelSpec;
}

/** Kinds of point in the F1 history (legend labels). */
export const F1_KINDS = {
  deployed: 'test data, when deployed',
  newData: 'new data, at a drift check',
  rejected: 'rejected candidate, test data',
} as const;

/** One point of the F1 history chart. */
export interface F1Point {
  /** ISO time of the deployment or tick. */
  time: string;
  /** The model version the point measures ("v2"), or "candidate" for a rejected one. */
  version: string;
  kind: (typeof F1_KINDS)[keyof typeof F1_KINDS];
  f1: number;
  /** Short label drawn next to the point (e.g. "v3"), or empty. */
  label: string;
}

/** d3 time format and axis title for a time span: seconds only for a span of minutes, days for weeks. */
export function timeAxisFormat(lo: number, hi: number): { format: string; title: string } {
  const span = hi - lo;
  const day = (t: number): string => new Date(t).toISOString().slice(0, 10);
  const sameDay = day(lo) === day(hi);
  if (span <= 5 * 60_000) return { format: '%H:%M:%S', title: `Time (UTC) on ${day(lo)}` };
  if (span <= 36 * 3600_000 && sameDay) return { format: '%H:%M', title: `Time (UTC) on ${day(lo)}` };
  if (span <= 4 * 86400_000) return { format: '%b %d %H:%M', title: 'Time (UTC)' };
  if (span <= 120 * 86400_000) return { format: '%b %d', title: 'Date (UTC)' };
  return { format: '%Y-%m-%d', title: 'Date (UTC)' };
}

/**
 * F1 over time, one colour per model version: its F1 on the test data when it
 * was deployed, joined to its F1 on the new data of every drift check while it
 * was current; rejected candidates as crosses.
 */
export function f1HistorySpec(points: F1Point[], subtitle: string[], size = { width: 495, height: 240 }): TopLevelSpec {
  const times = points.map((p) => Date.parse(p.time));
  let lo = Math.min(...times);
  let hi = Math.max(...times);
  // A single instant would collapse the axis: widen it to a minute around the point; else pad by 5 %.
  const pad = hi === lo ? 30_000 : (hi - lo) * 0.05;
  lo -= pad;
  hi += pad;
  const f1s = points.map((p) => p.f1);
  const yLo = Math.max(0, Math.floor((Math.min(...f1s) - 0.05) * 10) / 10);
  const yHi = Math.min(1, Math.ceil((Math.max(...f1s) + 0.05) * 10) / 10);
  const axis = timeAxisFormat(lo, hi);
  const x = {
    field: 'time',
    type: 'temporal' as const,
    scale: { type: 'utc' as const, domain: [lo, hi] },
    title: axis.title,
    axis: { labelAngle: 0, tickCount: 6, format: axis.format, labelOverlap: 'greedy' as const },
  };
  const y = {
    field: 'f1',
    type: 'quantitative' as const,
    scale: { domain: [yLo, yHi], zero: false },
    title: 'F1',
    axis: { format: '.2f' },
  };
  const versions = [...new Set(points.filter((p) => p.kind !== F1_KINDS.rejected).map((p) => p.version))];
  const color = {
    field: 'version',
    type: 'nominal' as const,
    scale: {
      domain: [...versions, 'candidate'],
      range: [...versions.map((_, i) => VERSION_PALETTE[i % VERSION_PALETTE.length]), '#777777'],
    },
    title: 'model',
  };
  const kinds = [F1_KINDS.deployed, F1_KINDS.newData, F1_KINDS.rejected].filter((kind) => points.some((p) => p.kind === kind));
  const shapes: Record<string, string> = {
    [F1_KINDS.deployed]: 'circle',
    [F1_KINDS.newData]: 'triangle-down',
    [F1_KINDS.rejected]: 'cross',
  };
  const shape = { field: 'kind', type: 'nominal' as const, scale: { domain: kinds, range: kinds.map((k) => shapes[k]) }, title: 'F1 on' };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...baseSpec(size.width, size.height),
    title: { text: 'F1 per model version', subtitle },
    data: { values: points.map((p) => ({ ...p, order: Date.parse(p.time) })) },
    layer: [
      {
        transform: [{ filter: `datum.kind !== '${F1_KINDS.rejected}'` }],
        mark: { type: 'line', strokeWidth: 1.5 },
        encoding: {
          x,
          y,
          color: { ...color, legend: null },
          detail: { field: 'version' },
          order: { field: 'order', type: 'quantitative' },
        },
      },
      { mark: { type: 'point', filled: true, size: 55, opacity: 1 }, encoding: { x, y, color, shape } },
      { mark: { type: 'text', dy: -10, fontSize: 8, color: '#333' }, encoding: { x, y, text: { field: 'label', type: 'nominal' } } },
    ],
  } as TopLevelSpec;
}

/** One bin of a feature's distribution in the drift charts. */
export interface DriftBar {
  bin: string;
  order: number;
  data: 'training' | 'new data';
  share: number;
}

/** Colours of the drift charts, for the sentence that introduces them. */
export const DRIFT_COLORS = { training: 'blue', newData: 'red' } as const;

/** Training (blue) and new-data (red) shares per PSI bin of one feature, side by side; small, without a legend. */
export function driftDistributionSpec(
  bars: DriftBar[],
  title: string,
  subtitle: string[],
  size = { width: 165, height: 150 },
): TopLevelSpec {
  const order = [...new Map(bars.map((b) => [b.bin, b.order])).entries()].sort((a, b) => a[1] - b[1]).map(([bin]) => bin);
  const base = baseSpec(size.width, size.height);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...base,
    // Sized by the plot (pad), not fitted: fit misjudges the height of rotated labels, which then hang below the box.
    width: size.width - 40,
    height: size.height - 70,
    autosize: { type: 'pad' },
    padding: { left: 2, right: 4, top: 2, bottom: 4 },
    title: { text: title, subtitle, fontSize: 9, subtitleFontSize: 7.5, offset: 6 },
    data: { values: bars },
    mark: { type: 'bar' },
    encoding: {
      x: {
        field: 'bin',
        type: 'ordinal',
        sort: order,
        title: null,
        axis: { labelAngle: -55, labelFontSize: 6.5, labelLimit: 60, labelOverlap: false, labelFlush: false },
      },
      xOffset: { field: 'data', type: 'nominal', sort: ['training', 'new data'] },
      y: { field: 'share', type: 'quantitative', title: null, axis: { format: '.0%', tickCount: 4, labelFontSize: 7 } },
      color: {
        field: 'data',
        type: 'nominal',
        sort: ['training', 'new data'],
        scale: { domain: ['training', 'new data'], range: [COLORS.training, COLORS.newData] },
        legend: null,
      },
    },
  } as TopLevelSpec;
}
