/**
 * Fitting a binary logistic regression with an L2 penalty to convergence by
 * Newton's method (IRLS) with a backtracking line search. The p x p Newton
 * system is solved with ml-matrix; the O(n) passes over the rows run on typed
 * arrays so 1,000,000 rows fit in memory and time. Pure: data in, parameters
 * out (the model file is model-file.ts's concern).
 *
 * Objectives:
 * - `standardized` (default): median imputation, then standardization with the
 *   training mean and population std, intercept not penalized: scikit-learn's
 *   make_pipeline(SimpleImputer("median"), StandardScaler(), LogisticRegression(C)).
 * - `liblinear`: raw (imputed) features, the intercept penalized like a weight
 *   (liblinear with intercept_scaling = 1), the original project's objective.
 *
 * Categorical features add one indicator column per level seen in training
 * (levels sorted by code point, as Python sorts strings), never standardized and
 * penalized like every weight: scikit-learn's OneHotEncoder in a ColumnTransformer
 * beside the numeric pipeline. The indicators are never materialized: a row
 * holds one level of each feature, so each pass reads a level's weight by the
 * row's code, and the gradient and Hessian entries of a level are sums over the
 * rows holding it (scattered into the small d x d Hessian by code).
 */
import { CholeskyDecomposition, Matrix, solve } from 'ml-matrix';
import { DataError, UserError } from '../errors.js';
import { median } from './stats.js';
export type Objective = 'standardized' | 'liblinear';

/** Fit settings (config `model` section). */
export interface FitSettings {
  objective: Objective;
  C: number;
  max_iter: number;
  tol: number;
}

/** How the fit ended. */
export interface Convergence {
  converged: boolean;
  iterations: number;
  /** Largest absolute gradient component of the penalized objective at the end. */
  gradient_max: number;
  /** Penalized objective value at the end. */
  objective_value: number;
}

/** A categorical training column: each row's level as a code into `levels` (any order). */
export interface TrainingCategory {
  feature: string;
  levels: string[];
  codes: Int32Array;
}

/** Training data in columns: NaN marks a missing cell. */
export interface TrainingData {
  features: string[];
  columns: Float64Array[];
  target: Uint8Array;
  /** Categorical features (none when absent). */
  categories?: TrainingCategory[];
}

/** A categorical feature's part of the fit: its levels in order, their training row counts and their weights. */
export interface CategoricalFit {
  feature: string;
  levels: string[];
  counts: number[];
  coefficients: number[];
}

/** Most one-hot columns (levels over all categorical features) a fit takes: the Newton system is d x d. */
export const MAX_LEVELS = 1000;

/** Orders strings by Unicode code point, as Python (and so scikit-learn's OneHotEncoder) sorts them. */
export function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // UTF-16 order differs from code point order only when one side is a surrogate (an astral character).
    const surrogateX = x >= 0xd800 && x <= 0xdfff;
    const surrogateY = y >= 0xd800 && y <= 0xdfff;
    if (surrogateX !== surrogateY) return surrogateX ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

/** Numerically stable 1 / (1 + exp(-x)). */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** Column-wise medians of the present values; a column with no value is an error. */
function trainingMedians(data: TrainingData): number[] {
  return data.columns.map((column, f) => {
    const value = median(column);
    if (Number.isNaN(value))
      throw new DataError({ file: 'training data', column: data.features[f] }, 'every value of this feature is missing; cannot impute');
    return value;
  });
}

/**
 * Mean and population std of each column after imputation (as StandardScaler
 * sees it), computed on the fly: the imputed column is never materialized.
 */
function imputedStandardization(columns: Float64Array[], medians: number[]): { mean: number[]; std: number[] } {
  const means: number[] = [];
  const stds: number[] = [];
  columns.forEach((column, f) => {
    const fill = medians[f];
    const n = column.length;
    let total = 0;
    for (let i = 0; i < n; i++) {
      const v = column[i];
      total += v === v ? v : fill;
    }
    const m = total / n;
    let squares = 0;
    for (let i = 0; i < n; i++) {
      const v = column[i];
      const centred = (v === v ? v : fill) - m;
      squares += centred * centred;
    }
    const s = Math.sqrt(squares / n);
    means.push(m);
    // As StandardScaler: a constant column keeps scale 1.
    stds.push(s < 10 * Number.EPSILON * Math.max(1, Math.abs(m)) || !Number.isFinite(s) ? 1 : s);
  });
  return { mean: means, std: stds };
}

