/**
 * MLflow's scoring protocol, case by case: /invocations must answer what
 * MLflow's own scoring server answers, status and error shape
 * (`{"error_code", "message"}`), for the cases MLflow's tests and source pin
 * down. Where we deliberately differ, the row says so and why.
 *
 * Matched against mlflow/mlflow:
 * - tests/pyfunc/test_scoring_server.py (commit 02531f8d12b83e392fb1a3b95f7a91ac694a08be):
 *   the test named in each row's `mlflow` field, e.g.
 *   `test_scoring_server_responds_to_malformed_json_input_with_error_code_and_message`
 *   asserts `response_json.get("error_code") == ErrorCode.Name(BAD_REQUEST)`;
 *   `test_..._invalid_content_type_request_with_unsupported_content_type_code` asserts
 *   `expect_status_code(response, 415)` for "not_a_supported_content_type".
 * - mlflow/pyfunc/scoring_server/__init__.py (commit 006c18ccd14412357af8ee192aa5d25e4bf87e5c),
 *   `invocations()`: `charset = parameter_values.get("charset", "utf-8").lower()`,
 *   `if charset != "utf-8": ... status=415`; `unexpected_content_parameters =
 *   set(parameter_values.keys()).difference({"charset"})` -> 415; `if mime_type ==
 *   CONTENT_TYPE_CSV ... elif mime_type == CONTENT_TYPE_JSON ... else: ... status=415`;
 *   `_decode_json_input`: a list or a non-dict raises MlflowInvalidInputException (400);
 *   `infer_and_parse_data`: `if len(format_keys) != 1: raise MlflowException(...,
 *   error_code=BAD_REQUEST)`; `ping()` answers 200 while the model is loaded;
 *   `version()` answers VERSION as the body.
 * - mlflow/pyfunc/scoring_server/client.py: ScoringServerClient polls GET /ping for 200,
 *   `get_version()` returns `resp_status.text`, `invoke()` posts application/json.
 * - mlflow/exceptions.py: ERROR_CODE_TO_HTTP_STATUS (BAD_REQUEST 400,
 *   TEMPORARILY_UNAVAILABLE 503, ...).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import type { Config } from '../src/lib/config.js';
import { assertNoContractViolations, servedApp, type TestApp } from './api-contract.js';
import { makeProject, type TempProject, deployedProject } from './helpers.js';

const FEATURES = ['lastmonth_activity', 'lastyear_activity', 'number_of_employees'];
const ROWS = [
  [30, 400, 35],
  [250, 2500, 45],
  [100, 1200, 40],
];
const RECORDS = ROWS.map((row) => Object.fromEntries(FEATURES.map((f, i) => [f, row[i]])));
const SPLIT = { columns: FEATURES, data: ROWS };
const CSV = `${FEATURES.join(',')}\n${ROWS.map((r) => r.join(',')).join('\n')}\n`;

after(assertNoContractViolations);

const serve = (config: Config): TestApp =>
  servedApp(config, { timings: async () => ({ status: 'unavailable', reason: 'not measured in tests' }) });

/** One case: what is sent, what MLflow's server answers, what we answer (the same unless `differs` says why). */
interface Case {
  name: string;
  /** The MLflow test or source line the status was taken from. */
  mlflow: string;
  contentType: string | null;
  body: string;
  mlflowStatus: number;
  status: number;
  /** For an error: the error_code MLflow answers, and what our message must say when the row checks it. */
  errorCode?: string;
  message?: RegExp;
  differs?: string;
}

