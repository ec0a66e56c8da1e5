/**
 * The hot path (POST /prediction with {"records": [...]}, answered by the
 * server ahead of Express) answers exactly as the general path does: the same
 * statuses, bodies and headers for good and bad requests, the same guards
 * (token, body limit), each request counted once in the metrics, and whatever
 * it does not answer handed to Express with its body intact.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startServer, type RunningApp } from '../src/app.js';
import { silentLogger } from '../src/lib/log.js';
import { loadModelFile, predictProbabilities } from '../src/lib/model/model-file.js';
import { deployedProject, OFFLINE_DEPS, type TempProject } from './helpers.js';

const RECORD = { lastmonth_activity: 100, lastyear_activity: 1200, number_of_employees: 40 };

interface Case {
  name: string;
  path?: string;
  headers?: Record<string, string>;
  body: string;
  status: number;
  /** Checks the parsed answer. */
  check: (answer: any) => void;
}

describe('the hot path answers as the general path', () => {
  let project: TempProject;
  let server: RunningApp;
  let expected: number;
  before(async () => {
    project = await deployedProject({ extra: { api: { body_limit: '2kb', token: 'secret-token' } } });
    server = await startServer(project.config, { port: 0, host: '127.0.0.1' }, silentLogger, OFFLINE_DEPS);
    const model = loadModelFile(`${project.config.prod_deployment_path}/trainedmodel.json`);
    expected = predictProbabilities(model, [[RECORD.lastmonth_activity], [RECORD.lastyear_activity], [RECORD.number_of_employees]])[0];
  });
  after(() => server.close());

  const auth = { authorization: 'Bearer secret-token', 'content-type': 'application/json' };
  const cases: Case[] = [
    {
      name: 'records: the model probabilities',
      headers: auth,
      body: JSON.stringify({ records: [RECORD, { ...RECORD, lastmonth_activity: null }] }),
      status: 200,
      check: (a) => {
        assert.deepEqual(Object.keys(a), ['predictions', 'probabilities', 'model_version']);
        assert.ok(Math.abs(a.probabilities[0] - expected) < 1e-12);
        assert.equal(a.predictions[0], a.probabilities[0] > 0.5 ? 1 : 0);
        assert.equal(a.model_version, 1);
      },
    },
    {
      name: 'charset=utf-8 is the same JSON',
      headers: { ...auth, 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ records: [RECORD] }),
      status: 200,
      check: (a) => assert.equal(a.predictions.length, 1),
    },
    {
      name: 'a missing feature: 400 naming it',
      headers: auth,
      body: '{"records":[{"lastmonth_activity":1}]}',
      status: 400,
      check: (a) => assert.match(a.error, /records\[0\] is missing feature "lastyear_activity"/),
    },
    {
      name: 'invalid JSON: 400',
      headers: auth,
      body: '{"records":[',
      status: 400,
      check: (a) => assert.match(a.error, /^invalid JSON body/),
    },
    {
      name: 'a bare number: 400 (strict JSON)',
      headers: auth,
      body: '5',
      status: 400,
      check: (a) => assert.match(a.error, /^invalid JSON body/),
    },
    {
      name: 'an empty record list: 400',
      headers: auth,
      body: '{"records":[]}',
      status: 400,
      check: (a) => assert.match(a.error, /"records" is empty/),
    },
    {
      name: 'over the body limit: 413',
      headers: auth,
      body: JSON.stringify({ records: Array.from({ length: 40 }, () => RECORD) }),
      status: 413,
      check: (a) => assert.match(a.error, /larger than the limit \(2kb\)/),
    },
    {
      name: 'no token: 401 from the general path',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ records: [RECORD] }),
      status: 401,
      check: (a) => assert.match(a.error, /missing bearer token/),
    },
    {
      name: 'a wrong token: 401',
      headers: { ...auth, authorization: 'Bearer wrong' },
      body: JSON.stringify({ records: [RECORD] }),
      status: 401,
      check: (a) => assert.match(a.error, /invalid bearer token/),
    },
    {
      name: 'another body shape (file_location) is handed on with its body',
      headers: auth,
      body: JSON.stringify({ file_location: 'testdata/testdata.csv' }),
      status: 200,
      check: (a) => assert.ok(a.predictions.length > 100),
    },
    {
      name: 'records and a file named: 400 from the general path',
      headers: auth,
      body: JSON.stringify({ records: [RECORD], filename: 'testdata/testdata.csv' }),
      status: 400,
      check: (a) => assert.match(a.error, /records/),
    },
    {
      name: 'a query string takes the general path',
      path: '/prediction?x=1',
      headers: auth,
      body: JSON.stringify({ records: [RECORD] }),
      status: 200,
      check: (a) => assert.ok(Math.abs(a.probabilities[0] - expected) < 1e-12),
    },
    {
      name: 'repeated slashes take the general path',
      path: '//prediction',
      headers: auth,
      body: JSON.stringify({ records: [RECORD] }),
      status: 200,
      check: (a) => assert.equal(a.predictions.length, 1),
    },
  ];

  for (const c of cases) {
    test(c.name, async () => {
      const res = await fetch(server.url + (c.path ?? '/prediction'), { method: 'POST', headers: c.headers, body: c.body });
      assert.equal(res.status, c.status, await res.clone().text());
      assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
      for (const header of ['content-security-policy', 'x-content-type-options', 'strict-transport-security', 'x-frame-options']) {
        assert.ok(res.headers.get(header), `${header} on ${c.name}`);
      }
      assert.equal(res.headers.get('x-powered-by'), null);
      c.check(await res.json());
    });
  }

  test('every request above was counted once', async () => {
    const text = await (await fetch(server.url + '/metrics', { headers: auth })).text();
    const counted = [...text.matchAll(/^risk_http_requests_total\{method="POST",route="\/prediction",status="(\d+)"\} (\d+)$/gm)];
    const total = counted.reduce((sum, [, , n]) => sum + Number(n), 0);
    assert.equal(total, cases.length, text.slice(0, 500));
  });
});
