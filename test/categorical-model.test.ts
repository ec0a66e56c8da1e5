/**
 * Categorical features and a labelled target: the fit equals scikit-learn's
 * ColumnTransformer(median imputer + StandardScaler | constant "" imputer +
 * OneHotEncoder(handle_unknown="ignore")) + LogisticRegression(C=1) at
 * convergence, on generated data with 60 levels in one column, missing cells
 * and unseen levels (values in test/fixtures/expected/categorical.json, made by
 * test/reference/make_categorical.py).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { runIngestion } from '../src/ingestion.js';
import { runScoring } from '../src/scoring.js';
import { runTraining } from '../src/training.js';
import { categoryColumn } from '../src/lib/data/levels.js';
import { fitLogisticRegression, compareCodePoints } from '../src/lib/model/fit.js';
import { readDataForModel } from '../src/lib/model/evaluation.js';
import { countUnseenLevels, loadModelFile, predictProbabilities, validateModelFile, type ModelFile } from '../src/lib/model/model-file.js';
import { FIXTURES, assertClose, makeProject } from './helpers.js';

const CATEGORICAL = path.join(FIXTURES, 'categorical');

const WANTED = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'expected', 'categorical.json'), 'utf8'));
const { schema } = WANTED as { schema: Record<string, unknown> };

function categoricalProject(extra: Record<string, unknown> = {}) {
  return makeProject({
    input: path.join(CATEGORICAL, 'practicedata'),
    testData: path.join(CATEGORICAL, 'testdata'),
    extra: { schema, ...extra },
  });
}

test('the categorical fit matches scikit-learn: levels, coefficients and test probabilities (unseen levels included)', async () => {
  const project = categoricalProject();
  await runIngestion(project.config);
  const trained = await runTraining(project.config);
  assert.equal(trained.converged, true);
  const model = loadModelFile(trained.model_file);
  assert.deepEqual(model.features, WANTED.schema.features);
  assert.deepEqual(
    model.categorical.map((entry) => entry.feature),
    WANTED.schema.categorical_features,
  );
  for (const entry of model.categorical) {
    assert.deepEqual(entry.levels, WANTED.levels[entry.feature], `levels of ${entry.feature}`);
    entry.coefficients.forEach((coefficient, k) =>
      assertClose(coefficient, WANTED.level_coefficients[entry.feature][k], 1e-6, `${entry.feature}: ${entry.levels[k]}`),
    );
  }
  assert.ok(model.categorical[0].levels.length >= 50, 'one column holds at least 50 levels');
  model.features.forEach((feature, f) => {
    assert.equal(model.imputation[feature], WANTED.medians[f], `median of ${feature}`);
    assertClose(model.standardization!.mean[f], WANTED.mean[f], 1e-9, `mean of ${feature}`);
    assertClose(model.standardization!.std[f], WANTED.std[f], 1e-9, `std of ${feature}`);
    assertClose(model.coefficients[f], WANTED.coefficients[f], 1e-6, `coefficient of ${feature}`);
  });
  assertClose(model.intercept, WANTED.intercept, 1e-6, 'intercept');

  const testData = readDataForModel(path.join(project.config.test_data_path, 'testdata.csv'), model, project.config.schema);
  const probabilities = predictProbabilities(model, testData.columns, testData.categories);
  assert.equal(probabilities.length, WANTED.test_probabilities.length);
  let worst = 0;
  WANTED.test_probabilities.forEach((p: number, i: number) => {
    worst = Math.max(worst, Math.abs(probabilities[i] - p));
    assertClose(probabilities[i], p, 1e-6, `probability of test row ${i}`);
  });
  assert.ok(worst < 1e-6, `max abs difference ${worst}`);
  assert.deepEqual(countUnseenLevels(model, testData.categories, testData.rows), WANTED.test_unseen);

  const scored = await runScoring(project.config);
  assert.ok(scored.f1 > 0 && scored.f1 <= 1);
});

test('levels are sorted by code point, as Python sorts strings (an astral character after U+FF5A)', () => {
  const levels = ['😀', 'ｚ', 'é', 'Z', 'a', '', '5.0', '5', 'a,b'];
  assert.deepEqual([...levels].sort(compareCodePoints), ['', '5', '5.0', 'Z', 'a', 'a,b', 'é', 'ｚ', '😀']);
  assert.notDeepEqual([...levels].sort(), [...levels].sort(compareCodePoints), 'JS default order differs for astral characters');
});

test('an unseen level contributes nothing: its row scores as the intercept and numeric part alone', async () => {
  const project = categoricalProject();
  await runIngestion(project.config);
  const model = loadModelFile((await runTraining(project.config)).model_file);
  const columns = [Float64Array.from([NaN]), Float64Array.from([NaN])];
  const unseen = ['state', 'plan', 'contract'].map((feature) => categoryColumn(feature, ['never seen']));
  const [p] = predictProbabilities(model, columns, unseen);
  // Numeric cells imputed with the medians: z = (median - mean) / std.
  let eta = model.intercept;
  model.features.forEach((_, f) => {
    eta += (model.coefficients[f] * (model.imputation[model.features[f]] - model.standardization!.mean[f])) / model.standardization!.std[f];
  });
  assertClose(p, 1 / (1 + Math.exp(-eta)), 1e-15, 'probability with every level unseen');
  assert.deepEqual(countUnseenLevels(model, unseen, 1), { state: 1, plan: 1, contract: 1 });
});

test('the liblinear objective takes categories: it converges to finite coefficients for every level', async () => {
  const project = categoricalProject({ model: { objective: 'liblinear' } });
  await runIngestion(project.config);
  const trained = await runTraining(project.config);
  assert.equal(trained.converged, true);
  const model = loadModelFile(trained.model_file);
  assert.equal(model.standardization, null);
  for (const entry of model.categorical) assert.ok(entry.coefficients.every(Number.isFinite));
  assert.ok(trained.convergence.gradient_max < 1e-6, `gradient ${trained.convergence.gradient_max}`);
});

test('the sparse level passes give the same fit as explicit indicator columns', () => {
  // Two categorical features fitted as levels, and the same data with hand-made 0/1 columns.
  const n = 400;
  const x = Float64Array.from({ length: n }, (_, i) => Math.sin(i) * 3);
  const a = Array.from({ length: n }, (_, i) => ['p', 'q', 'r'][i % 3]);
  const b = Array.from({ length: n }, (_, i) => ['u', 'v'][(i * 7) % 5 < 2 ? 0 : 1]);
  const y = Uint8Array.from({ length: n }, (_, i) => (Math.sin(i * 1.7) + (a[i] === 'q' ? 0.8 : 0) + x[i] * 0.3 > 0.2 ? 1 : 0));
  const settings = { objective: 'liblinear' as const, C: 1, max_iter: 100, tol: 1e-12 };
  const sparse = fitLogisticRegression(
    {
      features: ['x'],
      columns: [Float64Array.from(x)],
      categories: [
        { feature: 'a', ...toCodes(a) },
        { feature: 'b', ...toCodes(b) },
      ],
      target: y,
    },
    settings,
  );
  const indicator = (values: string[], level: string) => Float64Array.from(values, (v) => (v === level ? 1 : 0));
  const dense = fitLogisticRegression(
    {
      features: ['x', 'a=p', 'a=q', 'a=r', 'b=u', 'b=v'],
      columns: [Float64Array.from(x), indicator(a, 'p'), indicator(a, 'q'), indicator(a, 'r'), indicator(b, 'u'), indicator(b, 'v')],
      target: y,
    },
    settings,
  );
  const sparseWeights = [...sparse.coefficients, ...sparse.categorical.flatMap((entry) => entry.coefficients)];
  sparseWeights.forEach((w, k) => assertClose(w, dense.coefficients[k], 1e-9, `weight ${k}`));
  assertClose(sparse.intercept, dense.intercept, 1e-9, 'intercept');
  assert.deepEqual(
    sparse.categorical.map((entry) => entry.counts),
    [
      [134, 133, 133],
      [a.length - b.filter((v) => v === 'v').length, b.filter((v) => v === 'v').length],
    ],
  );
});

function toCodes(values: string[]): { levels: string[]; codes: Int32Array } {
  const column = categoryColumn('x', values);
  return { levels: column.levels, codes: column.codes };
}

test('a wrong categorical entry in the model file is named', async () => {
  const project = categoricalProject();
  await runIngestion(project.config);
  const good = JSON.parse(fs.readFileSync((await runTraining(project.config)).model_file, 'utf8')) as ModelFile;
  const cases: [string, (m: ModelFile) => unknown, RegExp][] = [
    ['no categorical list', (m) => ({ ...m, categorical: undefined }), /categorical: missing/],
    [
      'levels out of order',
      (m) => withEntry(m, { levels: [...m.categorical[1].levels].reverse() }),
      /categorical\.1 \("plan"\): levels must be distinct and sorted/,
    ],
    [
      'a coefficient short',
      (m) => withEntry(m, { coefficients: m.categorical[1].coefficients.slice(1) }),
      /categorical\.1 \("plan"\): coefficients has 2 values for 3 levels/,
    ],
    ['a count short', (m) => withEntry(m, { counts: [1] }), /categorical\.1 \("plan"\): counts has 1 values for 3 levels/],
    ['a non-finite coefficient', (m) => withEntry(m, { coefficients: [1, 'x', 2] }), /categorical\.1\.coefficients\.1/],
    [
      'a feature both numeric and categorical',
      (m) => withEntry(m, { feature: 'usage' }),
      /categorical\.1 \("usage"\): the feature is listed twice/,
    ],
  ];
  for (const [name, change, message] of cases) {
    assert.throws(() => validateModelFile(change(structuredClone(good)), 'm.json'), message, name);
  }
});

function withEntry(model: ModelFile, change: Record<string, unknown>): ModelFile {
  model.categorical[1] = { ...model.categorical[1], ...change };
  return model;
}

test('on large data the warm-started fit with a kept Hessian reaches the same optimum as plain Newton', () => {
  // Over 4 x 50,000 rows the fit starts from a subsample's optimum and keeps the Hessian while steps shrink fast.
  const n = 210_000;
  let seed = 11;
  const random = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296;
  const x = new Float64Array(n);
  const levels = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
  const cells: string[] = [];
  const flags: string[] = [];
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = random() * 10;
    cells.push(levels[Math.floor(random() * levels.length)]);
    flags.push(random() < 0.3 ? 'yes' : 'no');
    const eta = -1 + 0.2 * x[i] + (cells[i] < 'c' ? 0.7 : -0.2) + (flags[i] === 'yes' ? 0.5 : 0);
    y[i] = random() < 1 / (1 + Math.exp(-eta)) ? 1 : 0;
  }
  const data = () => ({
    features: ['x'],
    columns: [Float64Array.from(x)],
    categories: [
      { feature: 'cell', ...toCodes(cells) },
      { feature: 'flag', ...toCodes(flags) },
    ],
    target: y,
  });
  const settings = { objective: 'standardized' as const, C: 1, max_iter: 100, tol: 1e-10 };
  const warm = fitLogisticRegression(data(), settings);
  const plain = fitLogisticRegression(data(), settings, { warmStart: false });
  assert.equal(warm.convergence.converged, true);
  assertClose(warm.intercept, plain.intercept, 1e-7, 'intercept');
  assertClose(warm.coefficients[0], plain.coefficients[0], 1e-7, 'x');
  warm.categorical.forEach((entry, c) =>
    entry.coefficients.forEach((w, k) =>
      assertClose(w, plain.categorical[c].coefficients[k], 1e-7, `${entry.feature}: ${entry.levels[k]}`),
    ),
  );
});
