/**
 * Vega-Lite specs of the dashboard's own charts (the F1 history and the drift
 * distributions are the report's, from report/charts.ts): the tick timeline
 * coloured by outcome, and PSI per feature across drift checks with the
 * threshold drawn. Pure, like the report's specs; rendered to SVG on the report
 * worker (dashboard-data.ts).
 */
import type { TopLevelSpec } from 'vega-lite';
import { baseSpec, timeAxisFormat } from '../report/charts.js';
import type { Outcome } from '../store/run-history.js';
import { OUTCOMES, type PsiPoint, type TimelineBin } from './views.js';

/** One colour per outcome: red for failures, orange for rejections, greys for ticks that changed nothing. */
export const OUTCOME_COLORS: Record<Outcome, string> = {
  bootstrapped: '#4c78a8',
  redeployed: '#1f77b4',
  'no-drift': '#54a24b',
  'no-new-data': '#9e9e9e',
  rejected: '#f58518',
  locked: '#c7c7c7',
  failed: '#d62728',
};

function timeAxis(lo: number, hi: number) {
  const axis = timeAxisFormat(lo, hi);
  return { title: axis.title, axis: { labelAngle: 0, tickCount: 6, format: axis.format, labelOverlap: 'greedy' as const } };
}

/** The run history as a strip per outcome: one bar a time bin, its opacity the share of that bin's ticks. */
export function timelineSpec(bins: TimelineBin[], from: number, to: number, width = 900): TopLevelSpec {
  const outcomes = OUTCOMES.filter((outcome) => bins.some((bin) => bin.outcome === outcome));
  const x = { field: 'start', type: 'temporal' as const, scale: { type: 'utc' as const, domain: [from, to] }, ...timeAxis(from, to) };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...baseSpec(width, 40 + 22 * Math.max(1, outcomes.length)),
    data: { values: bins },
    mark: { type: 'rect', minWidth: 2 } as never,
    encoding: {
      x,
      x2: { field: 'end' },
      y: { field: 'outcome', type: 'nominal', sort: outcomes, title: null, axis: { labelFontSize: 10 } },
      color: {
        field: 'outcome',
        type: 'nominal',
        scale: { domain: outcomes, range: outcomes.map((outcome) => OUTCOME_COLORS[outcome]) },
        legend: null,
      },
      opacity: { field: 'count', type: 'quantitative', scale: { type: 'log', range: [0.55, 1] }, legend: null },
    },
  } as TopLevelSpec;
}

/** PSI per feature at each drift check, with the threshold as a dashed rule; the legend lists the features. */
export function psiHistorySpec(points: PsiPoint[], threshold: number, subtitle: string, width = 900): TopLevelSpec {
  const times = points.map((p) => Date.parse(p.time));
  let lo = Math.min(...times);
  let hi = Math.max(...times);
  const pad = hi === lo ? 30_000 : (hi - lo) * 0.03;
  lo -= pad;
  hi += pad;
  const x = { field: 'time', type: 'temporal' as const, scale: { type: 'utc' as const, domain: [lo, hi] }, ...timeAxis(lo, hi) };
  const top = Math.max(threshold * 1.5, ...points.map((p) => p.psi));
  const y = { field: 'psi', type: 'quantitative' as const, title: 'PSI', scale: { domain: [0, top], nice: true } };
  const features = [...new Set(points.map((p) => p.feature))];
  const base = baseSpec(width, 260);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...base,
    title: { text: 'PSI per feature across drift checks', subtitle: [subtitle] },
    config: { ...base.config, legend: { ...base.config.legend, orient: 'right', labelLimit: 180 } },
    layer: [
      {
        data: { values: points },
        // Points only while they can be told apart (and while the SVG stays small).
        mark: { type: 'line', strokeWidth: 1.5, ...(times.length <= 30 * features.length ? { point: { filled: true, size: 25 } } : {}) },
        encoding: { x, y, color: { field: 'feature', type: 'nominal', title: 'feature', sort: features } },
      },
      {
        data: { values: [{ psi: threshold, label: `threshold ${threshold}` }] },
        layer: [
          { mark: { type: 'rule', color: '#d62728', strokeDash: [5, 4] }, encoding: { y: { field: 'psi', type: 'quantitative' } } },
          {
            mark: { type: 'text', align: 'left', dx: 4, dy: -6, fontSize: 9, color: '#d62728', x: 0 },
            encoding: { y: { field: 'psi', type: 'quantitative' }, text: { field: 'label' } },
          },
        ],
      },
    ],
  } as TopLevelSpec;
}