/**
 * The design matrix as columns: imputed, then standardized when asked. With
 * `inPlace` the given columns are overwritten (no second copy of the data).
 */
function designColumns(
  columns: Float64Array[],
  medians: number[],
  standardization: { mean: number[]; std: number[] } | null,
  inPlace: boolean,
): Float64Array[] {
  return columns.map((column, f) => {
    const out = inPlace ? column : new Float64Array(column.length);
    const fill = medians[f];
    const m = standardization ? standardization.mean[f] : 0;
    const s = standardization ? standardization.std[f] : 1;
    for (let i = 0; i < column.length; i++) {
      const v = column[i];
      out[i] = ((v === v ? v : fill) - m) / s;
    }
    return out;
  });
}

interface PassResult {
  value: number;
  gradient: Float64Array;
  /** Row-major (p+1)^2; empty when the pass was asked for the gradient only. */
  hessian: Float64Array;
}

/**
 * Rows a pass handles at a time. Its work arrays are this long, so they stay
 * in the CPU cache and cost no memory per row of data; and the product of a
 * block's 512 loss factors, each in (1, 2], cannot overflow (one log a block).
 */
const BLOCK_ROWS = 512;

/** Per-block work arrays reused by every pass. */
interface Scratch {
  eta: Float64Array;
  residual: Float64Array;
  weight: Float64Array;
  /** The odd rows' share of the level sums (gradient, Hessian): two accumulators, so consecutive rows of one level do not wait on each other. */
  oddGradient: Float64Array;
  oddHessian: Float64Array;
}

// The block sums below keep two running totals: the additions no longer wait on each other (~25 % faster passes).

function sum(values: Float64Array, count: number): number {
  let even = 0;
  let odd = 0;
  let i = 0;
  for (; i + 1 < count; i += 2) {
    even += values[i];
    odd += values[i + 1];
  }
  if (i < count) even += values[i];
  return even + odd;
}

/** Sum of values[i] * column[offset + i] over the block. */
function dot(values: Float64Array, column: Float64Array, offset: number, count: number): number {
  let even = 0;
  let odd = 0;
  let i = 0;
  for (; i + 1 < count; i += 2) {
    even += values[i] * column[offset + i];
    odd += values[i + 1] * column[offset + i + 1];
  }
  if (i < count) even += values[i] * column[offset + i];
  return even + odd;
}

/** Sum of values[i] * a[offset + i] * b[offset + i] over the block. */
function dot3(values: Float64Array, a: Float64Array, b: Float64Array, offset: number, count: number): number {
  let even = 0;
  let odd = 0;
  let i = 0;
  for (; i + 1 < count; i += 2) {
    even += values[i] * a[offset + i] * b[offset + i];
    odd += values[i + 1] * a[offset + i + 1] * b[offset + i + 1];
  }
  if (i < count) even += values[i] * a[offset + i] * b[offset + i];
  return even + odd;
}

/** One penalized logistic-loss problem: the design columns, labels, C and whether the intercept is penalized. */
interface Problem {
  columns: Float64Array[];
  /** Per categorical feature, each row's parameter index (1 + numeric count + the level's place among all levels). */
  categories: Int32Array[];
  /** Parameters: intercept, numeric weights, level weights. */
  dimension: number;
  y: Uint8Array;
  C: number;
  penalizeIntercept: boolean;
  /** Per-block work arrays reused by every pass. */
  scratch: Scratch;
}

/**
 * One evaluation at parameters `theta` = [intercept, w...]: penalized
 * objective, its gradient and (when `withHessian`) its Hessian.
 * The rows are taken a block at a time, column-at-a-time loops within a block:
 * one read of the data per pass, tight loops over typed arrays.
 */
