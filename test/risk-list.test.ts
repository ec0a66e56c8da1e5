/**
 * The risk list on small hand-made data: a client is an id, its newest row
 * decides, leavers and empty ids are never listed, one row an id, riskiest
 * first; the log-odds taken apart add up; the words and the CSV.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'csv-parse/sync';
import type { Dataset } from '../src/lib/data/dataset.js';
import type { ModelFile } from '../src/lib/model/model-file.js';
import { predictProbabilities } from '../src/lib/model/model-file.js';
import { buildRiskList, describeContribution, explainRow, reasonPhrases, riskListCsv } from '../src/lib/report/risk-list.js';
import { featureLabel } from '../src/lib/wording.js';
import { assertClose } from './helpers.js';

/** A two-feature standardized model: activity lowers the risk, complaints raise it. */
function makeModel(overrides: Partial<ModelFile> = {}): ModelFile {
  return {
    kind: 'logistic-regression',
    format_version: 1,
    features: ['lastmonth_activity', 'complaints'],
    target: 'churned',
    standardization: { mean: [100, 2], std: [50, 1] },
    coefficients: [-1.5, 0.8],
    intercept: -0.4,
    categorical: [],
    imputation: { lastmonth_activity: 90, complaints: 1 },
    hyperparameters: { penalty: 'l2', C: 1, objective: 'standardized', intercept_penalized: false, max_iter: 100, tol: 1e-10 },
    convergence: { converged: true, iterations: 5, gradient_max: 0, objective_value: 0 },
    training: { rows: 10, data_file: 'x.csv', data_sha256: '0', trained_at: '2026-01-01T00:00:00Z', package_version: '0', duration_ms: 1 },
    ...overrides,
  };
}

/** A dataset from rows of [id, activity, complaints, target]; NaN is a missing cell. */
function makeData(rows: [string, number, number, 0 | 1][]): Dataset {
  return {
    features: ['lastmonth_activity', 'complaints'],
    columns: [Float64Array.from(rows.map((r) => r[1])), Float64Array.from(rows.map((r) => r[2]))],
    categories: [],
    target: Uint8Array.from(rows.map((r) => r[3])),
    ids: rows.map((r) => r[0]),
    rows: rows.length,
    missing: [0, 0],
  };
}

const ROWS: [string, number, number, 0 | 1][] = [
  ['acme', 150, 1, 0],
  ['bolt', 20, 5, 0], // later left
  ['cora', 60, 3, 1], // left, later came back
  ['acme', 30, 4, 0], // acme's newest row: riskier now
  ['', 10, 9, 0], // no id: nobody to call
  ['bolt', 25, 5, 1],
  ['cora', 80, NaN, 0],
  ['dune', 200, 0, 0],
];

test('the newest row of each id decides; leavers and empty ids are not listed; riskiest first', () => {
  const model = makeModel();
  const data = makeData(ROWS);
  const list = buildRiskList(data, { id_column: 'client' }, model);
  const p = predictProbabilities(model, data.columns);
  assert.deepEqual(
    list.clients.map((c) => [c.id, c.row]),
    [
      ['acme', 3],
      ['cora', 6],
      ['dune', 7],
    ],
  );
  for (const client of list.clients) assert.equal(client.probability, p[client.row]);
  assert.deepEqual(
    { rows: list.rows, ids: list.ids, left: list.left, unidentified: list.unidentified },
    { rows: 8, ids: 4, left: 1, unidentified: 1 },
  );
  assert.equal(list.idColumn, 'client');
});

test('ties keep the order of the newest rows', () => {
  const list = buildRiskList(
    makeData([
      ['b', 100, 2, 0],
      ['a', 100, 2, 0],
      ['b', 100, 2, 0],
    ]),
    { id_column: 'id' },
    makeModel(),
  );
  assert.deepEqual(
    list.clients.map((c) => c.id),
    ['a', 'b'],
  );
});

test('unlabelled data or data read with other features is refused', () => {
  const data = makeData(ROWS);
  assert.throws(() => buildRiskList({ ...data, target: undefined }, { id_column: 'id' }, makeModel()), TypeError);
  assert.throws(() => buildRiskList({ ...data, features: ['a', 'b'] }, { id_column: 'id' }, makeModel()), TypeError);
});

