/**
 * The numbers behind the report's charts and sentences, derived from plain
 * data: the gain of calling the riskiest clients first, the F1 history per
 * model version, and the drift of each feature from its PSI bins. Pure.
 */
import type { VersionRecord } from '../store/deploy-store.js';
import { formatAmount, formatPValue } from '../wording.js';
import { driftPValue, driftTestName, type FeatureDrift, type LevelDrift, type RunRecord } from '../store/run-history.js';
import { shorten } from './text-fit.js';
import { F1_KINDS, type DriftBar, type F1Point, type GainPoint } from './charts.js';

/** Keeps at most `max` points of a curve, always the first and the last. */
export function thinCurve<T>(points: T[], max = 800): T[] {
  if (points.length <= max) return points;
  const step = (points.length - 1) / (max - 1);
  return Array.from({ length: max }, (_, i) => points[Math.round(i * step)]);
}

/** Row indexes by probability, highest first; ties keep the file order. */
function riskOrder(probabilities: ArrayLike<number>): number[] {
  return Array.from({ length: probabilities.length }, (_, i) => i).sort((a, b) => probabilities[b] - probabilities[a] || a - b);
}

/**
 * The cumulative gain curve: after calling the k riskiest of n clients
 * (k = 0..n), the share of all those who left (target 1) reached. Empty when
 * nobody left.
 */
export function gainCurve(actual: ArrayLike<number>, probabilities: ArrayLike<number>): GainPoint[] {
  const n = actual.length;
  let leavers = 0;
  for (let i = 0; i < n; i++) leavers += actual[i] === 1 ? 1 : 0;
  if (n === 0 || leavers === 0) return [];
  const points: GainPoint[] = [{ called: 0, reached: 0 }];
  let reached = 0;
  riskOrder(probabilities).forEach((row, k) => {
    if (actual[row] === 1) reached++;
    points.push({ called: (k + 1) / n, reached: reached / leavers });
  });
  return points;
}

/** What calling the riskiest `share` of the clients reaches. */
export interface Gain {
  /** The share asked for, and the clients that makes: ceil(share x n). */
  share: number;
  called: number;
  clients: number;
  /** Those who left among the called, of all who left. */
  reached: number;
  leavers: number;
  /** reached / leavers; null when nobody left. */
  reachedShare: number | null;
}

/**
 * The gain figure: calling the ceil(share x n) riskiest clients (ties in file
 * order) reaches this share of those who left.
 * @example gainAt([1, 0, 1, 0], [0.9, 0.8, 0.1, 0.2], 0.25).reachedShare === 0.5
 */
export function gainAt(actual: ArrayLike<number>, probabilities: ArrayLike<number>, share: number): Gain {
  const n = actual.length;
  const called = Math.min(n, Math.ceil(share * n - 1e-9));
  let leavers = 0;
  for (let i = 0; i < n; i++) leavers += actual[i] === 1 ? 1 : 0;
  const order = riskOrder(probabilities);
  let reached = 0;
  for (let k = 0; k < called; k++) reached += actual[order[k]] === 1 ? 1 : 0;
  return { share, called, clients: n, reached, leavers, reachedShare: leavers === 0 ? null : reached / leavers };
}

/** Points of the F1 history chart and what they span. */
export interface F1History {
  points: F1Point[];
  deployments: number;
  checks: number;
  rejected: number;
}

const finite = (value: number | null | undefined): value is number => typeof value === 'number' && Number.isFinite(value);

/**
 * The F1 history per model version: each version's F1 on the test data when
 * it was deployed (from the store, else from the tick that deployed it), the
 * deployed model's F1 on the new data of every drift check, and the F1 of
 * every rejected candidate. The newest `maxRuns` ticks.
 */
