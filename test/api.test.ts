/**
 * The HTTP API, driven in-process with supertest: every
 * endpoint's answer, bad input as tables (each a JSON 4xx naming the problem,
 * no stack trace, no server path, and the next good request still served),
 * the bearer token and the security headers. Every answer is checked against
 * the app's OpenAPI document (api-contract.ts). The original's clients are in
 * api-clients.test.ts, MLflow's protocol in api-mlflow.test.ts, the document in
 * api-openapi.test.ts, hot reload in api-reload.test.ts, the apicalls stage in
 * apicalls.test.ts.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import type { AppDeps } from '../src/lib/api/app.js';
import { pathRedactor } from '../src/lib/api/redact.js';
import type { Config } from '../src/lib/config.js';
import { readDataset } from '../src/lib/data/dataset.js';
import type { DependencyReport } from '../src/lib/diagnostics/dependencies.js';
import { loadModelFile, predictProbabilities, type ModelFile } from '../src/lib/model/model-file.js';
import { runDeployment } from '../src/deployment.js';
import { runIngestion } from '../src/ingestion.js';
import { runScoring, type ScoringResult } from '../src/scoring.js';
import { runTraining } from '../src/training.js';
import { assertError, assertNoContractViolations, servedApp, type TestApp } from './api-contract.js';
import { FIXTURES, REPO, assertClose, expected, makeProject, type TempProject } from './helpers.js';

const FEATURES = ['lastmonth_activity', 'lastyear_activity', 'number_of_employees'];
const TIMINGS = { status: 'ok', ingestion_seconds: 0.1, training_seconds: 0.2, rows: 1 } as const;
const DEPENDENCIES: DependencyReport = {
  status: 'ok',
  checked_at: '2025-01-01T00:00:00.000Z',
  duration_ms: 1,
  packages: [{ name: 'express', type: 'dependencies', current: '5.1.0', wanted: '5.1.0', latest: '5.1.0', outdated: false }],
};
const GOOD_RECORD = { lastmonth_activity: 100, lastyear_activity: 1200, number_of_employees: 40 };

after(assertNoContractViolations);

/** The app over a config, with fast offline timings and dependency checks, its answers checked against its OpenAPI document. */
const serve = (config: Config, deps: Partial<AppDeps> = {}): TestApp =>
  servedApp(config, { timings: async () => TIMINGS, dependencies: async () => DEPENDENCIES, ...deps });

/** Runs ingestion, training, scoring and deployment in the project; returns the score. */
async function deploy(project: TempProject): Promise<ScoringResult> {
  await runIngestion(project.config);
  await runTraining(project.config);
  const score = await runScoring(project.config);
  await runDeployment(project.config);
  return score;
}

/** A body sent as raw text with a content type (supertest would otherwise serialize objects). */
function raw(app: TestApp, url: string, contentType: string | null, body: string | Buffer) {
  const req = request(app).post(url);
  if (contentType !== null) req.set('Content-Type', contentType);
  return req.send(contentType === null ? Buffer.from(body) : body);
}

