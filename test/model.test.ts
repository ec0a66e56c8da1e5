/**
 * The model: predicted probabilities agree with scikit-learn's converged fits
 * (values in test/fixtures/expected, made by test/reference/make_expected.py),
 * metrics equal sklearn's, hard data stays finite, and the model file is validated.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { runIngestion } from '../src/ingestion.js';
import { readDataset } from '../src/lib/data/dataset.js';
import { DataError, UserError } from '../src/lib/errors.js';
import { fitLogisticRegression, type FitSettings } from '../src/lib/model/fit.js';
import { loadModelFile, predictProbabilities, validateModelFile } from '../src/lib/model/model-file.js';
import { runScoring } from '../src/scoring.js';
import { runTraining } from '../src/training.js';
import { Random, drawClient } from '../src/lib/data/generator.js';
import { FIXTURES, REFERENCE_DATA, REPO, assertClose, expected, makeProject, tempFolder } from './helpers.js';

const SETS: [string, 'reference' | 'generated' | 'shipped', string][] = [
  ['original reference data', 'reference', REFERENCE_DATA],
  ['generated data with missing cells', 'generated', path.join(FIXTURES, 'generated')],
  ['shipped data', 'shipped', REPO],
];

const METRIC_KEYS = ['f1', 'precision', 'recall', 'accuracy', 'roc_auc'] as const;

for (const [label, name, root] of SETS) {
  for (const part of ['practice', 'source'] as const) {
    for (const objective of ['standardized', 'liblinear'] as const) {
      const skip = fs.existsSync(root) ? false : 'reference data not present beside the repository';
      test(`${objective} fit on ${part} of the ${label} matches scikit-learn`, { skip }, async () => {
        const wanted = expected(name)[part].models[objective === 'standardized' ? 'standardized' : 'liblinear_converged'];
        const project = makeProject({
          input: path.join(root, `${part}data`),
          testData: path.join(root, 'testdata'),
          extra: { model: { objective } },
        });
        await runIngestion(project.config);
        const trained = await runTraining(project.config);
        assert.equal(trained.converged, true);
        const model = loadModelFile(trained.model_file);
        const features = model.features;
        features.forEach((feature, f) => assert.equal(model.imputation[feature], wanted.imputer_statistics[f], `median of ${feature}`));
        if (objective === 'standardized') {
          features.forEach((_, f) => {
            assertClose(
              model.standardization!.mean[f],
              wanted.scaler_mean[f],
              1e-9 * Math.abs(wanted.scaler_mean[f]) + 1e-12,
              'scaler mean',
            );
            assertClose(model.standardization!.std[f], wanted.scaler_scale[f], 1e-9 * Math.abs(wanted.scaler_scale[f]), 'scaler scale');
          });
        } else {
          assert.equal(model.standardization, null);
        }
        const test = readDataset(path.join(project.config.test_data_path, 'testdata.csv'), project.config.schema);
        const probabilities = predictProbabilities(model, test.columns);
        assert.equal(probabilities.length, wanted.test.proba.length);
        wanted.test.proba.forEach((p: number, i: number) => assertClose(probabilities[i], p, 1e-6, `probability of test row ${i}`));
        features.forEach((_, f) =>
          assertClose(model.coefficients[f], wanted.coef[f], 1e-5 * Math.max(1, Math.abs(wanted.coef[f])), `coefficient ${f}`),
        );
        assertClose(model.intercept, wanted.intercept, 1e-5 * Math.max(1, Math.abs(wanted.intercept)), 'intercept');

        const scored = await runScoring(project.config);
        for (const key of METRIC_KEYS) assertClose(scored[key] as number, wanted.test.metrics[key], 1e-12, key);
        assertClose(scored.log_loss, wanted.test.metrics.log_loss, 1e-6, 'log_loss');
        assert.deepEqual(scored.confusion_matrix, wanted.test.metrics.confusion_matrix);
        assert.equal(fs.readFileSync(path.join(project.config.output_model_path, 'latestscore.txt'), 'utf8').trim(), String(scored.f1));
      });
    }
  }
}

test(
  'the compatibility objective gives the same predictions as sklearn liblinear on the reference data',
  { skip: fs.existsSync(REFERENCE_DATA) ? false : 'reference data absent' },
  async () => {
    const wanted = expected('reference').practice.models.liblinear_sklearn;
    const project = makeProject({
      input: path.join(REFERENCE_DATA, 'practicedata'),
      testData: path.join(REFERENCE_DATA, 'testdata'),
      extra: { model: { objective: 'liblinear' } },
    });
    await runIngestion(project.config);
    await runTraining(project.config);
    const scored = await runScoring(project.config);
    assert.deepEqual(scored.confusion_matrix, wanted.test.metrics.confusion_matrix);
    assertClose(scored.f1, wanted.test.metrics.f1, 1e-12, 'F1');
  },
);

const SETTINGS: FitSettings = { objective: 'standardized', C: 1, max_iter: 100, tol: 1e-10 };

function data(rows: number[][], target: number[]) {
  return {
    features: ['a', 'b'],
    columns: [Float64Array.from(rows, (r) => r[0]), Float64Array.from(rows, (r) => r[1])],
    target: Uint8Array.from(target),
  };
}

const HARD: [string, ReturnType<typeof data>][] = [
  [
    'perfectly separable',
    data(
      [
        [0, 1],
        [1, 1],
        [2, 1],
        [10, 1],
        [11, 1],
        [12, 1],
      ],
      [0, 0, 0, 1, 1, 1],
    ),
  ],
  [
    'a constant column',
    data(
      [
        [1, 5],
        [2, 5],
        [3, 5],
        [4, 5],
      ],
      [0, 1, 0, 1],
    ),
  ],
  [
    'huge and tiny scales',
    data(
      [
        [1e9, 1e-9],
        [2e9, 3e-9],
        [3e9, 2e-9],
        [4e9, 5e-9],
      ],
      [0, 0, 1, 1],
    ),
  ],
  [
    'missing cells',
    data(
      [
        [NaN, 1],
        [2, NaN],
        [3, 3],
        [4, 4],
      ],
      [0, 1, 0, 1],
    ),
  ],
];

for (const [name, input] of HARD) {
  for (const objective of ['standardized', 'liblinear'] as const) {
    test(`${objective}: ${name} gives a finite, converged model`, () => {
      const fit = fitLogisticRegression(input, { ...SETTINGS, objective });
      assert.ok(fit.coefficients.every(Number.isFinite) && Number.isFinite(fit.intercept));
      assert.equal(fit.convergence.converged, true);
    });
  }
}

test('a single-class target or no rows is a clear data error', () => {
  assert.throws(
    () =>
      fitLogisticRegression(
        data(
          [
            [1, 2],
            [3, 4],
          ],
          [1, 1],
        ),
        SETTINGS,
      ),
    (e: unknown) => e instanceof DataError && /only class 1/.test(e.message),
  );
  assert.throws(() => fitLogisticRegression(data([], []), SETTINGS), /no rows to train on/);
  assert.throws(
    () => fitLogisticRegression({ features: ['a'], columns: [Float64Array.from([NaN, NaN])], target: Uint8Array.from([0, 1]) }, SETTINGS),
    /every value of this feature is missing/,
  );
});

test('the same data and settings give the same model file contents', async () => {
  const project = makeProject();
  await runIngestion(project.config);
  const first = loadModelFile((await runTraining(project.config)).model_file);
  const second = loadModelFile((await runTraining(project.config)).model_file);
  assert.deepEqual(
    [first.coefficients, first.intercept, first.standardization, first.imputation],
    [second.coefficients, second.intercept, second.standardization, second.imputation],
  );
});

test('trainedmodel.json holds the documented fields', async () => {
  const project = makeProject();
  await runIngestion(project.config);
  const model = JSON.parse(fs.readFileSync((await runTraining(project.config)).model_file, 'utf8'));
  for (const key of [
    'kind',
    'format_version',
    'features',
    'target',
    'standardization',
    'coefficients',
    'intercept',
    'imputation',
    'hyperparameters',
    'training',
  ])
    assert.ok(key in model, key);
  for (const key of ['rows', 'data_sha256', 'trained_at', 'package_version']) assert.ok(key in model.training, key);
  assert.equal(model.kind, 'logistic-regression');
});

const CORRUPT: [string, (model: any) => unknown, RegExp][] = [
  ['foreign kind', (m) => ({ ...m, kind: 'random-forest' }), /kind: must be "logistic-regression"/],
  ['newer format', (m) => ({ ...m, format_version: 2 }), /format_version/],
  ['coefficient count', (m) => ({ ...m, coefficients: [1] }), /coefficients has 1 values for 3 features/],
  ['non-number coefficient', (m) => ({ ...m, coefficients: ['x', 1, 2] }), /coefficients\.0/],
  ['missing median', (m) => ({ ...m, imputation: {} }), /imputation has no median/],
  ['zero std', (m) => ({ ...m, standardization: { ...m.standardization, std: [0, 1, 1] } }), /standardization\.std\.0: must be > 0/],
  ['not an object', () => 42, /not a valid model file: \(top level\): expected object, got number 42/],
  ['an array', () => [], /not a valid model file: \(top level\): expected object, got an array/],
  ['an array for a record', (m) => ({ ...m, imputation: [] }), /imputation: expected object, got an array/],
  ['a missing field', (m) => ({ ...m, intercept: undefined }), /intercept: missing \(required\)/],
  [
    'a field of the wrong type',
    (m) => ({ ...m, training: { ...m.training, rows: 'many' } }),
    /training\.rows: expected number, got string "many"/,
  ],
];

for (const [name, corrupt, message] of CORRUPT) {
  test(`a corrupt model file is refused, naming what is wrong: ${name}`, async () => {
    const project = makeProject();
    await runIngestion(project.config);
    const file = (await runTraining(project.config)).model_file;
    const model = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.throws(
      () => validateModelFile(corrupt(model), file),
      (e: unknown) => e instanceof UserError && message.test(e.message),
    );
  });
}

test('training and scoring without their inputs are clear errors, and a bad test file changes nothing', async () => {
  const project = makeProject();
  await assert.rejects(runTraining(project.config), /training data not found: .*finaldata\.csv \(run ingestion first\)/);
  await assert.rejects(runScoring(project.config), /model file not found: .*trainedmodel\.json \(run training first\)/);
  await runIngestion(project.config);
  await runTraining(project.config);
  await runScoring(project.config);
  const scoreFile = path.join(project.config.output_model_path, 'latestscore.txt');
  const before = fs.readFileSync(scoreFile, 'utf8');
  const folder = tempFolder();
  const bad: [string, string, RegExp][] = [
    [
      'no-target.csv',
      'corporation,lastmonth_activity,lastyear_activity,number_of_employees\na,1,2,3\n',
      /missing required column "exited"/,
    ],
    [
      'target-7.csv',
      'corporation,lastmonth_activity,lastyear_activity,number_of_employees,exited\na,1,2,3,7\n',
      /target-7\.csv:2, column "exited": target must be 0 or 1/,
    ],
  ];
  for (const [name, content, message] of bad) {
    fs.writeFileSync(path.join(folder, name), content);
    await assert.rejects(runScoring(project.config, { data: path.join(folder, name) }), message);
  }
  fs.writeFileSync(path.join(folder, 'model.json'), '{"kind": "tree"');
  await assert.rejects(runScoring(project.config, { model: path.join(folder, 'model.json') }), /is not valid JSON/);
  assert.equal(fs.readFileSync(scoreFile, 'utf8'), before);
});

test('on large data the warm start from a subsample reaches the same optimum in fewer full passes', () => {
  const random = new Random(17);
  const rows = 250_000;
  const columns = [new Float64Array(rows), new Float64Array(rows), new Float64Array(rows)];
  const target = new Uint8Array(rows);
  for (let i = 0; i < rows; i++) {
    const client = drawClient(random, { drift: 1, conceptDrift: 0 });
    columns[0][i] = client.lastmonth_activity;
    columns[1][i] = client.lastyear_activity;
    columns[2][i] = client.number_of_employees;
    target[i] = client.exited;
  }
  const input = { features: ['lastmonth_activity', 'lastyear_activity', 'number_of_employees'], columns, target };
  for (const objective of ['standardized', 'liblinear'] as const) {
    const cold = fitLogisticRegression(input, { ...SETTINGS, objective }, { warmStart: false });
    const warm = fitLogisticRegression(input, { ...SETTINGS, objective });
    assert.ok(cold.convergence.converged && warm.convergence.converged);
    assert.ok(warm.convergence.iterations < cold.convergence.iterations, `${warm.convergence.iterations} < ${cold.convergence.iterations}`);
    [...cold.coefficients, cold.intercept].forEach((value, i) =>
      assertClose([...warm.coefficients, warm.intercept][i], value, 1e-7 * Math.max(1, Math.abs(value)), `${objective} parameter ${i}`),
    );
  }
});