export function f1History(runs: RunRecord[], versions: VersionRecord[], maxRuns = 200): F1History {
  const recent = runs.slice(-maxRuns);
  const points: F1Point[] = [];
  const deployedAt = new Map<number, { time: string; f1: number }>();
  for (const v of versions) if (finite(v.f1)) deployedAt.set(v.version, { time: v.deployed_at, f1: v.f1 });
  for (const run of recent) {
    const deployedHere = run.outcome === 'bootstrapped' || run.outcome === 'redeployed';
    if (deployedHere && run.version_after !== null && !deployedAt.has(run.version_after) && finite(run.scores.candidate_f1))
      deployedAt.set(run.version_after, { time: run.finished_at, f1: run.scores.candidate_f1 });
  }
  for (const [version, { time, f1 }] of [...deployedAt].sort((a, b) => a[0] - b[0]))
    points.push({ time, version: `v${version}`, kind: F1_KINDS.deployed, f1, label: `v${version}` });
  let checks = 0;
  let rejected = 0;
  for (const run of recent) {
    const newF1 = run.model_drift?.new_f1 ?? run.scores.new_data_f1;
    if (finite(newF1) && run.version_before !== null) {
      checks++;
      points.push({ time: run.started_at, version: `v${run.version_before}`, kind: F1_KINDS.newData, f1: newF1, label: '' });
    }
    if (run.outcome === 'rejected' && finite(run.scores.candidate_f1)) {
      rejected++;
      points.push({ time: run.started_at, version: 'candidate', kind: F1_KINDS.rejected, f1: run.scores.candidate_f1, label: '' });
    }
  }
  return { points, deployments: deployedAt.size, checks, rejected };
}

/** Label of PSI bin `k` of a feature cut at `edges` (bins are (e[k-1], e[k]], the first below, the last above). */
export function binLabel(edges: number[], k: number): string {
  if (edges.length === 0) return 'all values';
  if (k === 0) return `≤ ${formatAmount(edges[0])}`;
  if (k >= edges.length) return `> ${formatAmount(edges[edges.length - 1])}`;
  return `${formatAmount(edges[k - 1])}–${formatAmount(edges[k])}`;
}

/** The same bin in a sentence ("at or below 35", "between 35 and 37", "above 45"). */
function binWords(edges: number[], k: number): string {
  if (edges.length === 0) return 'anywhere';
  if (k === 0) return `at or below ${formatAmount(edges[0])}`;
  if (k >= edges.length) return `above ${formatAmount(edges[edges.length - 1])}`;
  return `between ${formatAmount(edges[k - 1])} and ${formatAmount(edges[k])}`;
}

/** Bars of the drift chart of one feature: training and new-data share per bin. */
export function driftBars(bins: FeatureDrift['psi_bins']): DriftBar[] {
  if ('levels' in bins) return levelBars(bins);
  return bins.expected.flatMap((expected, k): DriftBar[] => [
    { bin: binLabel(bins.edges, k), order: k, data: 'training', share: expected },
    { bin: binLabel(bins.edges, k), order: k, data: 'new data', share: bins.actual[k] ?? 0 },
  ]);
}

/** Levels drawn per categorical drift chart: those whose share changed most (a state column has 50). */
export const DRIFT_LEVEL_BARS = 10;

/** A level as a bar label or in a sentence: the empty level and the unseen bin named in words. */
export function levelName(level: string | null): string {
  if (level === null) return 'unseen levels';
  if (level === '') return '(empty)';
  return level;
}

/**
 * Bars of a categorical feature, training and new data side by side per
 * level: the levels (unseen ones as one) whose share changed most, at most
 * DRIFT_LEVEL_BARS, in training order. The rest are left out rather than
 * summed into one tall bar that would flatten the others.
 */