function evaluate(problem: Problem, theta: Float64Array, withHessian = true): PassResult {
  const { columns, categories, y, C, penalizeIntercept, scratch, dimension: d } = problem;
  const p = columns.length;
  const q = categories.length;
  const n = y.length;
  const { eta, residual, weight } = scratch;
  const gradient = new Float64Array(d);
  const hessian = new Float64Array(withHessian ? d * d : 0);
  let loss = 0;
  for (let offset = 0; offset < n; offset += BLOCK_ROWS) {
    const count = Math.min(BLOCK_ROWS, n - offset);
    eta.fill(theta[0], 0, count);
    for (let f = 0; f < p; f++) {
      const column = columns[f];
      const t = theta[f + 1];
      if (t !== 0) for (let i = 0; i < count; i++) eta[i] += t * column[offset + i];
    }
    for (let c = 0; c < q; c++) {
      const index = categories[c];
      for (let i = 0; i < count; i++) eta[i] += theta[index[offset + i]];
    }
    // The loss of a row is log(1 + e) plus a hinge term, with e = exp(-|eta|); one exp
    // gives it and the probability, and one log of the product serves the whole block.
    let product = 1;
    for (let i = 0; i < count; i++) {
      const value = eta[i];
      const e = Math.exp(-Math.abs(value));
      const onePlus = 1 + e;
      const label = y[offset + i];
      product *= onePlus;
      loss += label === 1 ? (value < 0 ? -value : 0) : value > 0 ? value : 0;
      const prob = value >= 0 ? 1 / onePlus : e / onePlus;
      residual[i] = prob - label;
      weight[i] = prob * (1 - prob);
    }
    loss += Math.log(product);
    gradient[0] += sum(residual, count);
    for (let f = 0; f < p; f++) gradient[f + 1] += dot(residual, columns[f], offset, count);
    for (let c = 0; c < q; c++) scatter(gradient, scratch.oddGradient, categories[c], offset, residual, count, 1, 0);
    if (!withHessian) continue;
    hessian[0] += sum(weight, count);
    for (let f = 0; f < p; f++) {
      hessian[f + 1] += dot(weight, columns[f], offset, count);
      for (let g = f; g < p; g++) hessian[(f + 1) * d + g + 1] += dot3(weight, columns[f], columns[g], offset, count);
    }
    if (q > 0) accumulateCategoryHessian(problem, hessian, offset, count);
  }
  // A level's indicator times the intercept's column of ones is the indicator itself: that row is the diagonal.
  if (q > 0) {
    addInto(gradient, scratch.oddGradient);
    if (withHessian) addInto(hessian, scratch.oddHessian);
  }
  if (withHessian) for (let a = p + 1; a < d; a++) hessian[a] = hessian[a * d + a];
  let penalty = 0;
  for (let a = 0; a < d; a++) {
    gradient[a] *= C;
    if (withHessian) {
      for (let b = a; b < d; b++) {
        hessian[a * d + b] *= C;
        hessian[b * d + a] = hessian[a * d + b];
      }
    }
    if (a > 0 || penalizeIntercept) {
      penalty += theta[a] * theta[a];
      gradient[a] += theta[a];
      if (withHessian) hessian[a * d + a] += 1;
    }
  }
  return { value: C * loss + 0.5 * penalty, gradient, hessian };
}

/**
 * The Hessian entries of the level weights over one block, into the upper
 * triangle (the parameter index of a numeric weight is below every level's, and
 * a feature's levels below those of the features after it). Levels of one feature
 * exclude each other, so within a feature only the diagonal is non-zero.
 */
function accumulateCategoryHessian(problem: Problem, hessian: Float64Array, offset: number, count: number): void {
  const { columns, categories, dimension: d } = problem;
  const { weight, oddHessian } = problem.scratch;
  const p = columns.length;
  const q = categories.length;
  for (let c = 0; c < q; c++) {
    const index = categories[c];
    scatter(hessian, oddHessian, index, offset, weight, count, d + 1, 0);
    for (let f = 0; f < p; f++) scatterProduct(hessian, oddHessian, index, offset, weight, columns[f], count, (f + 1) * d);
    for (let e = c + 1; e < q; e++) scatterPair(hessian, oddHessian, index, categories[e], offset, weight, count, d);
  }
}

