/**
 * Drift tests. Model drift: is the deployed model's F1 on new data low enough,
 * by the configured rule, to retrain? Data drift: how far has each feature's
 * distribution moved from the training data (PSI and two-sample KS; for a
 * categorical feature PSI over its levels and a chi-square test of the counts)?
 * Pure functions on numbers.
 */
import { formatScore } from '../wording.js';
import { chiSquareContingency, mean, presentValues, quantile, standardDeviation } from './stats.js';
import type { CategoryColumn } from '../data/levels.js';
import type { LevelDrift, ModelDrift, NumericDrift } from '../store/run-history.js';

export type DriftRule = ModelDrift['rule'];

/**
 * Applies a model-drift rule.
 * - raw: drift when newF1 < deployedF1 (the original project's rule);
 * - parametric: newF1 < mean - 2 std of the history (sample std);
 * - nonparametric: newF1 < Q1 - 1.5 IQR of the history.
 * With fewer than two history scores the statistical rules fall back to raw.
 */
export function decideModelDrift(rule: DriftRule, newF1: number, deployedF1: number, history: number[]): ModelDrift {
  const base = { rule, new_f1: newF1, deployed_f1: deployedF1, history };
  if (rule === 'parametric' && history.length >= 2) {
    const m = mean(history);
    const s = standardDeviation(history, 1);
    const threshold = m - 2 * s;
    const drifted = newF1 < threshold;
    return {
      ...base,
      threshold,
      drifted,
      explanation: `new F1 ${formatScore(newF1)} ${drifted ? '<' : '>='} mean ${formatScore(m)} - 2 x std ${formatScore(s)} = ${formatScore(threshold)}`,
    };
  }
  if (rule === 'nonparametric' && history.length >= 2) {
    const q1 = quantile(history, 0.25);
    const q3 = quantile(history, 0.75);
    const threshold = q1 - 1.5 * (q3 - q1);
    const drifted = newF1 < threshold;
    return {
      ...base,
      threshold,
      drifted,
      explanation: `new F1 ${formatScore(newF1)} ${drifted ? '<' : '>='} Q1 ${formatScore(q1)} - 1.5 x IQR ${formatScore(q3 - q1)} = ${formatScore(threshold)}`,
    };
  }
  const drifted = newF1 < deployedF1;
  const fallback = rule === 'raw' ? '' : ` (${rule} needs at least 2 history scores; raw rule applied)`;
  return {
    ...base,
    threshold: deployedF1,
    drifted,
    explanation: `new F1 ${formatScore(newF1)} ${drifted ? '<' : '>='} deployed F1 ${formatScore(deployedF1)}${fallback}`,
  };
}

/** Distribution summary of a training column kept in the model: sorted quantiles and the count. */
export interface FeatureProfile {
  count: number;
  /**
   * Ascending. When the column had at most `points` values: those values
   * themselves (so KS and PSI against a small training set are exact);
   * otherwise the values at probabilities (i + 0.5) / m, i = 0..m-1.
   */
  quantiles: number[];
}

/** Summarizes a column for later drift tests (missing values skipped). */
export function profileColumn(values: ArrayLike<number>, points = 1000): FeatureProfile {
  const present = presentValues(values);
  if (present.length <= points) return { count: present.length, quantiles: Array.from(Float64Array.from(present).sort()) };
  // Quantiles of an evenly strided subsample are accurate enough and keep training fast on millions of rows.
  const stride = Math.max(1, Math.floor(present.length / 50_000));
  const sample =
    stride === 1
      ? Float64Array.from(present)
      : Float64Array.from({ length: Math.floor(present.length / stride) }, (_, i) => present[i * stride]);
  const sorted = sample.sort();
  const n = sorted.length;
  const m = Math.min(points, n);
  const quantiles: number[] = [];
  for (let i = 0; i < m; i++) {
    const position = ((i + 0.5) / m) * (n - 1);
    const low = Math.floor(position);
    const high = Math.min(n - 1, low + 1);
    quantiles.push(sorted[low] + (sorted[high] - sorted[low]) * (position - low));
  }
  return { count: present.length, quantiles };
}

/** Share of `sorted` values <= x, by binary search. */
function cdf(sorted: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return sorted.length === 0 ? 0 : lo / sorted.length;
}

/** Kolmogorov distribution tail Q(λ) = 2 Σ (-1)^(k-1) exp(-2 k² λ²). */
function kolmogorovTail(lambda: number): number {
  if (lambda < 1e-3) return 1;
  let sum = 0;
  for (let k = 1; k <= 100; k++) {
    const term = Math.exp(-2 * k * k * lambda * lambda);
    sum += (k % 2 === 1 ? 1 : -1) * term;
    if (term < 1e-16) break;
  }
  return Math.max(0, Math.min(1, 2 * sum));
}