function levelBars(bins: LevelDrift['psi_bins']): DriftBar[] {
  const change = (k: number): number => Math.abs(bins.actual[k] - bins.expected[k]);
  const present = bins.levels.map((_, k) => k).filter((k) => bins.expected[k] > 0 || bins.actual[k] > 0);
  const shown = new Set([...present].sort((a, b) => change(b) - change(a) || a - b).slice(0, DRIFT_LEVEL_BARS));
  return present
    .filter((k) => shown.has(k))
    .flatMap((k): DriftBar[] => {
      const label = shorten(levelName(bins.levels[k]), 24);
      return [
        { bin: label, order: k, data: 'training', share: bins.expected[k] },
        { bin: label, order: k, data: 'new data', share: bins.actual[k] },
      ];
    });
}

/** How many of a categorical feature's bins its chart leaves out. */
export function levelsLeftOut(bins: LevelDrift['psi_bins']): number {
  const present = bins.levels.filter((_, k) => bins.expected[k] > 0 || bins.actual[k] > 0).length;
  return Math.max(0, present - DRIFT_LEVEL_BARS);
}

function percent(share: number): string {
  return `${Math.round(100 * share)}%`;
}

/**
 * One plain sentence on a feature's drift: the verdict, the bin whose share
 * changed most, and the PSI against the configured threshold.
 */
export function driftSentence(label: string, drift: FeatureDrift, threshold: number): string {
  if (drift.kind === 'categorical') return levelDriftSentence(label, drift, threshold);
  const { edges, expected, actual } = drift.psi_bins;
  let most = 0;
  for (let k = 1; k < expected.length; k++) if (Math.abs(actual[k] - expected[k]) > Math.abs(actual[most] - expected[most])) most = k;
  const verdict = drift.drifted ? 'has drifted' : 'has not drifted';
  const change =
    expected.length === 0
      ? 'no bins were recorded'
      : Math.abs(actual[most] - expected[most]) < 0.005
        ? 'the share of rows in each range of values is unchanged'
        : `the largest change is ${percent(actual[most])} of the new rows ${binWords(edges, most)}, against ${percent(expected[most])} of the training rows`;
  const psi = Number.isFinite(drift.psi) ? drift.psi.toFixed(2) : 'n/a';
  const unconfirmed =
    drift.psi >= threshold && !drift.drifted ? `, but the KS test (p = ${formatPValue(drift.ks_pvalue)}) does not confirm it` : '';
  const sentence = `${label} ${verdict}: ${change} (PSI ${psi}; a shift counts from ${threshold}${unconfirmed}).`;
  return sentence[0].toUpperCase() + sentence.slice(1);
}

/** The sentence of a categorical feature: the level whose share changed most. */
function levelDriftSentence(label: string, drift: LevelDrift, threshold: number): string {
  const { levels, expected, actual } = drift.psi_bins;
  let most = 0;
  for (let k = 1; k < expected.length; k++) if (Math.abs(actual[k] - expected[k]) > Math.abs(actual[most] - expected[most])) most = k;
  const verdict = drift.drifted ? 'has drifted' : 'has not drifted';
  const level = levels[most] === null ? 'levels not seen in training' : `"${shorten(levelName(levels[most]), 40)}"`;
  const change =
    expected.length === 0 || Math.abs(actual[most] - expected[most]) < 0.005
      ? 'the share of each level is unchanged'
      : `the largest change is ${percent(actual[most])} of the new rows at ${level}, against ${percent(expected[most])} of the training rows`;
  const psi = Number.isFinite(drift.psi) ? drift.psi.toFixed(2) : 'n/a';
  const leftOut = levelsLeftOut(drift.psi_bins);
  const drawn =
    leftOut > 0 ? ` The chart shows the ${DRIFT_LEVEL_BARS} levels whose share changed most; ${leftOut} others are left out.` : '';
  const unconfirmed =
    drift.psi >= threshold && !drift.drifted
      ? `, but the ${driftTestName(drift)} (p = ${formatPValue(driftPValue(drift))}) does not confirm it`
      : '';
  const sentence = `${label} ${verdict}: ${change} (PSI ${psi}; a shift counts from ${threshold}${unconfirmed}).${drawn}`;
  return sentence[0].toUpperCase() + sentence.slice(1);
}