/** target[base + index[offset + i]] += values[i] * column[offset + i] over the block, odd rows into `odd`. */
function scatterProduct(
  target: Float64Array,
  odd: Float64Array,
  index: Int32Array,
  offset: number,
  values: Float64Array,
  column: Float64Array,
  count: number,
  base: number,
): void {
  let i = 0;
  for (; i + 1 < count; i += 2) {
    target[base + index[offset + i]] += values[i] * column[offset + i];
    odd[base + index[offset + i + 1]] += values[i + 1] * column[offset + i + 1];
  }
  if (i < count) target[base + index[offset + i]] += values[i] * column[offset + i];
}

/** target[a[offset + i] * d + b[offset + i]] += values[i] over the block, odd rows into `odd`. */
function scatterPair(
  target: Float64Array,
  odd: Float64Array,
  a: Int32Array,
  b: Int32Array,
  offset: number,
  values: Float64Array,
  count: number,
  d: number,
): void {
  let i = 0;
  for (; i + 1 < count; i += 2) {
    target[a[offset + i] * d + b[offset + i]] += values[i];
    odd[a[offset + i + 1] * d + b[offset + i + 1]] += values[i + 1];
  }
  if (i < count) target[a[offset + i] * d + b[offset + i]] += values[i];
}

/** target[base + index[offset + i] * stride] += values[i] over the block, odd rows into `odd` (added to `target` after the pass). */
function scatter(
  target: Float64Array,
  odd: Float64Array,
  index: Int32Array,
  offset: number,
  values: Float64Array,
  count: number,
  stride: number,
  base: number,
): void {
  let i = 0;
  for (; i + 1 < count; i += 2) {
    target[base + index[offset + i] * stride] += values[i];
    odd[base + index[offset + i + 1] * stride] += values[i + 1];
  }
  if (i < count) target[base + index[offset + i] * stride] += values[i];
}

/** target += extra, then extra = 0. */
function addInto(target: Float64Array, extra: Float64Array): void {
  for (let k = 0; k < target.length; k++) target[k] += extra[k];
  extra.fill(0);
}

/** Solves H step = -g; Cholesky first, LU as a fallback for a nearly singular H. */
function newtonStep(hessian: Float64Array, gradient: Float64Array): Float64Array {
  const d = gradient.length;
  const rows: number[][] = [];
  for (let a = 0; a < d; a++) rows.push(Array.from(hessian.subarray(a * d, a * d + d)));
  const H = new Matrix(rows);
  const g = Matrix.columnVector(Array.from(gradient, (v) => -v));
  const cholesky = new CholeskyDecomposition(H);
  const step = cholesky.isPositiveDefinite() ? cholesky.solve(g) : solve(H, g, true);
  return Float64Array.from(step.getColumn(0));
}

/** The fitted parameters before they become a model file. */
export interface FitResult {
  standardization: { mean: number[]; std: number[] } | null;
  imputation: number[];
  coefficients: number[];
  intercept: number;
  /** One entry per categorical feature, in the data's order. */
  categorical: CategoricalFit[];
  convergence: Convergence;
}

/** Options of a fit. */
export interface FitOptions {
  /** Start from the optimum of a subsample on large data (default true). */
  warmStart?: boolean;
  /**
   * Impute and standardize `data.columns` (and recode `data.categories`) in place instead of copying them
   * (training on millions of rows keeps one copy of the data); default false.
   */
  inPlace?: boolean;
}

/**
 * Fits the model to convergence. Throws a DataError for data it cannot fit
 * (no rows, a single class, a feature with no values).
 */
