/**
 * Categorical features and a labelled target through every stage and endpoint:
 * the tick loop (bootstrap, a drift check on a category, the report and the
 * risk list), /prediction and /invocations with levels as text, /risk reasons
 * that add up to the log-odds, /summarystats per level, the unseen-level
 * metric and the OpenAPI document; and bad input refused with exit 2, nothing written.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import request from 'supertest';
import { runFullprocess } from '../src/fullprocess.js';
import { runIngestion } from '../src/ingestion.js';
import { runTraining } from '../src/training.js';
import { parseCsvText } from '../src/lib/data/csv.js';
import { readDataset } from '../src/lib/data/dataset.js';
import { categoryColumn } from '../src/lib/data/levels.js';
import { UserError } from '../src/lib/errors.js';
import { loadModelFile, predictProbabilities, schemaForModel, type ModelFile } from '../src/lib/model/model-file.js';
import { buildRiskList, explainRow, reasonPhrases } from '../src/lib/report/risk-list.js';
import { assertNoContractViolations, servedApp } from './api-contract.js';
import { FIXTURES, assertClose, deployedProject, makeProject, snapshot, tempFolder } from './helpers.js';

after(assertNoContractViolations);

const CATEGORICAL = path.join(FIXTURES, 'categorical');
const SCHEMA = {
  id_column: 'client_id',
  features: ['usage', 'tenure'],
  categorical_features: ['state', 'plan', 'contract'],
  target: 'churn',
  target_labels: ['no', 'yes'],
};
const project = (extra: Record<string, unknown> = {}) =>
  makeProject({
    input: path.join(CATEGORICAL, 'practicedata'),
    testData: path.join(CATEGORICAL, 'testdata'),
    extra: { schema: SCHEMA, automation: { settle_seconds: 0 }, diagnostics: { outdated_timeout_ms: 100 }, ...extra },
  });

test('the tick loop runs on categorical data: bootstrap, a drift check on the categories, report and risk list', async () => {
  const { config, input } = project();
  const boot = await runFullprocess(config);
  assert.equal(boot.outcome, 'bootstrapped', boot.error ?? '');
  fs.copyFileSync(path.join(CATEGORICAL, 'sourcedata', 'new.csv'), path.join(input, 'new.csv'));
  const tick = await runFullprocess(config);
  assert.ok(['redeployed', 'no-drift', 'rejected'].includes(tick.outcome), `${tick.outcome}: ${tick.error ?? tick.decision}`);
  const drift = tick.data_drift!;
  assert.equal(drift.state.kind, 'categorical');
  assert.equal(drift.state.drifted, true, 'the state shares moved');
  assert.equal(drift.contract.drifted, true, 'the contract shares moved');
  assert.equal(drift.usage.kind, undefined, 'numeric features keep KS');
  const models = config.output_model_path;
  assert.ok(fs.statSync(path.join(models, 'report.pdf')).size > 10_000);
  const risk = fs.readFileSync(path.join(models, 'riskscores.csv'), 'utf8');
  const rows: string[][] = [];
  parseCsvText(risk, 'riskscores.csv', (fields) => void rows.push(fields ?? []));
  assert.deepEqual(rows[0], ['rank', 'client_id', 'probability', 'usage', 'tenure', 'state', 'plan', 'contract', 'reasons']);
  assert.match(risk, /contract: month-to-month \(raises the risk\)/);
});

describe('the API serves a categorical model', async () => {
  const served = await deployedProject({
    input: path.join(CATEGORICAL, 'practicedata'),
    testData: path.join(CATEGORICAL, 'testdata'),
    extra: { schema: SCHEMA },
  });
  const model = loadModelFile(path.join(served.config.prod_deployment_path, 'current', 'trainedmodel.json'));
  const app = servedApp(served.config);
  const expectOf = (rows: { usage: number; tenure: number; state: string; plan: string; contract: string }[]): number[] =>
    Array.from(
      predictProbabilities(
        model,
        [Float64Array.from(rows, (r) => r.usage), Float64Array.from(rows, (r) => r.tenure)],
        (['state', 'plan', 'contract'] as const).map((feature) =>
          categoryColumn(
            feature,
            rows.map((r) => r[feature]),
          ),
        ),
      ),
    );
  const ROWS = [
    { usage: 120, tenure: 3, state: 'CA', plan: 'basic', contract: 'month-to-month' },
    { usage: 300, tenure: 100, state: '5', plan: 'premium', contract: 'two year' },
    { usage: 200, tenure: 50, state: 'never-seen', plan: 'gold', contract: '' },
  ];

  test('POST /prediction takes levels as strings, a number as its text, a missing key as the empty level', async () => {
    const records = [ROWS[0], { ...ROWS[1], state: 5 }, { usage: 200, tenure: 50, state: 'never-seen', plan: 'gold' }];
    const res = await request(app).post('/prediction').send({ records });
    assert.equal(res.status, 200, res.text);
    const wanted = expectOf(ROWS);
    (res.body.probabilities as number[]).forEach((p, i) => assertClose(p, wanted[i], 1e-15, `row ${i}`));
    assert.deepEqual(res.body.unseen_levels, { state: 1, plan: 1, ...(model.categorical[2].levels.includes('') ? {} : { contract: 1 }) });
    const metrics = await request(app).get('/metrics');
    assert.match(metrics.text, /risk_unseen_levels_total\{feature="state"\} 1/);
  });

  test('CSV, a named file and /invocations formats give the same probabilities', async () => {
    const csv =
      'usage,tenure,state,plan,contract\n' + ROWS.map((r) => [r.usage, r.tenure, r.state, r.plan, r.contract].join(',')).join('\n');
    const wanted = expectOf(ROWS);
    const answers = [
      (await request(app).post('/prediction').type('text/csv').send(csv)).body.probabilities as number[],
      (await request(app).post('/invocations').send({ dataframe_records: ROWS })).body.predictions as number[],
      (
        await request(app)
          .post('/invocations')
          .send({ dataframe_split: { columns: Object.keys(ROWS[0]), data: ROWS.map((r) => Object.values(r)) } })
      ).body.predictions as number[],
      (await request(app).post('/invocations').type('text/csv').send(csv)).body.predictions as number[],
    ];
    answers[0].forEach((p, i) => assertClose(p, wanted[i], 1e-15, `CSV row ${i}`));
    for (const predictions of answers.slice(1))
      assert.deepEqual(
        predictions,
        wanted.map((p) => (p > 0.5 ? 1 : 0)),
      );
    const file = await request(app).post('/prediction').send({ file_location: 'testdata/testdata.csv' });
    assert.equal(file.status, 200, file.text);
    assert.equal(file.body.probabilities.length, 600);
    assert.ok(file.body.unseen_levels.state > 0);
  });

  test('a level must be text: an object for a categorical feature is a 400 naming it', async () => {
    const res = await request(app)
      .post('/prediction')
      .send({ records: [{ ...ROWS[0], plan: { a: 1 } }] });
    assert.equal(res.status, 400);
    assert.match(res.body.error, /records\[0\]\.plan: expected a level as a string, got object/);
  });

  test('GET /risk gives level reasons, and /summarystats the levels of each categorical column', async () => {
    const risk = await request(app).get('/risk?top=5');
    assert.equal(risk.status, 200, risk.text);
    const reasons = risk.body.clients[0].reasons as { feature: string; value: unknown }[];
    assert.equal(typeof reasons.find((r) => r.feature === 'state')!.value, 'string');
    const summary = await request(app).get('/summarystats');
    assert.equal(summary.status, 200, summary.text);
    const state = summary.body.categorical.state;
    assert.ok(state.levels >= 50, `${state.levels} levels`);
    assert.ok(state.missing > 0 && state.missing_percent > 0);
    assert.equal(state.top.length, 10);
    assert.ok(state.top[0].count >= state.top[1].count);
  });

  test('the OpenAPI document describes each feature of the served model with its type', async () => {
    const document = (await request(app).get('/openapi.json')).body;
    const record = document.components.schemas.Record;
    assert.deepEqual(record.required, ['usage', 'tenure']);
    // A numeric feature: a number, null, or a string the CSV reader takes as a number; a level: any text.
    assert.match(record.properties.usage.description, /^Numeric feature/);
    assert.deepEqual(
      record.properties.usage.anyOf.map((schema: { type: unknown }) => schema.type),
      [['number', 'null'], 'string'],
    );
    assert.match(record.properties.state.description, /^Categorical feature/);
    assert.deepEqual(record.properties.state.type, ['string', 'number', 'boolean', 'null']);
  });
});

test('reasons: a level contributes its coefficient minus the training-share-weighted mean; the adjusted intercept plus all terms is the log-odds', async () => {
  const { config } = project();
  await runIngestion(config);
  const model = loadModelFile((await runTraining(config)).model_file);
  const data = readDataset(path.join(config.test_data_path, 'testdata.csv'), schemaForModel(config.schema, model));
  const probabilities = predictProbabilities(model, data.columns, data.categories);
  for (let row = 0; row < data.rows; row += 37) {
    const explanation = explainRow(model, data.columns, row, data.categories);
    const total = explanation.contributions.reduce((sum, c) => sum + c.contribution, explanation.intercept);
    assertClose(total, explanation.logOdds, 1e-12, `row ${row}: intercept + contributions`);
    assertClose(1 / (1 + Math.exp(-explanation.logOdds)), probabilities[row], 1e-12, `row ${row}: log-odds`);
    const plan = explanation.contributions.find((c) => c.feature === 'plan')!;
    const entry = model.categorical[1];
    const k = entry.levels.indexOf(plan.value as string);
    const rows = entry.counts.reduce((a, b) => a + b, 0);
    const baseline = entry.levels.reduce((sum, _, j) => sum + (entry.counts[j] / rows) * entry.coefficients[j], 0);
    assertClose(plan.contribution, (k === -1 ? 0 : entry.coefficients[k]) - baseline, 1e-12, `row ${row}: plan's term`);
  }
  const list = buildRiskList(data, config.schema, model);
  const phrases = list.clients.flatMap((client) => reasonPhrases(model, list.explain(client)));
  assert.ok(
    phrases.some((phrase) => /^contract: month-to-month \(raises the risk\)$/.test(phrase)),
    phrases.slice(0, 5).join(' | '),
  );
});

/** A project whose input folder holds `train.csv` with one line changed (`change` of the original lines). */
function projectWithInput(change: (lines: string[]) => string[], extra: Record<string, unknown> = {}) {
  const folder = tempFolder();
  const lines = fs.readFileSync(path.join(CATEGORICAL, 'practicedata', 'train.csv'), 'utf8').split('\n');
  fs.writeFileSync(path.join(folder, 'train.csv'), change(lines).join('\n'));
  return makeProject({ input: folder, testData: path.join(CATEGORICAL, 'testdata'), extra: { schema: SCHEMA, ...extra } });
}

