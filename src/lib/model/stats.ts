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