export function fitLogisticRegression(data: TrainingData, settings: FitSettings, options: FitOptions = {}): FitResult {
  const n = data.target.length;
  if (n === 0) throw new DataError({ file: 'training data' }, 'no rows to train on');
  let positives = 0;
  for (let i = 0; i < n; i++) positives += data.target[i];
  if (positives === 0 || positives === n) {
    throw new DataError(
      { file: 'training data' },
      `the target holds only class ${positives === 0 ? 0 : 1}; training needs rows of both 0 and 1`,
    );
  }
  const medians = trainingMedians(data);
  const standardization = settings.objective === 'standardized' ? imputedStandardization(data.columns, medians) : null;
  const columns = designColumns(data.columns, medians, standardization, options.inPlace ?? false);
  const encoded = encodeCategories(data.categories ?? [], 1 + columns.length, options.inPlace ?? false);
  const categories = encoded.map((category) => category.index);
  const dimension = 1 + columns.length + encoded.reduce((total, category) => total + category.levels.length, 0);
  const penalizeIntercept = settings.objective === 'liblinear';
  // On large data, start Newton from the optimum of a strided subsample (with C scaled so the
  // penalty weighs the same): the full-data passes, the expensive part, drop from ~9 to ~3.
  let start: Float64Array = new Float64Array(dimension);
  let warmStarted = false;
  if (options.warmStart !== false && n > 4 * WARM_START_ROWS) {
    const stride = Math.floor(n / WARM_START_ROWS);
    const m = Math.floor(n / stride);
    const sampleColumns = columns.map((column) => strided(column, stride, new Float64Array(m)));
    const sampleCategories = categories.map((index) => strided(index, stride, new Int32Array(m)));
    const sampleTarget = strided(data.target, stride, new Uint8Array(m));
    if (sampleTarget.some((label) => label === 1) && sampleTarget.some((label) => label === 0)) {
      const sample = makeProblem(sampleColumns, sampleCategories, dimension, sampleTarget, (settings.C * n) / m, penalizeIntercept);
      start = newton(sample, start, settings).theta;
      warmStarted = true;
    }
  }
  const { theta, current, converged, iterations } = newton(
    makeProblem(columns, categories, dimension, data.target, settings.C, penalizeIntercept),
    start,
    settings,
    categories.length > 0 && warmStarted,
  );
  const gradientMax = current.gradient.reduce((max, g) => Math.max(max, Math.abs(g)), 0);
  if (!theta.every(Number.isFinite)) throw new UserError('training produced non-finite coefficients; check the data for extreme values');
  return {
    standardization,
    imputation: medians,
    intercept: theta[0],
    coefficients: Array.from(theta.subarray(1, 1 + columns.length)),
    categorical: encoded.map(({ feature, levels, counts, first }) => ({
      feature,
      levels,
      counts,
      coefficients: Array.from(theta.subarray(first, first + levels.length)),
    })),
    convergence: { converged, iterations, gradient_max: gradientMax, objective_value: current.value },
  };
}

/** A categorical column as the fit sees it: sorted levels, their counts, and each row's parameter index. */
interface EncodedCategory {
  feature: string;
  levels: string[];
  counts: number[];
  /** Parameter index of the first level. */
  first: number;
  index: Int32Array;
}

/**
 * Sorts each feature's levels and turns each row's code into the parameter
 * index of its level, parameters numbered from `first` on (in place with `inPlace`).
 */
function encodeCategories(categories: TrainingCategory[], first: number, inPlace: boolean): EncodedCategory[] {
  const total = categories.reduce((sum, category) => sum + category.levels.length, 0);
  if (total > MAX_LEVELS) {
    const widest = categories.reduce((a, b) => (b.levels.length > a.levels.length ? b : a));
    throw new DataError(
      { file: 'training data', column: widest.feature },
      `the categorical features hold ${total} levels in all (this one ${widest.levels.length}); at most ${MAX_LEVELS} fit ` +
        '(a near-unique text column is an id or free text, not a category: leave it out of schema.categorical_features)',
    );
  }
  let next = first;
  return categories.map(({ feature, levels, codes }) => {
    const tally = new Float64Array(levels.length);
    for (let i = 0; i < codes.length; i++) tally[codes[i]]++;
    // Levels no row holds (none, from a dataset; possible from a caller) are left out.
    const order = levels.map((_, code) => code).filter((code) => tally[code] > 0);
    order.sort((a, b) => compareCodePoints(levels[a], levels[b]));
    const place = new Int32Array(levels.length);
    order.forEach((code, rank) => (place[code] = next + rank));
    const index = inPlace ? codes : new Int32Array(codes.length);
    for (let i = 0; i < codes.length; i++) index[i] = place[codes[i]];
    const encoded = {
      feature,
      levels: order.map((code) => levels[code]),
      counts: order.map((code) => tally[code]),
      first: next,
      index,
    };
    next += order.length;
    return encoded;
  });
}

