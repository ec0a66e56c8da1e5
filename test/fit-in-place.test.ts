/**
 * fitLogisticRegression leaves its input alone by default; with `inPlace` it
 * imputes and standardizes the given columns instead of copying them, and the
 * fit is the same.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fitLogisticRegression, type FitSettings } from '../src/lib/model/fit.js';
import { Random, drawClient } from '../src/lib/data/generator.js';

function clients(rows: number): { features: string[]; columns: Float64Array[]; target: Uint8Array } {
  const random = new Random(5);
  const columns = [new Float64Array(rows), new Float64Array(rows), new Float64Array(rows)];
  const target = new Uint8Array(rows);
  for (let i = 0; i < rows; i++) {
    const client = drawClient(random, { drift: 1, conceptDrift: 0 });
    columns[0][i] = i % 11 === 0 ? NaN : client.lastmonth_activity;
    columns[1][i] = client.lastyear_activity;
    columns[2][i] = client.number_of_employees;
    target[i] = client.exited;
  }
  return { features: ['lastmonth_activity', 'lastyear_activity', 'number_of_employees'], columns, target };
}

for (const objective of ['standardized', 'liblinear'] as const) {
  test(`${objective}: the in-place fit equals the copying one, which leaves its input unchanged`, () => {
    const settings: FitSettings = { objective, C: 1, max_iter: 100, tol: 1e-10 };
    const input = clients(5000);
    const before = input.columns.map((column) => Float64Array.from(column));
    const copying = fitLogisticRegression(input, settings);
    input.columns.forEach((column, f) => assert.deepEqual(column, before[f], `column ${f} untouched`));
    const inPlace = fitLogisticRegression(input, settings, { inPlace: true });
    assert.deepEqual([inPlace.intercept, ...inPlace.coefficients], [copying.intercept, ...copying.coefficients]);
    assert.deepEqual(inPlace.standardization, copying.standardization);
    assert.ok(
      input.columns.every((column) => column.every(Number.isFinite)),
      'the columns now hold the imputed design values',
    );
    const { mean, std } = copying.standardization ?? { mean: [0, 0, 0], std: [1, 1, 1] };
    const fill = copying.imputation[0];
    assert.equal(input.columns[0][0], (fill - mean[0]) / std[0], 'a missing cell holds its imputed, scaled value');
  });
}