describe('API with a deployed model', () => {
  let project: TempProject;
  let app: TestApp;
  let score: ScoringResult;
  let model: ModelFile;
  let testData: { columns: Float64Array[]; ids: string[]; rows: number; text: string };

  before(async () => {
    project = makeProject();
    score = await deploy(project);
    app = serve(project.config);
    model = loadModelFile(path.join(project.config.prod_deployment_path, 'trainedmodel.json'));
    const file = path.join(project.config.test_data_path, 'testdata.csv');
    const data = readDataset(file, project.config.schema);
    testData = { columns: data.columns, ids: data.ids, rows: data.rows, text: fs.readFileSync(file, 'utf8') };
  });

  /** Asserts a /prediction answer against the deployed model on `columns`. */
  function assertPredictions(body: any, columns: ArrayLike<number>[]): void {
    assert.deepEqual(Object.keys(body).sort(), ['model_version', 'predictions', 'probabilities']);
    const wanted = predictProbabilities(model, columns);
    assert.equal(body.probabilities.length, wanted.length);
    wanted.forEach((p, i) => assertClose(body.probabilities[i], p, 1e-12, `probabilities[${i}]`));
    assert.deepEqual(
      body.predictions,
      body.probabilities.map((p: number) => (p > 0.5 ? 1 : 0)),
    );
    assert.equal(body.model_version, 1);
  }

  function records(rows = testData.rows): Record<string, unknown>[] {
    return Array.from({ length: rows }, (_, i) => ({
      corporation: testData.ids[i],
      ...Object.fromEntries(FEATURES.map((f, c) => [f, testData.columns[c][i]])),
    }));
  }

  test('POST /prediction with {"records"} answers the model probabilities and prob > 0.5', async () => {
    const res = await request(app).post('/prediction').send({ records: records() });
    assert.equal(res.status, 200);
    assertPredictions(res.body, testData.columns);
    assert.ok(res.body.predictions.includes(0) && res.body.predictions.includes(1), 'both classes occur in the test data');
  });

  test('POST /prediction imputes null, "" and numeric strings as the training data would', async () => {
    const body = {
      records: [
        { ...GOOD_RECORD, lastmonth_activity: null },
        { ...GOOD_RECORD, lastyear_activity: '' },
        { ...GOOD_RECORD, number_of_employees: ' 41.5 ' },
      ],
    };
    const res = await request(app).post('/prediction').send(body);
    assert.equal(res.status, 200);
    const columns = [
      [NaN, 100, 100],
      [1200, NaN, 1200],
      [40, 40, 41.5],
    ];
    assertPredictions(res.body, columns);
  });

  const withoutTarget = (text: string) =>
    text
      .split('\n')
      .map((line) => line.split(',').slice(0, -1).join(','))
      .join('\n');
  const csvCases: { name: string; type: string; body: (text: string) => string }[] = [
    { name: 'with the target column', type: 'text/csv', body: (text) => text },
    { name: 'without the target column', type: 'text/csv', body: withoutTarget },
    { name: 'with a BOM and CRLF line ends', type: 'text/csv; charset=utf-8', body: (text) => '\uFEFF' + text.replace(/\n/g, '\r\n') },
    { name: 'without a trailing newline', type: 'text/csv', body: (text) => text.trimEnd() },
    { name: 'with an empty target column (outcome unknown)', type: 'text/csv', body: (text) => text.replace(/,[01]$/gm, ',') },
    { name: 'as text/plain', type: 'text/plain', body: (text) => text },
  ];
  for (const { name, type, body } of csvCases) {
    test(`POST /prediction with CSV ${name}`, async () => {
      const res = await raw(app, '/prediction', type, body(testData.text));
      assert.equal(res.status, 200, res.text);
      assertPredictions(res.body, testData.columns);
    });
  }

  const locations: { name: string; location: (p: TempProject) => string; data: string }[] = [
    { name: 'the test data, relative to the config folder', location: () => 'testdata/testdata.csv', data: 'testdata/testdata.csv' },
    { name: 'a path through ./ and ..', location: () => './testdata/../testdata/testdata.csv', data: 'testdata/testdata.csv' },
    {
      name: 'an absolute path inside the test data folder',
      location: (p) => path.join(p.root, 'testdata', 'testdata.csv'),
      data: 'testdata/testdata.csv',
    },
    { name: 'the ingested data (with missing cells)', location: () => 'ingesteddata/finaldata.csv', data: 'ingesteddata/finaldata.csv' },
    { name: 'an input file', location: () => 'input/dataset1.csv', data: 'input/dataset1.csv' },
  ];
  for (const { name, location, data } of locations) {
    test(`POST /prediction with {"file_location"}: ${name}`, async () => {
      const res = await request(app)
        .post('/prediction')
        .send({ file_location: location(project) });
      assert.equal(res.status, 200, res.text);
      assertPredictions(res.body, readDataset(path.join(project.root, data), project.config.schema).columns);
    });
  }

  test('POST /prediction reads a file whose name starts with ".." inside a data folder', async () => {
    fs.copyFileSync(path.join(project.root, 'testdata', 'testdata.csv'), path.join(project.root, 'testdata', '..dotted.csv'));
    const res = await request(app).post('/prediction').send({ file_location: 'testdata/..dotted.csv' });
    assert.equal(res.status, 200, res.text);
    assertPredictions(res.body, testData.columns);
  });

  test('GET /scoring answers the metrics runScoring computed for the deployed model', async () => {
    const res = await request(app).get('/scoring');
    assert.equal(res.status, 200);
    for (const key of ['f1', 'precision', 'recall', 'accuracy', 'roc_auc', 'log_loss'] as const)
      assertClose(res.body[key], score[key] as number, 1e-12, key);
    assert.deepEqual(res.body.confusion_matrix, score.confusion_matrix);
    assert.equal(res.body.rows, score.rows);
    assert.equal(res.body.model_version, 1);
    assert.equal(res.body.data_file, 'testdata.csv');
  });

  test('GET /summarystats matches pandas on the same practice data', async () => {
    const res = await request(app).get('/summarystats');
    assert.equal(res.status, 200);
    const pandas = expected('generated').practice;
    assert.equal(res.body.rows, pandas.rows_kept);
    assert.equal(res.body.data_file, 'finaldata.csv');
    for (const feature of FEATURES) {
      const ours = res.body.columns[feature];
      const theirs = pandas.summary[feature];
      for (const stat of ['mean', 'median', 'std', 'count', 'min', 'max']) {
        assertClose(ours[stat], theirs[stat], 1e-9 * Math.max(1, Math.abs(theirs[stat])), `${feature}.${stat}`);
      }
    }
  });

  test('GET /diagnostics answers model version, missing data, timings and dependencies', async () => {
    const res = await request(app).get('/diagnostics');
    assert.equal(res.status, 200);
    assert.equal(res.body.model_version, 1);
    assert.deepEqual(res.body.timings, TIMINGS);
    assert.deepEqual(res.body.dependencies, DEPENDENCIES);
    assert.equal(res.body.missing_data.data_file, 'finaldata.csv');
    const pandas = expected('generated').practice.summary;
    for (const feature of FEATURES)
      assertClose(res.body.missing_data.columns[feature].percent, pandas[feature].missing_pct, 1e-9, `${feature} missing %`);
    assert.equal(res.body.missing_data.columns.exited.percent, 0);
  });

  test('GET /diagnostics strips server paths from an unavailable reason', async () => {
    const reason = `timing run failed: cannot read ${path.join(project.root, 'ingesteddata', 'finaldata.csv')} in /tmp/risk-timing-abc/x`;
    const other = serve(project.config, { timings: async () => ({ status: 'unavailable', reason }) });
    const res = await request(other).get('/diagnostics');
    assert.equal(res.status, 200);
    assert.equal(res.body.timings.status, 'unavailable');
    assert.equal(res.body.timings.reason, 'timing run failed: cannot read ingesteddata/finaldata.csv in x');
  });

  test('GET /diagnostics shares one dependency check between concurrent requests', async () => {
    let calls = 0;
    const slow = serve(project.config, {
      dependencies: async () => {
        calls++;
        await new Promise((resolve) => setImmediate(resolve));
        return { ...DEPENDENCIES, status: 'unavailable', reason: 'registry unreachable' };
      },
    });
    const answers = await Promise.all(Array.from({ length: 5 }, () => request(slow).get('/diagnostics')));
    assert.deepEqual(
      answers.map((res) => res.status),
      [200, 200, 200, 200, 200],
    );
    assert.ok(answers.every((res) => res.body.dependencies.reason === 'registry unreachable'));
    assert.equal((await request(slow).get('/diagnostics')).body.dependencies.status, 'unavailable');
    assert.equal(calls, 1);
  });

  for (const url of ['/health', '/ping']) {
    test(`GET ${url} (readiness) answers 200 with the model version`, async () => {
      const res = await request(app).get(url);
      assert.equal(res.status, 200);
      assert.equal(res.body.status, 'ok');
      assert.equal(res.body.model_version, 1);
    });
  }

  test('GET /health/live (liveness) answers 200', async () => {
    const res = await request(app).get('/health/live');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { status: 'ok' });
  });

  test("GET /version answers the package version as plain text, as MLflow's client reads it", async () => {
    const res = await request(app).get('/version');
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'] ?? '', /^text\/plain/);
    assert.equal(res.text, JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')).version);
  });

  describe('POST /invocations in every MLflow format gives the same predictions', () => {
    const rows = 6;
    const header = ['corporation', ...FEATURES];
    const rowsOf = () => records(rows).map((r) => header.map((h) => r[h]));
    const cases: { name: string; type?: string; body: () => unknown }[] = [
      { name: 'dataframe_split', body: () => ({ dataframe_split: { columns: header, data: rowsOf() } }) },
      {
        name: 'dataframe_split with an index',
        body: () => ({ dataframe_split: { index: [...Array(rows).keys()], columns: header, data: rowsOf() } }),
      },
      { name: 'dataframe_records', body: () => ({ dataframe_records: records(rows) }) },
      { name: 'instances as records', body: () => ({ instances: records(rows) }) },
      {
        name: 'inputs as a column map',
        body: () => ({ inputs: Object.fromEntries(FEATURES.map((f, c) => [f, Array.from(testData.columns[c].subarray(0, rows))])) }),
      },
      { name: 'inputs as records', body: () => ({ inputs: records(rows) }) },
      {
        name: 'text/csv',
        type: 'text/csv',
        body: () =>
          testData.text
            .split('\n')
            .slice(0, rows + 1)
            .join('\n'),
      },
    ];
    for (const { name, type, body } of cases) {
      test(name, async () => {
        const res = type
          ? await raw(app, '/invocations', type, body() as string)
          : await request(app)
              .post('/invocations')
              .send(body() as object);
        assert.equal(res.status, 200, res.text);
        assert.deepEqual(Object.keys(res.body), ['predictions']);
        const wanted = Array.from(
          predictProbabilities(
            model,
            testData.columns.map((c) => c.subarray(0, rows)),
          ),
          (p) => (p > 0.5 ? 1 : 0),
        );
        assert.deepEqual(res.body.predictions, wanted);
      });
    }
  });

  test('GET /metrics answers Prometheus text counting the requests', async () => {
    const fresh = serve(project.config);
    for (let i = 0; i < 3; i++)
      assert.equal(
        (
          await request(fresh)
            .post('/prediction')
            .send({ records: [GOOD_RECORD, GOOD_RECORD] })
        ).status,
        200,
      );
    assert.equal((await request(fresh).get('/nope')).status, 404);
    const res = await request(fresh).get('/metrics');
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'] ?? '', /^text\/plain/);
    assert.match(res.text, /^risk_http_requests_total\{method="POST",route="\/prediction",status="200"\} 3$/m);
    assert.match(res.text, /^risk_http_requests_total\{method="GET",route="unmatched",status="404"\} 1$/m);
    assert.match(res.text, /^risk_predictions_total\{endpoint="prediction"\} 6$/m);
    assert.match(res.text, /^risk_model_version 1$/m);
    assert.match(res.text, /^# TYPE risk_http_request_duration_seconds histogram$/m);
  });

  test('GET /runs and GET /drift answer empty before any fullprocess run', async () => {
    const runs = await request(app).get('/runs');
    assert.equal(runs.status, 200);
    assert.deepEqual(runs.body, { runs: [] });
    const drift = await request(app).get('/drift');
    assert.equal(drift.status, 200);
    assert.equal(drift.body.drift, null);
    assert.match(drift.body.reason, /no fullprocess run/);
  });

  describe('with a run history holding a corrupt line', () => {
    before(() =>
      fs.copyFileSync(path.join(FIXTURES, 'api', 'runhistory.jsonl'), path.join(project.config.prod_deployment_path, 'runhistory.jsonl')),
    );

    test('GET /runs answers the good lines oldest first, each with its outcome', async () => {
      const res = await request(app).get('/runs');
      assert.equal(res.status, 200);
      assert.deepEqual(
        res.body.runs.map((run: { run_id: string; outcome: string }) => [run.run_id, run.outcome]),
        [
          ['run-1', 'bootstrapped'],
          ['run-2', 'redeployed'],
          ['run-4', 'no-new-data'],
        ],
      );
      const limited = await request(app).get('/runs?limit=2');
      assert.deepEqual(
        limited.body.runs.map((run: { run_id: string }) => run.run_id),
        ['run-2', 'run-4'],
      );
    });

    test('GET /runs shows the config file relative to its folder, not as a server path', async () => {
      const history = path.join(project.config.prod_deployment_path, 'runhistory.jsonl');
      const saved = fs.readFileSync(history, 'utf8');
      const record = { ...JSON.parse(saved.split('\n')[0]), run_id: 'run-abs', config_file: project.configFile };
      fs.appendFileSync(history, JSON.stringify(record) + '\n');
      try {
        const res = await request(app).get('/runs?limit=1');
        assert.equal(res.body.runs[0].config_file, 'config.json');
        assert.ok(!JSON.stringify(res.body).includes(project.root));
      } finally {
        fs.writeFileSync(history, saved);
      }
    });

    test('GET /drift answers the latest run that checked for drift', async () => {
      const res = await request(app).get('/drift');
      assert.equal(res.status, 200);
      assert.equal(res.body.run_id, 'run-2');
      assert.equal(res.body.outcome, 'redeployed');
      assert.equal(res.body.model_drift.drifted, true);
    });
  });

  describe('bad requests get a JSON 4xx naming the problem, and the next good request is served', () => {
    const post =
      (body: unknown, url = '/prediction') =>
      (a: TestApp) =>
        request(a)
          .post(url)
          .send(body as object);
    const cases: { name: string; status: number; error: RegExp; send: (a: TestApp, p: TempProject) => request.Test }[] = [
      {
        name: 'invalid JSON',
        status: 400,
        error: /invalid JSON body/,
        send: (a) => raw(a, '/prediction', 'application/json', '{"records": ['),
      },
      {
        name: 'an empty JSON body',
        status: 400,
        error: /the request body is empty/,
        send: (a) => request(a).post('/prediction').set('content-type', 'application/json'),
      },
      {
        name: 'an empty CSV body to /invocations',
        status: 400,
        error: /the request body is empty/,
        send: (a) => request(a).post('/invocations').set('content-type', 'text/csv'),
      },
      {
        name: 'a JSON string instead of an object',
        status: 400,
        error: /invalid JSON body/,
        send: (a) => raw(a, '/prediction', 'application/json', '"records"'),
      },
      { name: 'a JSON list instead of an object', status: 400, error: /expected \{"records"/, send: post([GOOD_RECORD]) },
      {
        name: 'an object without records or file_location',
        status: 400,
        error: /expected \{"records"/,
        send: post({ rows: [GOOD_RECORD] }),
      },
      {
        name: 'content type application/xml',
        status: 415,
        error: /unsupported Content-Type "application\/xml"/,
        send: (a) => raw(a, '/prediction', 'application/xml', '<records/>'),
      },
      {
        name: 'no content type',
        status: 415,
        error: /missing Content-Type/,
        send: (a) => raw(a, '/prediction', null, JSON.stringify({ records: [GOOD_RECORD] })),
      },
      { name: 'an empty record list', status: 400, error: /"records" is empty/, send: post({ records: [] }) },
      { name: 'records that are not a list', status: 400, error: /"records" must be a list/, send: post({ records: GOOD_RECORD }) },
      {
        name: 'a record that is not an object',
        status: 400,
        error: /records\[1\] must be an object/,
        send: post({ records: [GOOD_RECORD, 5] }),
      },
      {
        name: 'a missing feature',
        status: 400,
        error: /records\[0\] is missing feature "number_of_employees"/,
        send: post({ records: [{ lastmonth_activity: 1, lastyear_activity: 2 }] }),
      },
      {
        name: 'a non-numeric value',
        status: 400,
        error: /records\[0\]\.lastyear_activity: "twelve" is not a finite number/,
        send: post({ records: [{ ...GOOD_RECORD, lastyear_activity: 'twelve' }] }),
      },
      {
        name: '"NaN" spelled out',
        status: 400,
        error: /"NaN" is not a finite number/,
        send: post({ records: [{ ...GOOD_RECORD, lastmonth_activity: 'NaN' }] }),
      },
      {
        name: '"Infinity" spelled out',
        status: 400,
        error: /"Infinity" is not a finite number/,
        send: post({ records: [{ ...GOOD_RECORD, lastmonth_activity: 'Infinity' }] }),
      },
      {
        name: '"-Infinity" spelled out',
        status: 400,
        error: /"-Infinity" is not a finite number/,
        send: post({ records: [{ ...GOOD_RECORD, lastmonth_activity: '-Infinity' }] }),
      },
      {
        name: 'a number overflowing to Infinity (1e999)',
        status: 400,
        error: /records\[0\]\.number_of_employees: Infinity is not a finite number/,
        send: (a) =>
          raw(
            a,
            '/prediction',
            'application/json',
            '{"records": [{"lastmonth_activity": 1, "lastyear_activity": 2, "number_of_employees": 1e999}]}',
          ),
      },
      {
        name: 'a boolean value',
        status: 400,
        error: /expected a number, got boolean/,
        send: post({ records: [{ ...GOOD_RECORD, lastmonth_activity: true }] }),
      },
      { name: 'an empty CSV body', status: 400, error: /CSV body is empty/, send: (a) => raw(a, '/prediction', 'text/csv', '\n') },
      {
        name: 'a CSV header without rows',
        status: 400,
        error: /header but no rows/,
        send: (a) => raw(a, '/prediction', 'text/csv', FEATURES.join(',') + '\n'),
      },
      {
        name: 'a CSV without a feature column',
        status: 400,
        error: /missing required column "number_of_employees"/,
        send: (a) => raw(a, '/prediction', 'text/csv', 'lastmonth_activity,lastyear_activity\n1,2\n'),
      },
      {
        name: 'a CSV cell that is not a number',
        status: 400,
        error: /request body:3, column "lastyear_activity": "twelve" is not a finite number/,
        send: (a) => raw(a, '/prediction', 'text/csv', `${FEATURES.join(',')}\n1,2,3\n1,twelve,3\n`),
      },
      {
        name: 'a CSV cell "Infinity"',
        status: 400,
        error: /"Infinity" is not a finite number/,
        send: (a) => raw(a, '/prediction', 'text/csv', `${FEATURES.join(',')}\nInfinity,2,3\n`),
      },
      {
        name: 'a CSV row with too many fields',
        status: 400,
        error: /request body:2.*expected 3 fields/,
        send: (a) => raw(a, '/prediction', 'text/csv', `${FEATURES.join(',')}\n1,2,3,4\n`),
      },
      {
        name: 'file_location not a string',
        status: 400,
        error: /"file_location" must be a non-empty string/,
        send: post({ file_location: 42 }),
      },
      {
        name: 'file_location ../x.csv',
        status: 403,
        error: /must lie inside the input, ingested or test data folders/,
        send: post({ file_location: '../x.csv' }),
      },
      {
        name: 'file_location testdata/../../x.csv',
        status: 403,
        error: /must lie inside/,
        send: post({ file_location: 'testdata/../../x.csv' }),
      },
      { name: 'file_location /etc/passwd', status: 403, error: /must lie inside/, send: post({ file_location: '/etc/passwd' }) },
      {
        name: 'file_location: the config file (absolute, inside the project)',
        status: 403,
        error: /must lie inside/,
        send: (a, p) => post({ file_location: p.configFile })(a),
      },
      {
        name: 'file_location: the model folder',
        status: 403,
        error: /must lie inside/,
        send: post({ file_location: 'models/trainedmodel.json' }),
      },
      {
        name: 'file_location: a link in testdata leading outside',
        status: 403,
        error: /leads outside/,
        send: post({ file_location: 'testdata/outside.csv' }),
      },
      {
        name: 'file_location: a linked folder in testdata leading outside',
        status: 403,
        error: /leads outside/,
        send: post({ file_location: 'testdata/models-link/latestscore.txt' }),
      },
      {
        name: 'file_location: a missing file',
        status: 404,
        error: /"file_location" "testdata\/nope\.csv" does not exist/,
        send: post({ file_location: 'testdata/nope.csv' }),
      },
      {
        name: 'file_location: a directory',
        status: 400,
        error: /"file_location" "testdata" is not a file/,
        send: post({ file_location: 'testdata' }),
      },
      {
        name: 'file_location: a file with a bad cell',
        status: 400,
        error: /testdata\/bad-feature\.csv:2, column "lastyear_activity": "twelve"/,
        send: post({ file_location: 'testdata/bad-feature.csv' }),
      },
      {
        name: 'invocations without a known format',
        status: 400,
        error: /expected one of "dataframe_split"/,
        send: post({ records: [GOOD_RECORD] }, '/invocations'),
      },
      {
        name: 'invocations with two formats',
        status: 400,
        error: /give only one of "dataframe_records", "instances"/,
        send: post({ dataframe_records: [GOOD_RECORD], instances: [GOOD_RECORD] }, '/invocations'),
      },
      {
        name: 'invocations dataframe_split without a feature column',
        status: 400,
        error: /has no column "number_of_employees"/,
        send: post({ dataframe_split: { columns: FEATURES.slice(0, 2), data: [[1, 2]] } }, '/invocations'),
      },
      {
        name: 'invocations dataframe_split row of the wrong length',
        status: 400,
        error: /dataframe_split\.data\[0\] has 2 values for 3 columns/,
        send: post({ dataframe_split: { columns: FEATURES, data: [[1, 2]] } }, '/invocations'),
      },
      {
        name: 'invocations inputs column of another length',
        status: 400,
        error: /column "lastyear_activity" has 1 values, expected 2/,
        send: post({ inputs: { lastmonth_activity: [1, 2], lastyear_activity: [1], number_of_employees: [1, 2] } }, '/invocations'),
      },
      {
        name: 'invocations with an empty list',
        status: 400,
        error: /"dataframe_records" is empty/,
        send: post({ dataframe_records: [] }, '/invocations'),
      },
      { name: 'an unknown route', status: 404, error: /no such endpoint: GET \/nope/, send: (a) => request(a).get('/nope') },
      {
        name: 'an unknown route by POST',
        status: 404,
        error: /no such endpoint: POST \/predict/,
        send: post({ records: [GOOD_RECORD] }, '/predict'),
      },
      {
        name: 'GET on /prediction naming no file',
        status: 400,
        error: /names no data file: send \{"records": \[\.\.\.\]\}, CSV or a CSV upload, or \?file_location=<path>/,
        send: (a) => request(a).get('/prediction'),
      },
      {
        name: 'PUT on /Prediction/ (routes match any case, with a trailing slash)',
        status: 405,
        error: /PUT is not allowed on \/Prediction\/ \(use GET, POST\)/,
        send: (a) =>
          request(a)
            .put('/Prediction/')
            .send({ records: [GOOD_RECORD] }),
      },
      {
        name: 'GET on /invocations (MLflow shape)',
        status: 405,
        error: /GET is not allowed on \/invocations \(use POST\)/,
        send: (a) => request(a).get('/invocations'),
      },
      { name: 'POST on /scoring', status: 405, error: /POST is not allowed on \/scoring \(use GET\)/, send: post({}, '/scoring') },
      { name: 'DELETE on /health', status: 405, error: /DELETE is not allowed/, send: (a) => request(a).delete('/health') },
      {
        name: 'GET /runs with a bad limit',
        status: 400,
        error: /"limit" must be a positive integer/,
        send: (a) => request(a).get('/runs?limit=0'),
      },
    ];

    before(() => {
      const testdata = path.join(project.root, 'testdata');
      fs.symlinkSync(project.configFile, path.join(testdata, 'outside.csv'));
      fs.symlinkSync(project.config.output_model_path, path.join(testdata, 'models-link'));
      fs.copyFileSync(path.join(FIXTURES, 'api', 'bad-feature.csv'), path.join(testdata, 'bad-feature.csv'));
    });

    for (const { name, status, error, send } of cases) {
      test(name, async () => {
        assertError(await send(app, project), status, error, project.root);
        const good = await request(app)
          .post('/prediction')
          .send({ records: [GOOD_RECORD] });
        assert.equal(good.status, 200);
        assert.equal(good.body.model_version, 1);
      });
    }

    test('405 answers name the allowed methods in Allow', async () => {
      const res = await request(app).delete('/prediction');
      assert.equal(res.headers.allow, 'GET, POST');
    });
  });

  describe('a body over api.body_limit gets 413', () => {
    let small: TestApp;
    let smallProject: TempProject;
    before(async () => {
      smallProject = makeProject({ extra: { api: { body_limit: '1kb' } } });
      await deploy(smallProject);
      small = serve(smallProject.config);
    });
    const big = Array.from({ length: 40 }, () => GOOD_RECORD);
    const cases: { name: string; send: (a: TestApp) => request.Test }[] = [
      { name: 'JSON', send: (a) => request(a).post('/prediction').send({ records: big }) },
      { name: 'CSV', send: (a) => raw(a, '/prediction', 'text/csv', FEATURES.join(',') + '\n' + '100,1200,40\n'.repeat(120)) },
      { name: 'JSON to /invocations', send: (a) => request(a).post('/invocations').send({ dataframe_records: big }) },
    ];
    for (const { name, send } of cases) {
      test(name, async () => {
        assertError(await send(small), 413, /request body is larger than the limit \(1kb\)/, smallProject.root);
        const good = await request(small)
          .post('/prediction')
          .send({ records: [GOOD_RECORD] });
        assert.equal(good.status, 200);
      });
    }
  });

  describe('bearer token', () => {
    let secured: TestApp;
    before(() => {
      secured = serve({ ...project.config, api: { ...project.config.api, token: 'sesame-123' } });
    });
    const endpoints: { method: 'get' | 'post'; url: string; body?: object }[] = [
      { method: 'post', url: '/prediction', body: { records: [GOOD_RECORD] } },
      { method: 'get', url: '/prediction?filename=testdata/testdata.csv' },
      { method: 'post', url: '/invocations', body: { dataframe_records: [GOOD_RECORD] } },
      { method: 'get', url: '/scoring' },
      { method: 'get', url: '/summarystats' },
      { method: 'get', url: '/diagnostics' },
      { method: 'get', url: '/metrics' },
      { method: 'get', url: '/runs' },
      { method: 'get', url: '/drift' },
      { method: 'get', url: '/version' },
      { method: 'get', url: '/openapi.json' },
      { method: 'get', url: '/docs' },
      { method: 'get', url: '/docs/swagger-ui.css' },
    ];
    const send = (method: 'get' | 'post', url: string, body: object | undefined, authorization?: string) => {
      const req = request(secured)[method](url);
      if (authorization !== undefined) req.set('Authorization', authorization);
      return body ? req.send(body) : req;
    };
    for (const { method, url, body } of endpoints) {
      test(`${method.toUpperCase()} ${url}: 401 without or with a wrong token, 200 with the right one`, async () => {
        const cases: [string | undefined, RegExp][] = [
          [undefined, /missing bearer token/],
          ['Bearer wrong-token', /invalid bearer token/],
          ['Bearer sesame-12', /invalid bearer token/],
          ['Basic c2VzYW1lLTEyMw==', /missing bearer token/],
        ];
        for (const [authorization, error] of cases) {
          const res = await send(method, url, body, authorization);
          assertError(res, 401, error, project.root);
          assert.equal(res.headers['www-authenticate'], 'Bearer');
        }
        assert.equal((await send(method, url, body, 'Bearer sesame-123')).status, 200);
        assert.equal((await send(method, url, body, 'bearer sesame-123')).status, 200);
      });
    }
    test("a 401 on /invocations has MLflow's shape", async () => {
      const res = await send('post', '/invocations', { dataframe_records: [GOOD_RECORD] });
      assert.deepEqual(res.body, { error_code: 'UNAUTHENTICATED', message: 'missing bearer token (Authorization: Bearer <token>)' });
    });
    for (const url of ['/health', '/health/live', '/ping', '//ping']) {
      test(`GET ${url} needs no token (a probe)`, async () => {
        assert.equal((await request(secured).get(url)).status, 200);
        assert.equal((await request(secured).get(url).set('Authorization', 'Bearer wrong')).status, 200);
      });
    }
  });

  test('security headers are set and x-powered-by is not', async () => {
    for (const res of [
      await request(app).get('/health'),
      await request(app).get('/nope'),
      await raw(app, '/prediction', 'application/json', '{'),
    ]) {
      assert.equal(res.headers['x-powered-by'], undefined);
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.equal(res.headers['x-frame-options'], 'SAMEORIGIN');
      assert.match(res.headers['content-security-policy'] ?? '', /default-src 'self'/);
      assert.match(res.headers['strict-transport-security'] ?? '', /max-age=/);
      assert.equal(res.headers['cross-origin-opener-policy'], 'same-origin');
    }
  });
});

describe('API with no model deployed', () => {
  let project: TempProject;
  let app: TestApp;
  before(() => {
    project = makeProject();
    app = serve(project.config);
  });

  for (const url of ['/health', '/ping']) {
    test(`GET ${url} (readiness) answers 503 saying why, without server paths`, async () => {
      const res = await request(app).get(url);
      assertError(res, 503, /no model is deployed in production_deployment \(run deployment/, project.root);
      assert.equal(res.body.status, 'unavailable');
    });
  }

  test('GET /health/live (liveness) answers 200 without a model', async () => {
    assert.equal((await request(app).get('/health/live')).status, 200);
  });

  const cases: { name: string; send: (a: TestApp) => request.Test; error: RegExp }[] = [
    {
      name: 'POST /prediction',
      send: (a) =>
        request(a)
          .post('/prediction')
          .send({ records: [GOOD_RECORD] }),
      error: /no model is deployed/,
    },
    {
      name: 'POST /prediction with CSV',
      send: (a) => raw(a, '/prediction', 'text/csv', `${FEATURES.join(',')}\n1,2,3\n`),
      error: /no model is deployed/,
    },
    {
      name: 'POST /invocations',
      send: (a) =>
        request(a)
          .post('/invocations')
          .send({ instances: [GOOD_RECORD] }),
      error: /no model is deployed/,
    },
    { name: 'GET /scoring', send: (a) => request(a).get('/scoring'), error: /no model is deployed/ },
    {
      name: 'GET /summarystats before ingestion',
      send: (a) => request(a).get('/summarystats'),
      error: /finaldata\.csv not found \(run ingestion first\)/,
    },
  ];
  for (const { name, send, error } of cases) {
    test(`${name} answers 503`, async () => assertError(await send(app), 503, error, project.root));
  }

  test('GET /diagnostics still answers, with no model version and no missing-data figures', async () => {
    const res = await request(app).get('/diagnostics');
    assert.equal(res.status, 200);
    assert.equal(res.body.model_version, null);
    assert.equal(res.body.missing_data, null);
  });

  test('GET /scoring answers 503 naming the problem when the test data on the server is invalid', async () => {
    const bad = makeProject();
    await deploy(bad);
    fs.copyFileSync(path.join(FIXTURES, 'api', 'bad-feature.csv'), path.join(bad.config.test_data_path, 'testdata.csv'));
    assertError(
      await request(serve(bad.config)).get('/scoring'),
      503,
      /testdata\.csv:2, column "lastyear_activity": "twelve" is not a finite number/,
      bad.root,
    );
    fs.rmSync(path.join(bad.config.test_data_path, 'testdata.csv'));
    assertError(
      await request(serve(bad.config)).get('/scoring'),
      503,
      /testdata\.csv not found \(put the test data in testdata\)/,
      bad.root,
    );
  });

  test('a deployed model that cannot be loaded gives a 503 naming the file relative to the project', async () => {
    const broken = makeProject();
    await deploy(broken);
    fs.writeFileSync(path.join(broken.config.prod_deployment_path, 'versions', '1', 'trainedmodel.json'), '{"kind": ');
    const res = await request(serve(broken.config)).get('/health');
    assertError(
      res,
      503,
      /cannot load deployed version 1: production_deployment\/versions\/1\/trainedmodel\.json is not valid JSON/,
      broken.root,
    );
  });
});

describe('pathRedactor', () => {
  const project = makeProject();
  const redact = pathRedactor(project.config);
  const cases: [string, string][] = [
    [
      `no model is deployed in ${project.config.prod_deployment_path} (run deployment)`,
      'no model is deployed in production_deployment (run deployment)',
    ],
    [`${path.join(project.root, 'testdata', 'a.csv')}:3, column "x"`, 'testdata/a.csv:3, column "x"'],
    [`cannot read ${project.configFile}`, 'cannot read config.json'],
    [`scratch "/var/tmp/risk-timing-1/ingesteddata/finaldata.csv" gone`, 'scratch "finaldata.csv" gone'],
    ['send application/json or text/csv; see ../x.csv', 'send application/json or text/csv; see ../x.csv'],
    ['GET is not allowed on /prediction', 'GET is not allowed on /prediction'],
  ];
  for (const [input, output] of cases) test(JSON.stringify(output), () => assert.equal(redact(input), output));
});

describe('no answer carries an absolute server path, whatever the records hold', () => {
  test('GET /runs and /drift repeat decisions, errors and notes of ticks with their paths redacted', async () => {
    const project = makeProject();
    const store = project.config.prod_deployment_path;
    fs.mkdirSync(store, { recursive: true });
    const secret = '/srv/secret/folder/candidate.json';
    const base = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'api', 'runhistory.jsonl'), 'utf8').split('\n')[0]);
    const records = [
      {
        ...base,
        outcome: 'failed',
        error: `data file not found: ${path.join(project.config.test_data_path, 'testdata.csv')}`,
        decision: `the tick failed: cannot open ${secret}`,
        notes: [`apicalls failed: ${project.root}/models/apireturns.txt`],
        config_file: project.configFile,
      },
      { ...base, outcome: 'rejected', decision: `candidate left in ${project.config.output_model_path}`, config_file: project.configFile },
    ];
    fs.writeFileSync(path.join(store, 'runhistory.jsonl'), records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const app = serve(project.config);
    for (const endpoint of ['/runs', '/drift', '/health', '/diagnostics', '/no-such-endpoint']) {
      const answer = await request(app).get(endpoint);
      const text = JSON.stringify(answer.body);
      for (const absolute of [project.root, REPO, '/srv/secret']) {
        assert.ok(!text.includes(absolute), `${endpoint} answered a server path (${absolute}): ${text.slice(0, 400)}`);
      }
    }
    const runs = (await request(app).get('/runs')).body.runs;
    assert.match(runs[0].error, /data file not found: testdata\/testdata\.csv/);
    assert.match(runs[0].decision, /cannot open candidate\.json/);
    assert.match(runs[1].decision, /candidate left in models/);
  });
});
