/**
 * The model file (`trainedmodel.json`): its contents, how a fit becomes one,
 * how it is validated on load (every wrong field named), and prediction with it.
 * The probability of class 1 for a row x is sigmoid(intercept + sum of
 * coefficients[i] * z[i] + sum over categorical features of the coefficient of
 * the row's level), z[i] = (x[i] - mean[i]) / std[i] (or x without
 * standardization); a level not seen in training adds nothing.
 */
import fs from 'node:fs';
import * as v from 'valibot';
import type { DataSchema } from '../config.js';
import type { CategoryColumn } from '../data/levels.js';
import { UserError } from '../errors.js';
import { describeIssues, object, record } from '../schema-issues.js';
import type { FeatureProfile } from './drift.js';
import {
  compareCodePoints,
  sigmoid,
  type CategoricalFit,
  type Convergence,
  type FitResult,
  type FitSettings,
  type Objective,
} from './fit.js';

/** Where a model's training data came from. */
export interface Provenance {
  rows: number;
  data_file: string;
  data_sha256: string;
  trained_at: string;
  package_version: string;
  duration_ms: number;
}

/** The contents of the model file. */
export interface ModelFile {
  kind: 'logistic-regression';
  format_version: 1;
  features: string[];
  target: string;
  standardization: { mean: number[]; std: number[] } | null;
  coefficients: number[];
  intercept: number;
  /**
   * One entry per categorical feature: its levels seen in training (sorted by
   * code point), the training rows holding each (the feature's training
   * profile, for drift and reasons), and each level's coefficient (one-hot, not standardized).
   */
  categorical: CategoricalFit[];
  imputation: Record<string, number>;
  hyperparameters: { penalty: 'l2'; C: number; objective: Objective; intercept_penalized: boolean; max_iter: number; tol: number };
  convergence: Convergence;
  training: Provenance;
  /** Distribution of each training feature (quantiles), for data-drift tests. */
  training_profile?: Record<string, FeatureProfile>;
}

export const MODEL_KIND = 'logistic-regression';

/** The columns a model reads: its numeric features and its categorical ones. */
export function inputNames(model: Pick<ModelFile, 'features' | 'categorical'>): { features: string[]; categorical: string[] } {
  return { features: model.features, categorical: categoricalFeatures(model) };
}

/** The model's categorical feature names, in its order. */
export function categoricalFeatures(model: Pick<ModelFile, 'categorical'>): string[] {
  return model.categorical.map((entry) => entry.feature);
}

/**
 * For each categorical feature of the model, the weight of each level of the
 * given column (0 for a level unseen in training) and whether it was seen.
 * A feature the caller has no column for is the empty level on every row.
 */
function levelWeights(
  model: ModelFile,
  categories: readonly CategoryColumn[],
  rows: number,
): { weights: Float64Array; seen: Uint8Array; codes: Int32Array }[] {
  return model.categorical.map((entry) => {
    const column = categories.find((category) => category.feature === entry.feature) ?? {
      levels: [''],
      codes: new Int32Array(rows),
    };
    const place = new Map(entry.levels.map((level, k) => [level, k]));
    const weights = new Float64Array(column.levels.length);
    const seen = new Uint8Array(column.levels.length);
    column.levels.forEach((level, code) => {
      const k = place.get(level);
      if (k === undefined) return;
      weights[code] = entry.coefficients[k];
      seen[code] = 1;
    });
    return { weights, seen, codes: column.codes };
  });
}

/**
 * Probability of class 1 for each row of `columns` (NaN cells imputed with the
 * model's medians) and `categories` (matched to the model's categorical features by name).
 */
export function predictProbabilities(
  model: ModelFile,
  columns: ArrayLike<number>[],
  categories: readonly CategoryColumn[] = [],
): Float64Array {
  const n = columns.length === 0 ? (categories[0]?.codes.length ?? 0) : columns[0].length;
  const p = model.features.length;
  const out = new Float64Array(n);
  const fills = model.features.map((feature) => model.imputation[feature]);
  const means = model.standardization?.mean;
  const stds = model.standardization?.std;
  const levels = levelWeights(model, categories, n);
  for (let i = 0; i < n; i++) {
    let eta = model.intercept;
    for (let f = 0; f < p; f++) {
      let v = columns[f][i];
      if (v !== v) v = fills[f];
      const z = means && stds ? (v - means[f]) / stds[f] : v;
      eta += model.coefficients[f] * z;
    }
    for (let c = 0; c < levels.length; c++) eta += levels[c].weights[levels[c].codes[i]];
    out[i] = sigmoid(eta);
  }
  return out;
}

/** Per categorical feature of the model, the cells holding a level not seen in training (they add nothing to the log-odds). */
export function countUnseenLevels(model: ModelFile, categories: readonly CategoryColumn[], rows: number): Record<string, number> {
  const levels = levelWeights(model, categories, rows);
  return Object.fromEntries(
    model.categorical.map((entry, c) => {
      const { seen, codes } = levels[c];
      let unseen = 0;
      for (let i = 0; i < codes.length; i++) unseen += 1 - seen[codes[i]];
      return [entry.feature, unseen];
    }),
  );
}

