/**
 * The hot path (POST /prediction with {"records": [...]}, answered by the
 * server ahead of Express) answers exactly as the general path does. Every
 * request of the table goes to two servers on the same deployment: one as
 * `npm run app` serves (hot path first), one built with `hotPath: false`
 * (every request through Express's middleware and routers). Status, headers
 * and body must be the same; the metrics must count the same.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startServer, type RunningApp } from '../src/app.js';
import { createApp } from '../src/lib/api/app.js';
import { ModelWatcher } from '../src/lib/api/model-watcher.js';
import { silentLogger } from '../src/lib/log.js';
import { deployedProject, OFFLINE_DEPS, type TempProject } from './helpers.js';

const RECORD = { lastmonth_activity: 100, lastyear_activity: 1200, number_of_employees: 40 };
const TOKEN = 'secret-token';
const JSON_HEADERS = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
/** Headers that differ between any two answers (time, connection management). */
const VOLATILE_HEADERS = new Set(['date', 'connection', 'keep-alive']);

interface Case {
  name: string;
  path?: string;
  headers?: Record<string, string>;
  /** A string or bytes; a list of chunks is sent chunked, without a Content-Length. */
  body: string | Buffer | string[];
  /** The status both must give (so each row tests what its name says). */
  status: number;
  /** True when the hot path answers the request itself rather than handing it to Express. */
  hot?: boolean;
}

const records = (...list: unknown[]): string => JSON.stringify({ records: list });
const OVERSIZE = records(...Array.from({ length: 40 }, () => RECORD));

const CASES: Case[] = [
  { name: 'records', body: records(RECORD, { ...RECORD, lastmonth_activity: 5 }), status: 200, hot: true },
  { name: 'a null cell (imputed)', body: records({ ...RECORD, lastmonth_activity: null }), status: 200, hot: true },
  {
    name: 'a numeric string and an empty string',
    body: records({ ...RECORD, lastmonth_activity: '41.5', number_of_employees: '' }),
    status: 200,
    hot: true,
  },
  {
    name: 'charset=utf-8',
    headers: { ...JSON_HEADERS, 'content-type': 'application/json; charset=utf-8' },
    body: records(RECORD),
    status: 200,
    hot: true,
  },
  { name: 'extra keys in a record are ignored', body: records({ ...RECORD, corporation: 'abcd', exited: 1 }), status: 200, hot: true },
  { name: 'sent chunked', body: [records(RECORD).slice(0, 10), records(RECORD).slice(10)], status: 200, hot: true },
  { name: 'invalid JSON', body: '{"records":[', status: 400 },
  {
    name: 'NaN in the JSON text',
    body: '{"records":[{"lastmonth_activity":NaN,"lastyear_activity":1,"number_of_employees":1}]}',
    status: 400,
  },
  { name: 'a "NaN" string cell', body: records({ ...RECORD, lastmonth_activity: 'NaN' }), status: 400 },
  { name: 'a number too large for a double (Infinity)', body: records(RECORD).replace('100', '1e999'), status: 400 },
  { name: 'a bare number (strict JSON)', body: '5', status: 400 },
  { name: 'a bare string after white space (strict JSON)', body: ' "records"', status: 400 },
  { name: 'null (strict JSON)', body: 'null', status: 400 },
  { name: 'a list instead of an object', body: `[${JSON.stringify(RECORD)}]`, status: 400 },
  { name: 'an empty body', body: '', status: 400 },
  { name: 'a missing feature', body: '{"records":[{"lastmonth_activity":1}]}', status: 400 },
  { name: 'an empty record list', body: records(), status: 400 },
  { name: 'a record that is not an object', body: records(5), status: 400 },
  { name: 'a cell that is an object', body: records({ ...RECORD, lastmonth_activity: { value: 1 } }), status: 400 },
  { name: '"records" not a list', body: '{"records":{"lastmonth_activity":1}}', status: 400 },
  {
    name: 'bytes that are not UTF-8',
    body: Buffer.concat([Buffer.from('{"records":[{"lastmonth_activity":"'), Buffer.from([0xe9]), Buffer.from('"}]}')]),
    status: 400,
  },
  { name: 'over the body limit (declared length)', body: OVERSIZE, status: 413 },
  { name: 'over the body limit (chunked)', body: [OVERSIZE.slice(0, 1000), OVERSIZE.slice(1000)], status: 413 },
  { name: 'no token', headers: { 'content-type': 'application/json' }, body: records(RECORD), status: 401 },
  { name: 'a wrong token', headers: { ...JSON_HEADERS, authorization: 'Bearer wrong' }, body: records(RECORD), status: 401 },
  { name: 'records and a file named', body: JSON.stringify({ records: [RECORD], filename: 'testdata/testdata.csv' }), status: 400 },
  { name: 'another body shape (file_location)', body: JSON.stringify({ file_location: 'testdata/testdata.csv' }), status: 200 },
  { name: 'a query string', path: '/prediction?x=1', body: records(RECORD), status: 200 },
  { name: 'repeated slashes', path: '//prediction', body: records(RECORD), status: 200 },
  {
    name: 'another charset',
    headers: { ...JSON_HEADERS, 'content-type': 'application/json; charset=latin-1' },
    body: records(RECORD),
    status: 415,
  },
];

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