const setCell = (lines: string[], line: number, column: number, value: string): string[] =>
  lines.map((text, i) =>
    i === line - 1
      ? text
          .split(',')
          .map((cell, c) => (c === column ? value : cell))
          .join(',')
      : text,
  );

const BAD: [string, () => ReturnType<typeof project>, RegExp][] = [
  [
    'a target outside the labels',
    () => projectWithInput((lines) => setCell(lines, 5, 6, 'Yes')),
    /train\.csv:5, column "churn": target must be "no" or "yes" \(schema\.target_labels, compared exactly\), found "Yes"/,
  ],
  [
    'an empty labelled target',
    () => projectWithInput((lines) => setCell(lines, 9, 6, '')),
    /train\.csv:9, column "churn": target must be "no" or "yes".*found an empty cell/,
  ],
  [
    'a numeric feature holding text',
    () => projectWithInput((lines) => setCell(lines, 7, 1, 'twelve')),
    /train\.csv:7, column "usage": "twelve" is not a finite number/,
  ],
  [
    'a categorical column missing from the header',
    () => projectWithInput((lines) => lines.map((line) => line.split(',').slice(0, 4).concat(line.split(',').slice(5)).join(','))),
    /train\.csv:1, column "plan": missing required column "plan"/,
  ],
];

