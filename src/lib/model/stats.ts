/**
 * Descriptive statistics on numeric arrays. Every function skips NaN (a
 * missing value) as pandas does, and returns NaN when nothing is left.
 */

type Numbers = ArrayLike<number>;

/** The values that are not NaN, as a new Float64Array. */
export function presentValues(values: Numbers): Float64Array {
  const out = new Float64Array(values.length);
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === v) out[n++] = v;
  }
  return out.subarray(0, n);
}

/** Number of values that are not NaN. */
export function countPresent(values: Numbers): number {
  let n = 0;
  for (let i = 0; i < values.length; i++) if (values[i] === values[i]) n++;
  return n;
}

/** Arithmetic mean. @example mean([1, 2, 6]) === 3 */
export function mean(values: Numbers): number {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === v) {
      sum += v;
      n++;
    }
  }
  return n === 0 ? NaN : sum / n;
}

/**
 * Standard deviation with `ddof` delta degrees of freedom: 1 for the sample
 * std (pandas `std()`), 0 for the population std (numpy, StandardScaler).
 * Two-pass for accuracy. NaN when fewer than ddof + 1 values.
 */
export function standardDeviation(values: Numbers, ddof: 0 | 1): number {
  const m = mean(values);
  let sum = 0;
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === v) {
      sum += (v - m) * (v - m);
      n++;
    }
  }
  return n - ddof <= 0 ? NaN : Math.sqrt(sum / (n - ddof));
}

/** Smallest value (an infinity counts, as in pandas). @example min([3, NaN, 1]) === 1 */
export function min(values: Numbers): number {
  let best = NaN;
  for (let i = 0; i < values.length; i++) if (values[i] < best || best !== best) best = values[i];
  return best;
}

/** Largest value (an infinity counts, as in pandas). @example max([3, NaN, 1]) === 3 */
export function max(values: Numbers): number {
  let best = NaN;
  for (let i = 0; i < values.length; i++) if (values[i] > best || best !== best) best = values[i];
  return best;
}

/** Rearranges `a` so that a[k] is the k-th smallest (Hoare selection), in O(n). */
function select(a: Float64Array, k: number): number {
  let left = 0;
  let right = a.length - 1;
  while (right > left) {
    const pivot = a[(left + right) >> 1];
    let i = left;
    let j = right;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else return a[k];
  }
  return a[k];
}

/**
 * Quantile with linear interpolation between closest ranks (numpy's and
 * pandas' default). @example quantile([1, 2, 3, 4], 0.5) === 2.5
 */
export function quantile(values: Numbers, q: number): number {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile: q must be in [0, 1], got ${q}`);
  const data = presentValues(values);
  const n = data.length;
  if (n === 0) return NaN;
  const position = q * (n - 1);
  const lower = Math.floor(position);
  const fraction = position - lower;
  const low = select(data, lower);
  if (fraction === 0) return low;
  // After selection everything above `lower` is >= low; the next order statistic is their minimum.
  let high = Infinity;
  for (let i = lower + 1; i < n; i++) if (data[i] < high) high = data[i];
  return low + (high - low) * fraction;
}

/** Median (mean of the two middle values for an even count). @example median([3, 1, 2]) === 2 */
export function median(values: Numbers): number {
  return quantile(values, 0.5);
}

/** Summary of one numeric column, pandas-style (std with ddof = 1). */
export interface ColumnSummary {
  mean: number | null;
  median: number | null;
  std: number | null;
  count: number;
  min: number | null;
  max: number | null;
}

/** Mean, median, sample std, count, min and max of the present values; null where undefined. */
export function describe(values: Numbers): ColumnSummary {
  const orNull = (v: number): number | null => (Number.isFinite(v) ? v : null);
  return {
    mean: orNull(mean(values)),
    median: orNull(median(values)),
    std: orNull(standardDeviation(values, 1)),
    count: countPresent(values),
    min: orNull(min(values)),
    max: orNull(max(values)),
  };
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; about 15 significant digits). @example Math.exp(logGamma(5)) ≈ 24 */
export function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
    -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  let sum = c[0];
  for (let k = 1; k < 9; k++) sum += c[k] / (z + k);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/**
 * The regularized upper incomplete gamma function Q(a, x) = Γ(a, x) / Γ(a):
 * a series below x = a + 1, a continued fraction above (so tiny tails keep
 * their relative accuracy). @example upperGammaRegularized(1, 2) ≈ Math.exp(-2)
 */
export function upperGammaRegularized(a: number, x: number): number {
  if (!(a > 0) || !(x >= 0)) return NaN;
  if (x === 0) return 1;
  const logPrefix = -x + a * Math.log(x) - logGamma(a);
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 10_000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-16) break;
    }
    return Math.max(0, 1 - sum * Math.exp(logPrefix));
  }
  // Lentz's continued fraction for Γ(a, x).
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let n = 1; n < 10_000; n++) {
    const an = -n * (n - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const step = d * c;
    h *= step;
    if (Math.abs(step - 1) < 1e-16) break;
  }
  return Math.exp(logPrefix) * h;
}

/** Upper tail P(X >= x) of the chi-square distribution with `dof` degrees of freedom. @example chiSquareSurvival(3.841458820694124, 1) ≈ 0.05 */
export function chiSquareSurvival(x: number, dof: number): number {
  if (dof <= 0) return NaN;
  return upperGammaRegularized(dof / 2, x / 2);
}

/**
 * Pearson's chi-square test of independence of a 2 x K table of counts, as
 * scipy.stats.chi2_contingency computes it by default: columns empty in both
 * rows left out, Yates' continuity correction when one degree of freedom is
 * left. With fewer than two columns there is nothing to compare: statistic 0, p 1.
 */
export function chiSquareContingency(
  first: ArrayLike<number>,
  second: ArrayLike<number>,
): { statistic: number; pvalue: number; dof: number } {
  const columns: [number, number][] = [];
  for (let k = 0; k < first.length; k++) if (first[k] + second[k] > 0) columns.push([first[k], second[k]]);
  const rowTotals = [0, 0];
  for (const [a, b] of columns) {
    rowTotals[0] += a;
    rowTotals[1] += b;
  }
  const total = rowTotals[0] + rowTotals[1];
  const dof = columns.length - 1;
  if (dof < 1 || rowTotals[0] === 0 || rowTotals[1] === 0) return { statistic: 0, pvalue: 1, dof: Math.max(0, dof) };
  let statistic = 0;
  for (const column of columns) {
    const columnTotal = column[0] + column[1];
    for (let r = 0; r < 2; r++) {
      const expected = (rowTotals[r] * columnTotal) / total;
      let observed = column[r];
      if (dof === 1) {
        const difference = expected - observed;
        observed += Math.sign(difference) * Math.min(0.5, Math.abs(difference));
      }
      statistic += ((observed - expected) * (observed - expected)) / expected;
    }
  }
  return { statistic, pvalue: chiSquareSurvival(statistic, dof), dof };
}