/** Fills `out` with every `stride`-th value of `values` (a plain loop: Float64Array.from with a callback is several times slower). */
function strided<T extends Float64Array | Uint8Array | Int32Array>(values: T, stride: number, out: T): T {
  for (let i = 0; i < out.length; i++) out[i] = values[i * stride];
  return out;
}

/** Rows of the subsample a large fit is warm-started from. */
const WARM_START_ROWS = 50_000;

/** A problem with its scratch arrays allocated. */
function makeProblem(
  columns: Float64Array[],
  categories: Int32Array[],
  dimension: number,
  y: Uint8Array,
  C: number,
  penalizeIntercept: boolean,
): Problem {
  return {
    columns,
    categories,
    dimension,
    y,
    C,
    penalizeIntercept,
    scratch: {
      eta: new Float64Array(BLOCK_ROWS),
      residual: new Float64Array(BLOCK_ROWS),
      weight: new Float64Array(BLOCK_ROWS),
      oddGradient: new Float64Array(dimension),
      oddHessian: new Float64Array(categories.length > 0 ? dimension * dimension : 0),
    },
  };
}

/**
 * Damped Newton iterations from `start` until half the Newton decrement is below tol (relative).
 * With `reuseHessian` (a warm start on data with categories, where the level sums make the
 * Hessian the dearest part of a pass) the Hessian of the start is kept while each step
 * shrinks the decrement at least tenfold, and recomputed otherwise.
 */
function newton(
  problem: Problem,
  start: Float64Array,
  settings: FitSettings,
  reuseHessian = false,
): { theta: Float64Array; current: PassResult; converged: boolean; iterations: number } {
  const d = problem.dimension;
  let theta = Float64Array.from(start);
  let current = evaluate(problem, theta);
  let converged = false;
  let iterations = 0;
  const small = (decrement: number, value: number): boolean => decrement / 2 <= settings.tol * Math.max(1, Math.abs(value));
  let previousDecrement = Infinity;
  let hessianFresh = true;
  while (iterations < settings.max_iter) {
    iterations++;
    let step = newtonStep(current.hessian, current.gradient);
    let slope = 0;
    for (let a = 0; a < d; a++) slope += step[a] * current.gradient[a];
    if (!hessianFresh && !(-slope <= previousDecrement / 10)) {
      // The kept Hessian no longer gives fast steps: recompute it here.
      current = evaluate(problem, theta);
      hessianFresh = true;
      step = newtonStep(current.hessian, current.gradient);
      slope = 0;
      for (let a = 0; a < d; a++) slope += step[a] * current.gradient[a];
    }
    // Newton decrement: half of it estimates the distance to the optimum's objective value.
    const decrement = -slope;
    previousDecrement = decrement;
    // A step that will end the fit needs no Hessian at its end point (one pass in four at 1M rows).
    const lastLikely = small(decrement, current.value) || reuseHessian;
    let size = 1;
    let accepted: PassResult | undefined;
    let candidate = theta;
    for (let halvings = 0; halvings < 50; halvings++) {
      candidate = theta.map((t, a) => t + size * step[a]);
      const trial = evaluate(problem, candidate, !lastLikely);
      // Armijo condition, with room for the rounding error of a sum over many rows.
      if (trial.value <= current.value + 1e-4 * size * slope + 1e-13 * Math.abs(current.value)) {
        accepted = trial;
        break;
      }
      size /= 2;
    }
    if (!accepted) {
      // No decrease is representable any more: converged when the decrement is at rounding level.
      converged = decrement / 2 <= 1e-9 * Math.max(1, Math.abs(current.value));
      break;
    }
    theta = candidate;
    if (reuseHessian && accepted.hessian.length === 0) {
      accepted = { ...accepted, hessian: current.hessian };
      hessianFresh = false;
    }
    current = accepted;
    // Steps on a kept Hessian converge linearly, not quadratically: they stop a hundredfold closer.
    if (small(reuseHessian ? 100 * decrement : decrement, current.value)) {
      converged = true;
      break;
    }
    // Predicted to end but did not (the objective's scale moved): the next step needs the Hessian.
    if (lastLikely && !reuseHessian) current = evaluate(problem, theta);
  }
  return { theta, current, converged, iterations };
}