for (const [name, make, message] of BAD) {
  test(`bad categorical input is refused with exit 2, nothing written: ${name}`, async () => {
    const { config, root } = make();
    const before = snapshot(root);
    await assert.rejects(
      () => runIngestion(config),
      (error: unknown) => error instanceof UserError && error.exitCode === 2 && message.test(error.message),
    );
    assert.deepEqual(snapshot(root), before);
  });
}

test('a categorical column also listed as numeric is a config error (exit 2) before anything is read or written', () => {
  assert.throws(
    () => project({ schema: { ...SCHEMA, features: ['usage', 'tenure', 'plan'] } }),
    (error: unknown) =>
      error instanceof UserError &&
      error.exitCode === 2 &&
      /schema\.categorical_features: "plan" is also listed in schema\.features/.test(error.message),
  );
});

test('duplicates compare categorical cells as written: "5" and "5.0" are two rows, an exact repeat is one', async () => {
  const header = 'client_id,usage,tenure,state,plan,contract,churn';
  const folder = tempFolder();
  fs.writeFileSync(
    path.join(folder, 'a.csv'),
    [header, 'c1,10,1,5,basic,one year,no', 'c1,10,1,5.0,basic,one year,no', 'c1,10.0,1,5,basic,one year,no', 'c2,3,2,x,plus,,yes'].join(
      '\n',
    ) + '\n',
  );
  fs.writeFileSync(path.join(folder, 'b.csv'), [header, '"c1",10,1,"5",basic,one year,no', 'c2,3,2,x,plus,,yes '].join('\n') + '\n');
  const { config, input } = makeProject({ input: folder, testData: path.join(CATEGORICAL, 'testdata'), extra: { schema: SCHEMA } });
  await assert.rejects(() => runIngestion(config), /b\.csv:3, column "churn": target must be "no" or "yes".*found "yes "/);
  fs.writeFileSync(path.join(input, 'b.csv'), [header, '"c1",10,1,"5",basic,one year,no', 'c2,3,2,x ,plus,,yes'].join('\n') + '\n');
  const result = await runIngestion(config);
  // Kept: c1 with "5", c1 with "5.0", c2 with "x", c2 with "x " (10 and 10.0 are one number, a quoted "5" is 5).
  assert.equal(result.rows_kept, 4);
});

test('a model with categories predicts the same from a model file read back (levels and counts stored)', async () => {
  const { config } = project();
  await runIngestion(config);
  const file = (await runTraining(config)).model_file;
  const model: ModelFile = JSON.parse(fs.readFileSync(file, 'utf8'));
  assert.deepEqual(Object.keys(model.categorical[0]), ['feature', 'levels', 'counts', 'coefficients']);
  assert.equal(model.categorical[0].feature, 'state');
  assert.equal(
    model.categorical[0].counts.reduce((a, b) => a + b, 0),
    model.training.rows,
  );
});