test('intercept plus every contribution is the log-odds, with missing cells imputed; largest first', () => {
  for (const model of [makeModel(), makeModel({ standardization: null, coefficients: [-0.02, 0.5] })]) {
    const data = makeData(ROWS);
    const p = predictProbabilities(model, data.columns);
    for (let row = 0; row < data.rows; row++) {
      const explanation = explainRow(model, data.columns, row);
      const sum = explanation.contributions.reduce((total, c) => total + c.contribution, explanation.intercept);
      assertClose(sum, Math.log(p[row] / (1 - p[row])), 1e-9, `log-odds of row ${row}`);
      assertClose(explanation.logOdds, sum, 1e-12, 'logOdds');
      const sorted = explanation.contributions.map((c) => c.contribution);
      assert.deepEqual(
        sorted,
        [...sorted].sort((a, b) => b - a),
      );
    }
  }
  const missing = explainRow(makeModel(), makeData(ROWS).columns, 6).contributions.find((c) => c.feature === 'complaints')!;
  assert.equal(missing.value, null);
  assertClose(missing.contribution, 0.8 * ((1 - 2) / 1), 1e-12, 'imputed contribution');
});

test('featureLabel turns column names into words', () => {
  const cases: [string, string][] = [
    ['lastmonth_activity', 'last-month activity'],
    ['lastyear_activity', 'last-year activity'],
    ['number_of_employees', 'number of employees'],
    ['numberOfEmployees', 'number of employees'],
    ['MRR_growth', 'MRR growth'],
    ['nextquarter-forecast', 'next-quarter forecast'],
    ['x', 'x'],
    ['__', '__'],
  ];
  for (const [name, label] of cases) assert.equal(featureLabel(name), label, name);
});

test('reasons are the largest terms that raise the risk, in words', () => {
  const model = makeModel();
  const data = makeData([['acme', 10, 6, 0]]);
  const explanation = explainRow(model, data.columns, 0);
  assert.deepEqual(reasonPhrases(model, explanation), [
    'complaints very far above typical (6 vs 2)',
    'last-month activity far below typical (10 vs 100)',
  ]);
  const calm = explainRow(model, makeData([['dune', 200, 0, 0]]).columns, 0);
  assert.deepEqual(reasonPhrases(model, calm), ['no feature raises the risk above a typical client']);
  const cases: [number, string][] = [
    [100, 'about typical'],
    [80, 'slightly below typical'],
    [140, 'above typical'],
    [40, 'far below typical'],
    [250, 'very far above typical'],
  ];
  for (const [value, words] of cases) {
    const c = explainRow(model, makeData([['x', value, 2, 0]]).columns, 0).contributions.find((k) => k.feature === 'lastmonth_activity')!;
    assert.match(describeContribution(model, c), new RegExp(`^last-month activity ${words} \\(`), String(value));
  }
  const unrecorded = explainRow(model, makeData([['x', NaN, 2, 0]]).columns, 0).contributions.find(
    (k) => k.feature === 'lastmonth_activity',
  )!;
  assert.equal(describeContribution(model, unrecorded), 'last-month activity not recorded (taken as the usual 90)');
});

test('riskscores.csv: rank, id, probability, the features, reasons; ids quoted when needed, full precision', () => {
  const model = makeModel();
  const data = makeData([
    ['Acme, Inc. "East"', 30, 4, 0],
    ['dune', 200, NaN, 0],
    ['gone', 10, 9, 1],
  ]);
  const list = buildRiskList(data, { id_column: 'client' }, model);
  const text = [...riskListCsv(list, model, data)].join('');
  const records = parse<Record<string, string>>(text, { columns: true });
  assert.deepEqual(Object.keys(records[0]), ['rank', 'client', 'probability', 'lastmonth_activity', 'complaints', 'reasons']);
  assert.deepEqual(
    records.map((r) => [r.rank, r.client, r.lastmonth_activity, r.complaints]),
    [
      ['1', 'Acme, Inc. "East"', '30', '4'],
      ['2', 'dune', '200', ''],
    ],
  );
  records.forEach((r, i) => assert.equal(Number(r.probability), list.clients[i].probability));
  assert.equal(records[0].reasons, reasonPhrases(model, list.explain(list.clients[0])).join('; '));
});
