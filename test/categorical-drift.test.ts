/**
 * Data drift of a categorical feature: PSI over the training levels plus an
 * "unseen" bin, and the chi-square test of the level counts, equal to
 * scipy.stats.chi2_contingency (values in test/fixtures/expected/categorical.json
 * from test/reference/make_categorical.py, and scipy values written below).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { readDataset } from '../src/lib/data/dataset.js';
import { categoryColumn } from '../src/lib/data/levels.js';
import { measureLevelDrift } from '../src/lib/model/drift.js';
import { chiSquareContingency, chiSquareSurvival } from '../src/lib/model/stats.js';
import { validateConfig } from '../src/lib/config.js';
import { FIXTURES, assertClose } from './helpers.js';

const WANTED = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'expected', 'categorical.json'), 'utf8'));
const SETTINGS = { psi_threshold: 0.2, ks_alpha: 0.05 };

function relative(actual: number, wanted: number, tolerance: number, what: string): void {
  assertClose(actual, wanted, tolerance * Math.abs(wanted), what);
}

test('chi-square survival equals scipy.stats.chi2.sf, tiny tails included', () => {
  const cases: [number, number, number][] = [
    [1000, 3, 1.7994208765314067e-216],
    [3.841458820694124, 1, 0.04999999999999989],
    [30, 40, 0.8752187849674751],
    [2.5, 7, 0.9270970650134738],
    [60, 60, 0.4757169861063199],
  ];
  for (const [x, dof, p] of cases) relative(chiSquareSurvival(x, dof), p, 1e-9, `sf(${x}, ${dof})`);
});

test('the contingency test equals scipy.stats.chi2_contingency (Yates at one degree of freedom, empty columns dropped)', () => {
  const yates = chiSquareContingency([10, 20], [30, 5]);
  relative(yates.statistic, 16.57848214285714, 1e-12, 'statistic, 1 dof');
  relative(yates.pvalue, 4.667763281513949e-5, 1e-9, 'p-value, 1 dof');
  assert.equal(yates.dof, 1);
  const sparse = chiSquareContingency([100, 0, 3, 0], [50, 7, 0, 0]);
  relative(sparse.statistic, 14.652813262930788, 1e-12, 'statistic, 2 dof');
  relative(sparse.pvalue, 0.0006579335421805413, 1e-9, 'p-value, 2 dof');
  assert.equal(sparse.dof, 2);
  assert.deepEqual(chiSquareContingency([5, 0], [3, 0]), { statistic: 0, pvalue: 1, dof: 0 });
});

test('drift of each categorical feature of the fixture: chi-square as scipy, PSI over levels plus unseen', () => {
  const config = validateConfig(
    {
      input_folder_path: 'a',
      output_folder_path: 'b',
      test_data_path: 'c',
      output_model_path: 'd',
      prod_deployment_path: 'e',
      schema: WANTED.schema,
    },
    '/tmp/config.json',
    false,
  );
  const data = readDataset(path.join(FIXTURES, 'categorical', 'sourcedata', 'new.csv'), config.schema);
  for (const [c, feature] of (WANTED.schema.categorical_features as string[]).entries()) {
    const wanted = WANTED.chi2_train_vs_new[feature];
    const levels: string[] = WANTED.levels[feature];
    const counts: number[] = wanted.training_counts.slice(0, levels.length);
    const drift = measureLevelDrift({ levels, counts }, data.categories[c], SETTINGS);
    relative(drift.chi2_statistic, wanted.statistic, 1e-10, `${feature}: chi-square statistic`);
    relative(drift.chi2_pvalue, wanted.pvalue, 1e-8, `${feature}: chi-square p-value`);
    assert.equal(drift.chi2_dof, wanted.dof, `${feature}: dof`);
    assert.deepEqual(drift.psi_bins.levels, [...levels, null]);
    const newRows: number = wanted.new_counts.reduce((a: number, b: number) => a + b, 0);
    drift.psi_bins.actual.forEach((share, k) => assertClose(share, wanted.new_counts[k] / newRows, 1e-15, `${feature}: share ${k}`));
    // The new data moved the shares of state and contract; plan only gained an unseen level ("gold").
    if (feature === 'plan') assert.ok(drift.psi > 0 && drift.psi_bins.actual[levels.length] > 0, `plan: PSI ${drift.psi}`);
    else assert.ok(drift.psi >= 0.2 && drift.drifted, `${feature} moved: PSI ${drift.psi}`);
  }
});

test('the same levels in the same shares do not drift; a new level lands in the unseen bin', () => {
  const training = { levels: ['a', 'b', 'c'], counts: [500, 300, 200] };
  const same = measureLevelDrift(training, categoryColumn('x', [...'a'.repeat(50), ...'b'.repeat(30), ...'c'.repeat(20)]), SETTINGS);
  assertClose(same.psi, 0, 1e-12, 'PSI of identical shares');
  assertClose(same.chi2_statistic, 0, 1e-12, 'chi-square of identical shares');
  assert.equal(same.drifted, false);
  const unseen = measureLevelDrift(training, categoryColumn('x', ['a', 'z', 'z', 'b']), SETTINGS);
  assert.deepEqual(unseen.psi_bins.actual, [0.25, 0.25, 0, 0.5]);
  assert.deepEqual(unseen.psi_bins.expected, [0.5, 0.3, 0.2, 0]);
});