const json = (value: unknown): string => JSON.stringify(value);
const CASES: Case[] = [
  {
    name: 'malformed JSON',
    mlflow: 'test_scoring_server_responds_to_malformed_json_input_with_error_code_and_message',
    contentType: 'application/json',
    body: 'this is,,,, not valid json',
    mlflowStatus: 400,
    status: 400,
    errorCode: 'BAD_REQUEST',
  },
  ...['1', '"1"', '[1]'].map((body): Case => ({
    name: `JSON ${body}, not a dictionary`,
    mlflow: 'test_scoring_server_responds_to_invalid_json_format_with_error_code_and_message',
    contentType: 'application/json',
    body,
    mlflowStatus: 400,
    status: 400,
    errorCode: 'BAD_REQUEST',
  })),
  {
    name: 'a dictionary without a known format key',
    mlflow: 'test_scoring_server_responds_to_invalid_json_format_with_error_code_and_message',
    contentType: 'application/json',
    body: json({ not: 'a serialized dataframe' }),
    mlflowStatus: 400,
    status: 400,
    errorCode: 'BAD_REQUEST',
  },
  {
    name: 'two format keys',
    mlflow: 'test_scoring_server_responds_to_invalid_json_format_with_error_code_and_message',
    contentType: 'application/json',
    body: json({ dataframe_records: [], dataframe_split: { data: [] } }),
    mlflowStatus: 400,
    status: 400,
    errorCode: 'BAD_REQUEST',
  },
  {
    name: 'dataframe_split given records',
    mlflow: 'test_scoring_server_responds_to_invalid_pandas_input_format_with_stacktrace_and_error_code',
    contentType: 'application/json',
    body: json({ dataframe_split: RECORDS }),
    mlflowStatus: 400,
    status: 400,
    errorCode: 'BAD_REQUEST',
  },
  {
    name: 'dataframe_records given a split dictionary',
    mlflow: 'test_scoring_server_responds_to_invalid_pandas_input_format_with_stacktrace_and_error_code',
    contentType: 'application/json',
    body: json({ dataframe_records: SPLIT }),
    mlflowStatus: 400,
    status: 400,
    errorCode: 'BAD_REQUEST',
  },
  {
    name: 'dataframe_split with an index of another length and no columns',
    mlflow: 'test_scoring_server_responds_to_invalid_dataframe_with_stacktrace_and_error_code',
    contentType: 'application/json',
    body: json({ dataframe_split: { index: [1, 2], data: [[1], [2], [3]] } }),
    mlflowStatus: 400,
    status: 400,
    errorCode: 'BAD_REQUEST',
  },
  ...[[...ROWS.map((_, i) => i), ROWS.length], [0]].map((index): Case => ({
    name: `dataframe_split with named columns and an index of ${index.length} for ${ROWS.length} rows`,
    mlflow: 'dataframe_from_parsed_json (pandas refuses the frame)',
    contentType: 'application/json',
    body: json({ dataframe_split: { ...SPLIT, index } }),
    mlflowStatus: 400,
    status: 400,
    errorCode: 'BAD_REQUEST',
    message: new RegExp(
      `^Provided dataframe_split field is not a valid dataframe representation in 'split' format\\. Error: 'Length of values \\(${ROWS.length}\\) does not match length of index \\(${index.length}\\)'$`,
    ),
  })),
  {
    name: 'a data frame the model cannot use (one unnamed column)',
    mlflow: 'test_scoring_server_responds_to_incompatible_inference_dataframe_with_stacktrace_and_error_code',
    contentType: 'application/json',
    body: json({ dataframe_split: { index: [0, 1], columns: [0], data: [[0], [1]] } }),
    mlflowStatus: 400,
    status: 400,
    errorCode: 'BAD_REQUEST',
  },
  {
    name: 'an empty CSV body',
    mlflow: 'test_scoring_server_responds_to_invalid_csv_input_with_stacktrace_and_error_code',
    contentType: 'text/csv',
    body: '',
    mlflowStatus: 400,
    status: 400,
    errorCode: 'BAD_REQUEST',
  },
  {
    name: 'dataframe_records',
    mlflow: 'test_scoring_server_successfully_evaluates_correct_dataframes_with_pandas_records_orientation',
    contentType: 'application/json',
    body: json({ dataframe_records: RECORDS }),
    mlflowStatus: 200,
    status: 200,
  },
  {
    name: 'dataframe_records with charset=UTF-8',
    mlflow: 'test_scoring_server_successfully_evaluates_correct_dataframes_with_pandas_records_orientation',
    contentType: 'application/json; charset=UTF-8',
    body: json({ dataframe_records: RECORDS }),
    mlflowStatus: 200,
    status: 200,
  },
  {
    name: 'dataframe_split with an index (DataFrame.to_dict(orient="split"))',
    mlflow: 'test_scoring_server_successfully_evaluates_correct_dataframes_with_pandas_split_orientation',
    contentType: 'application/json; charset=UTF-8',
    body: json({ dataframe_split: { index: [0, 1, 2], ...SPLIT } }),
    mlflowStatus: 200,
    status: 200,
  },
  {
    name: 'an unknown content type',
    mlflow: 'test_scoring_server_responds_to_invalid_content_type_request_with_unsupported_content_type_code',
    contentType: 'not_a_supported_content_type',
    body: json({ dataframe_split: SPLIT }),
    mlflowStatus: 415,
    status: 415,
    errorCode: 'BAD_REQUEST',
  },
  {
    name: 'an unknown content-type parameter',
    mlflow: 'test_scoring_server_responds_to_invalid_content_type_request_with_unrecognized_content_param',
    contentType: 'application/json; something=something',
    body: json({ dataframe_split: SPLIT }),
    mlflowStatus: 415,
    status: 415,
    errorCode: 'BAD_REQUEST',
  },
  {
    name: "MLflow 1.x's format=pandas-split",
    mlflow: 'invocations(): unexpected_content_parameters -> 415',
    contentType: 'application/json; format=pandas-split',
    body: json({ columns: FEATURES, data: ROWS }),
    mlflowStatus: 415,
    status: 415,
    errorCode: 'BAD_REQUEST',
    message: /unrecognized content type parameters: format/,
  },
  {
    name: 'charset=latin-1',
    mlflow: 'invocations(): charset != "utf-8" -> 415',
    contentType: 'text/csv; charset=latin-1',
    body: CSV,
    mlflowStatus: 415,
    status: 415,
    errorCode: 'BAD_REQUEST',
    message: /charset "latin-1": the scoring server only supports UTF-8/,
  },
  {
    name: 'text/plain',
    mlflow: 'invocations(): mime type neither text/csv nor application/json -> 415',
    contentType: 'text/plain',
    body: CSV,
    mlflowStatus: 415,
    status: 415,
    errorCode: 'BAD_REQUEST',
  },
  {
    name: 'application/csv',
    mlflow: 'invocations(): mime type neither text/csv nor application/json -> 415',
    contentType: 'application/csv',
    body: CSV,
    mlflowStatus: 415,
    status: 415,
    errorCode: 'BAD_REQUEST',
  },
  {
    name: 'text/csv',
    mlflow: 'invocations(): mime_type == CONTENT_TYPE_CSV -> parse_csv_input',
    contentType: 'text/csv',
    body: CSV,
    mlflowStatus: 200,
    status: 200,
  },
  {
    name: 'instances as a list of rows',
    mlflow: 'test_scoring_server_successfully_evaluates_correct_tf_serving_sklearn',
    contentType: 'application/json',
    body: json({ instances: ROWS }),
    mlflowStatus: 200,
    status: 400,
    errorCode: 'BAD_REQUEST',
    message: /instances\[0\] is a list of values without column names/,
    differs: 'the model has named columns; rows without names would be matched by position, silently wrong when the order differs',
  },
  {
    name: 'inputs as a list of rows',
    mlflow: 'parse_tf_serving_input accepts lists for "inputs" too',
    contentType: 'application/json',
    body: json({ inputs: ROWS }),
    mlflowStatus: 200,
    status: 400,
    errorCode: 'BAD_REQUEST',
    differs: 'as for instances: column order unknown',
  },
  {
    name: 'instances as records',
    mlflow: 'test_scoring_server_successfully_evaluates_correct_tf_serving_keras_instances',
    contentType: 'application/json',
    body: json({ instances: RECORDS }),
    mlflowStatus: 200,
    status: 200,
  },
  {
    name: 'inputs as an object of columns',
    mlflow: 'test_scoring_server_successfully_evaluates_correct_tf_serving_keras_inputs',
    contentType: 'application/json',
    body: json({ inputs: Object.fromEntries(FEATURES.map((f, i) => [f, ROWS.map((r) => r[i])])) }),
    mlflowStatus: 200,
    status: 200,
  },
  {
    name: 'params the model does not define are ignored',
    mlflow: 'test_serving_model_with_param_schema ("Ignore parameters specified in payload if it is not defined")',
    contentType: 'application/json; charset=UTF-8',
    body: json({ dataframe_split: SPLIT, params: { invalid_param: 'value' } }),
    mlflowStatus: 200,
    status: 200,
  },
  {
    name: 'a content type in capitals',
    mlflow: 'invocations(): mime_type == CONTENT_TYPE_JSON compares exactly -> 415',
    contentType: 'Application/JSON',
    body: json({ dataframe_records: RECORDS }),
    mlflowStatus: 415,
    status: 200,
    differs: 'media types are case-insensitive (RFC 9110); refusing them helps no client',
  },
  {
    name: 'no content type',
    mlflow: 'transformation(): content_type None -> invocations() fails on None.split -> 500',
    contentType: null,
    body: json({ dataframe_records: RECORDS }),
    mlflowStatus: 500,
    status: 415,
    errorCode: 'BAD_REQUEST',
    differs: "MLflow's 500 is a crash; the caller's mistake gets a 415 naming it",
    message: /missing Content-Type/,
  },
];