/** 0/1 predictions at the 0.5 threshold (as sklearn's predict). */
export function classify(probabilities: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(probabilities.length);
  for (let i = 0; i < probabilities.length; i++) out[i] = probabilities[i] > 0.5 ? 1 : 0;
  return out;
}

/** Assembles the model file's contents from a fit. */
export function buildModelFile(
  fit: FitResult,
  features: string[],
  target: string,
  settings: FitSettings,
  training: Provenance,
  profile?: Record<string, FeatureProfile>,
): ModelFile {
  return {
    kind: MODEL_KIND,
    format_version: 1,
    features: [...features],
    target,
    standardization: fit.standardization,
    coefficients: fit.coefficients,
    intercept: fit.intercept,
    categorical: fit.categorical,
    imputation: Object.fromEntries(features.map((feature, f) => [feature, fit.imputation[f]])),
    hyperparameters: {
      penalty: 'l2',
      C: settings.C,
      objective: settings.objective,
      intercept_penalized: settings.objective === 'liblinear',
      max_iter: settings.max_iter,
      tol: settings.tol,
    },
    convergence: fit.convergence,
    training,
    ...(profile ? { training_profile: profile } : {}),
  };
}

const finite = v.pipe(v.number(), v.finite());
const text = v.pipe(v.string(), v.minLength(1));
const modelFileSchema = object({
  kind: v.literal(MODEL_KIND, `must be "${MODEL_KIND}"`),
  format_version: v.literal(1, 'must be 1 (this version reads format 1)'),
  features: v.pipe(v.array(text), v.minLength(1)),
  target: text,
  standardization: v.nullable(
    object({
      mean: v.array(finite),
      std: v.array(
        v.pipe(
          finite,
          v.check((value) => value > 0, 'must be > 0'),
        ),
      ),
    }),
  ),
  coefficients: v.array(finite),
  intercept: finite,
  categorical: v.array(
    object({
      feature: text,
      levels: v.pipe(v.array(v.string()), v.minLength(1)),
      counts: v.array(v.pipe(v.number(), v.safeInteger(), v.minValue(1))),
      coefficients: v.array(finite),
    }),
  ),
  imputation: record(finite),
  hyperparameters: object({
    penalty: v.literal('l2'),
    C: finite,
    objective: v.picklist(['standardized', 'liblinear']),
    intercept_penalized: v.boolean(),
    max_iter: v.number(),
    tol: v.number(),
  }),
  convergence: object({ converged: v.boolean(), iterations: v.number(), gradient_max: v.number(), objective_value: v.number() }),
  training: object({
    rows: v.number(),
    data_file: v.string(),
    data_sha256: v.string(),
    trained_at: v.string(),
    package_version: v.string(),
    duration_ms: v.number(),
  }),
  training_profile: v.optional(record(object({ count: v.number(), quantiles: v.array(finite) }))),
});

/** Validates a parsed model file; the error names the file and each wrong field. */
export function validateModelFile(value: unknown, label: string): ModelFile {
  const parsed = v.safeParse(modelFileSchema, value);
  if (!parsed.success) {
    const problems = describeIssues(modelFileSchema, parsed.issues, value);
    throw new UserError(`${label} is not a valid model file: ${problems.join('; ')}`);
  }
  const model: ModelFile = parsed.output;
  const p = model.features.length;
  const problems: string[] = [];
  if (model.coefficients.length !== p) problems.push(`coefficients has ${model.coefficients.length} values for ${p} features`);
  if (model.standardization && (model.standardization.mean.length !== p || model.standardization.std.length !== p)) {
    problems.push(`standardization.mean/std must have ${p} values`);
  }
  for (const feature of model.features) if (!(feature in model.imputation)) problems.push(`imputation has no median for "${feature}"`);
  const names = new Set(model.features);
  model.categorical.forEach(({ feature, levels, counts, coefficients }, c) => {
    const where = `categorical.${c} ("${feature}")`;
    if (names.has(feature)) problems.push(`${where}: the feature is listed twice (features or categorical)`);
    names.add(feature);
    if (counts.length !== levels.length) problems.push(`${where}: counts has ${counts.length} values for ${levels.length} levels`);
    if (coefficients.length !== levels.length) {
      problems.push(`${where}: coefficients has ${coefficients.length} values for ${levels.length} levels`);
    }
    const unsorted = levels.findIndex((level, k) => k > 0 && compareCodePoints(levels[k - 1], level) >= 0);
    if (unsorted !== -1) problems.push(`${where}: levels must be distinct and sorted (levels.${unsorted} is out of order)`);
  });
  if (problems.length > 0) throw new UserError(`${label} is not a valid model file: ${problems.join('; ')}`);
  return model;
}

/** The data schema a model reads: the config's id column and target labels with the model's own features and target. */
export function schemaForModel(schema: DataSchema, model: Pick<ModelFile, 'features' | 'target' | 'categorical'>): DataSchema {
  return { ...schema, features: [...model.features], categorical_features: categoricalFeatures(model), target: model.target };
}

/** Reads and validates a model file from disk. */
export function loadModelFile(file: string): ModelFile {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UserError(
      code === 'ENOENT' ? `model file not found: ${file} (run training first)` : `cannot read model file ${file} (${code})`,
      { cause: error },
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UserError(`${file} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  return validateModelFile(value, file);
}