async function send(base: string, c: Case): Promise<Answer> {
  const chunks = Array.isArray(c.body) ? c.body : undefined;
  const body = chunks
    ? new ReadableStream({
        start(controller) {
          for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk));
          controller.close();
        },
      })
    : (c.body as string | Buffer);
  const res = await fetch(base + (c.path ?? '/prediction'), {
    method: 'POST',
    headers: c.headers ?? JSON_HEADERS,
    body,
    ...(chunks ? { duplex: 'half' } : {}),
  });
  const headers: Record<string, string> = {};
  res.headers.forEach((value, name) => {
    if (!VOLATILE_HEADERS.has(name)) headers[name] = value;
  });
  return { status: res.status, headers, body: await res.text() };
}

/** The request counters of a scrape, one line a series. */
async function requestCounters(base: string): Promise<string[]> {
  const text = await (await fetch(base + '/metrics', { headers: JSON_HEADERS })).text();
  return text.split('\n').filter((line) => /^risk_(http_requests|predictions)_total\{/.test(line));
}

describe('the hot path answers as the general path', () => {
  let project: TempProject;
  let hot: RunningApp;
  let general: RunningApp;
  before(async () => {
    project = await deployedProject({ extra: { api: { body_limit: '2kb', token: TOKEN } } });
    const address = { port: 0, host: '127.0.0.1' };
    hot = await startServer(project.config, address, silentLogger, OFFLINE_DEPS);
    general = await startServer(project.config, address, silentLogger, { ...OFFLINE_DEPS, hotPath: false });
  });
  after(async () => {
    await hot.close();
    await general.close();
  });

  for (const c of CASES) {
    test(c.name, async () => {
      const fromHot = await send(hot.url, c);
      const fromGeneral = await send(general.url, c);
      assert.equal(fromGeneral.status, c.status, fromGeneral.body);
      assert.deepEqual(fromHot, fromGeneral);
      assert.ok(fromHot.headers['content-security-policy'], 'the security headers are set');
    });
  }

  test('both count every request and row alike', async () => {
    const counters = await requestCounters(hot.url);
    assert.deepEqual(counters, await requestCounters(general.url));
    const predictionRequests = counters.filter((line) => line.startsWith('risk_http_requests_total{method="POST",route="/prediction"'));
    const total = predictionRequests.reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
    assert.equal(total, CASES.length, counters.join('\n'));
  });
});

describe('the hot path answers its own requests and hands on the rest', () => {
  let project: TempProject;
  let watcher: ModelWatcher;
  let server: http.Server;
  let base: string;
  before(async () => {
    project = await deployedProject({ extra: { api: { body_limit: '2kb', token: TOKEN } } });
    watcher = new ModelWatcher(project.config.prod_deployment_path, silentLogger).start(project.config.api.reload_interval_ms);
    const app = createApp({ config: project.config, watcher, ...OFFLINE_DEPS });
    // What the hot path hands on is answered 599 here, so the table's `hot` column is checked.
    server = http.createServer((req, res) =>
      app.hotPath(req as never, res as never, () => {
        res.writeHead(599).end();
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    watcher.stop();
    await new Promise((resolve) => server.close(resolve));
  });

  for (const c of CASES) {
    test(`${c.name}: ${c.hot ? 'answered by the hot path' : 'handed on'}`, async () => {
      const answer = await send(base, c);
      if (c.hot) assert.equal(answer.status, 200, answer.body);
      else assert.equal(answer.status, 599, answer.body);
    });
  }
});