describe("/invocations answers as MLflow's scoring server", () => {
  let project: TempProject;
  let app: TestApp;
  before(async () => {
    project = await deployedProject();
    app = serve(project.config);
  });

  test('every deviation from MLflow is explained', () => {
    for (const row of CASES)
      assert.ok(row.status === row.mlflowStatus || row.differs, `${row.name}: ${row.status} vs MLflow's ${row.mlflowStatus}`);
  });

  for (const row of CASES) {
    const label = `${row.name} -> ${row.status}${row.differs ? ` (MLflow ${row.mlflowStatus}: ${row.differs})` : ''}`;
    test(label, async () => {
      const req = request(app).post('/invocations');
      if (row.contentType !== null) req.set('Content-Type', row.contentType);
      // superagent gives a string body a form type of its own; a Buffer goes without one.
      const res = await req.send(row.contentType === null ? Buffer.from(row.body) : row.body);
      assert.equal(res.status, row.status, res.text);
      assert.match(res.headers['content-type'] ?? '', /^application\/json/);
      if (row.status === 200) {
        assert.deepEqual(Object.keys(res.body), ['predictions']);
        assert.equal(res.body.predictions.length, ROWS.length);
      } else {
        assert.deepEqual(Object.keys(res.body).sort(), ['error_code', 'message']);
        assert.equal(res.body.error_code, row.errorCode);
        assert.match(res.body.message, row.message ?? /./);
      }
    });
  }

  test('GET /ping answers 200 with a model and GET /version the package version as text', async () => {
    assert.equal((await request(app).get('/ping')).status, 200);
    const version = await request(app).get('/version');
    assert.equal(version.status, 200);
    assert.match(version.text, /^\d+\.\d+\.\d+/);
  });

  test('a body over the limit is 413 in MLflow shape', async () => {
    const small = await deployedProject({ extra: { api: { body_limit: '1kb' } } });
    const res = await request(serve(small.config))
      .post('/invocations')
      .send({ dataframe_records: Array.from({ length: 40 }, () => RECORDS[0]) });
    assert.equal(res.status, 413);
    assert.equal(res.body.error_code, 'BAD_REQUEST');
    assert.match(res.body.message, /larger than the limit \(1kb\)/);
  });
});

describe('/invocations and /ping without a model', () => {
  test('503 TEMPORARILY_UNAVAILABLE, as MLflow names it; /ping 503', async () => {
    const app = serve(makeProject().config);
    const res = await request(app).post('/invocations').send({ dataframe_records: RECORDS });
    assert.equal(res.status, 503);
    assert.equal(res.body.error_code, 'TEMPORARILY_UNAVAILABLE');
    assert.match(res.body.message, /no model is deployed/);
    assert.equal((await request(app).get('/ping')).status, 503);
  });
});