/** Largest sample size for which the exact p-value is used (scipy's `ks_2samp` method "auto" uses the same bound). */
const KS_EXACT_MAX_N = 10_000;
/**
 * Lattice steps of the exact computation (about 2 d n m) allowed; beyond it
 * (d n m > 1e7 with n, m <= 10,000) the p-value is below 1e-40 either way, so
 * the cheap asymptotic value is used (this bounds the cost to ~0.1 s).
 */
const KS_EXACT_MAX_WORK = 2e7;

function greatestCommonDivisor(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/**
 * Exact P(D >= d) of the two-sided two-sample KS statistic for sizes n and m
 * under the null without ties (scipy uses it for tied data too): the share of monotone lattice paths from (0, 0) to (n, m) that
 * leave the band |x/n - y/m| < d. The recursion runs on probabilities, not
 * path counts, and yields P(leave) directly, so tiny p-values keep their
 * relative accuracy and nothing overflows. `d` is first rounded to the grid
 * of possible values k / lcm(n, m), as scipy does.
 */
function smirnovExactSf(d: number, n: number, m: number): number {
  if (n < m) [n, m] = [m, n];
  const g = greatestCommonDivisor(n, m);
  const ng = n / g;
  const mg = m / g;
  // A path point (x, y) is outside the band when |x*mg - y*ng| >= h.
  const h = Math.round(d * ng * m);
  if (h <= 0) return 1;
  let previous = new Float64Array(m + 1);
  let current = new Float64Array(m + 1);
  // Column x = 0: the points below the band's edge are inside and not yet left.
  let previousLow = 0;
  let previousHigh = Math.min(m, Math.ceil(h / ng) - 1);
  for (let x = 1; x <= n; x++) {
    const low = Math.max(0, Math.floor((x * mg - h) / ng) + 1);
    const high = Math.min(m, Math.ceil((x * mg + h) / ng) - 1);
    if (low > high) return 1;
    // q(x, y) = (x q(x-1, y) + y q(x, y-1)) / (x + y), with q = 1 outside the band.
    let below = 1;
    for (let y = low; y <= high; y++) {
      const left = y >= previousLow && y <= previousHigh ? previous[y] : 1;
      below = (x * left + y * below) / (x + y);
      current[y] = below;
    }
    [previous, current] = [current, previous];
    previousLow = low;
    previousHigh = high;
  }
  return previousHigh === m ? Math.min(1, Math.max(0, previous[m])) : 1;
}

/**
 * Two-sample Kolmogorov-Smirnov test: statistic D = sup |F_a - F_b| and the
 * two-sided p-value (see `ksPValue`). `sizes` overrides the sample sizes
 * when `a` is a quantile summary of a larger sample.
 */
export function ksTwoSample(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  sizes?: { a: number; b: number },
): { statistic: number; pvalue: number } {
  const sa = Float64Array.from(presentValues(a)).sort();
  const sb = Float64Array.from(presentValues(b)).sort();
  if (sa.length === 0 || sb.length === 0) return { statistic: NaN, pvalue: NaN };
  let statistic = 0;
  let i = 0;
  let j = 0;
  while (i < sa.length && j < sb.length) {
    const x = Math.min(sa[i], sb[j]);
    while (i < sa.length && sa[i] <= x) i++;
    while (j < sb.length && sb[j] <= x) j++;
    statistic = Math.max(statistic, Math.abs(i / sa.length - j / sb.length));
  }
  const n = sizes?.a ?? sa.length;
  const m = sizes?.b ?? sb.length;
  return { statistic, pvalue: ksPValue(statistic, n, m) };
}

/**
 * Two-sided p-value of a two-sample KS statistic `d` for sample sizes n and m.
 * Exact, like scipy's `ks_2samp` default, when neither sample has more than
 * 10,000 values (unless p is certain to be below 1e-40); otherwise the
 * asymptotic Kolmogorov distribution with Stephens' small-sample correction.
 * NaN for an undefined statistic or empty samples.
 * @example ksPValue(0.5, 26, 26) // 0.00256... (scipy: 0.002560959179420108)
 */
export function ksPValue(d: number, n: number, m: number): number {
  if (!(d >= 0) || !(n >= 1) || !(m >= 1)) return NaN;
  if (Number.isInteger(n) && Number.isInteger(m) && Math.max(n, m) <= KS_EXACT_MAX_N && 2 * d * n * m <= KS_EXACT_MAX_WORK)
    return smirnovExactSf(d, n, m);
  const en = Math.sqrt((n * m) / (n + m));
  return kolmogorovTail((en + 0.12 + 0.11 / en) * d);
}

/**
 * Population stability index of `actual` against the training profile, on
 * bins cut at the training deciles (empty bins floored at 1e-4).
 */
export function populationStabilityIndex(
  profile: FeatureProfile,
  actual: ArrayLike<number>,
  bins = 10,
): NumericDrift['psi_bins'] & { psi: number } {
  const q = profile.quantiles;
  const inner: number[] = [];
  for (let b = 1; b < bins; b++) {
    const edge = quantile(q, b / bins);
    if (inner.length === 0 || edge > inner[inner.length - 1]) inner.push(edge);
  }
  const present = presentValues(actual);
  const sortedActual = Float64Array.from(present).sort();
  const shares = (sorted: ArrayLike<number>): number[] => {
    const out: number[] = [];
    let previous = 0;
    for (const edge of inner) {
      const c = cdf(sorted, edge);
      out.push(c - previous);
      previous = c;
    }
    out.push(1 - previous);
    return out;
  };
  const expected = shares(q);
  const observed = shares(sortedActual);
  let psi = 0;
  for (let k = 0; k < expected.length; k++) {
    const e = Math.max(expected[k], 1e-4);
    const a = Math.max(observed[k], 1e-4);
    psi += (a - e) * Math.log(a / e);
  }
  return { psi, edges: inner, expected, actual: observed };
}

/** Data drift of every feature: PSI and KS against the training profiles. */
export function measureDataDrift(
  profiles: Record<string, FeatureProfile>,
  columns: Record<string, ArrayLike<number>>,
  settings: { psi_bins: number; psi_threshold: number; ks_alpha: number },
): Record<string, NumericDrift> {
  const result: Record<string, NumericDrift> = {};
  for (const [feature, profile] of Object.entries(profiles)) {
    const values = columns[feature];
    if (!values) continue;
    const { psi, edges, expected, actual } = populationStabilityIndex(profile, values, settings.psi_bins);
    const present = presentValues(values);
    const ks = ksTwoSample(profile.quantiles, present, { a: profile.count, b: present.length });
    result[feature] = {
      psi,
      psi_bins: { edges, expected, actual },
      ks_statistic: ks.statistic,
      ks_pvalue: ks.pvalue,
      drifted: psi >= settings.psi_threshold && ks.pvalue < settings.ks_alpha,
    };
  }
  return result;
}

/** Floor of a share in the PSI sum, so an empty bin does not make it infinite (as for numeric bins). */
const PSI_FLOOR = 1e-4;

/**
 * Drift of one categorical feature: the share of each training level in the
 * training data (`counts`) and in `column`, plus one bin for levels not seen
 * in training (training share 0); PSI over those bins (shares floored at
 * 1e-4) and scipy's chi2_contingency of the 2 x bins table of counts. Drifted
 * under the numeric rule with the chi-square p-value in place of KS's.
 */
export function measureLevelDrift(
  training: { levels: string[]; counts: number[] },
  column: Pick<CategoryColumn, 'levels' | 'codes'>,
  settings: { psi_threshold: number; ks_alpha: number },
): LevelDrift {
  const place = new Map(training.levels.map((level, k) => [level, k]));
  const bins = training.levels.length + 1;
  const remap = column.levels.map((level) => place.get(level) ?? bins - 1);
  const observed = new Float64Array(bins);
  for (let i = 0; i < column.codes.length; i++) observed[remap[column.codes[i]]]++;
  const expectedCounts = [...training.counts, 0];
  const trainingRows = training.counts.reduce((a, b) => a + b, 0);
  const newRows = column.codes.length;
  const expected = expectedCounts.map((count) => (trainingRows > 0 ? count / trainingRows : 0));
  const actual = Array.from(observed, (count) => (newRows > 0 ? count / newRows : 0));
  let psi = 0;
  for (let k = 0; k < bins; k++) {
    const e = Math.max(expected[k], PSI_FLOOR);
    const a = Math.max(actual[k], PSI_FLOOR);
    psi += (a - e) * Math.log(a / e);
  }
  const test = chiSquareContingency(expectedCounts, observed);
  return {
    kind: 'categorical',
    psi,
    psi_bins: { levels: [...training.levels, null], expected, actual },
    chi2_statistic: test.statistic,
    chi2_pvalue: test.pvalue,
    chi2_dof: test.dof,
    drifted: psi >= settings.psi_threshold && test.pvalue < settings.ks_alpha,
  };
}
