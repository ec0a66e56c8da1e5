/**
 * apicalls: calls every endpoint of a running API and writes
 * the consolidated answers to `output_model_path/apireturns.txt`; an
 * unreachable API or a non-2xx answer is a clear error, exit 1, and nothing is
 * written.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { runApiCalls, type ApiCallsResult } from '../src/apicalls.js';
import { plannedCalls } from '../src/lib/automation/endpoint-plan.js';
import { FILE_NAMES } from '../src/lib/layout.js';
import { startServer, type RunningApp, type ServerDeps } from '../src/app.js';
import { ServiceError, exitCodeOf } from '../src/lib/errors.js';
import { silentLogger } from '../src/lib/log.js';
import { REPO, makeProject, type TempProject, deployedProject } from './helpers.js';

const OFFLINE: ServerDeps = {
  timings: async () => ({ status: 'ok', ingestion_seconds: 0.1, training_seconds: 0.2, rows: 1 }),
  dependencies: async () => ({
    status: 'unavailable',
    reason: 'not checked in tests',
    checked_at: new Date().toISOString(),
    duration_ms: 0,
    packages: [],
  }),
};
/**
 * The endpoints a running API has, from its route table as its document lists
 * them: every GET and POST path that answers 200, but the documentation and
 * paths with parameters (the docs assets). Nothing here names an endpoint, so
 * a new route must be called by apicalls for this test to pass.
 */
async function endpointsOf(url: string, token: string | undefined): Promise<string[]> {
  const document = (await (await fetch(`${url}/openapi.json`, { headers: token ? { authorization: `Bearer ${token}` } : {} })).json()) as {
    paths: Record<string, Record<string, { tags?: string[]; responses: Record<string, unknown> }>>;
  };
  return Object.entries(document.paths).flatMap(([route, item]) =>
    Object.entries(item)
      .filter(([method]) => ['get', 'post'].includes(method) && !route.includes('{'))
      .filter(([, operation]) => operation.responses['200'] && !operation.tags?.includes('Documentation'))
      .map(([method]) => `${method.toUpperCase()} ${route}`),
  );
}

/** An address nothing can listen on (no socket can be bound to port 0), so a connection is refused every time. */
const REFUSING = 'http://127.0.0.1:0';

const servers: RunningApp[] = [];
after(async () => {
  await Promise.all(servers.map((server) => server.close()));
});

async function serve(project: TempProject): Promise<string> {
  const server = await startServer(project.config, { port: 0, host: '127.0.0.1' }, silentLogger, OFFLINE);
  servers.push(server);
  return server.url;
}

describe('apicalls against a running API', () => {
  const cases: { name: string; extra?: Record<string, unknown>; token?: string }[] = [
    { name: 'without a token' },
    { name: 'with a bearer token', extra: { api: { token: 'sesame-123' } }, token: 'sesame-123' },
  ];
  for (const { name, extra, token } of cases) {
    test(`writes every endpoint's answer to apireturns.txt (${name})`, async () => {
      const project = await deployedProject({ extra });
      const url = await serve(project);
      const result = await runApiCalls(project.config, { url });
      const file = path.join(project.config.output_model_path, FILE_NAMES.apiReturns);
      assert.equal(result.output_file, file);
      const written = JSON.parse(fs.readFileSync(file, 'utf8')) as ApiCallsResult;
      assert.equal(written.base_url, url);
      const called = written.calls.map((call) => `${call.method} ${call.endpoint.split('?')[0]}`);
      assert.deepEqual([...called].sort(), (await endpointsOf(url, token)).sort(), 'every endpoint of the route table, once');
      assert.ok(called.length >= 14, `${called.length} endpoints called`);
      assert.equal(called[0], 'GET /health', 'the readiness probe first');
      assert.ok(written.calls.every((call) => call.status === 200));
      const body = (endpoint: string) => written.calls.find((call) => call.endpoint === endpoint)!.body as any;
      assert.equal(body('/health').model_version, 1);
      assert.equal(body('/prediction').predictions.length, 120);
      assert.equal(body('/prediction').model_version, 1);
      assert.equal(typeof body('/scoring').f1, 'number');
      assert.equal(body('/summarystats').rows, 260);
      assert.equal(body('/diagnostics').model_version, 1);
      assert.deepEqual(body('/invocations').predictions.length, 1);
      assert.deepEqual(body('/runs?limit=10'), { runs: [] });
      assert.equal(body('/risk?top=20').clients.length, 20);
      assert.match(body('/version'), /^\d+\.\d+\.\d+/);
      assert.match(body('/metrics'), /risk_http_requests_total/);
      assert.match(body('/dashboard'), /<title>Risk model dashboard<\/title>/);
      assert.equal(body('/dashboard/data/status').served.version, 1);
      assert.ok(!fs.readFileSync(file, 'utf8').includes(project.root), 'no server paths in the answers');
    });
  }
});

describe('apicalls failures are errors (exit 1) and write nothing', () => {
  let project: TempProject;
  let file: string;
  before(async () => {
    project = await deployedProject();
    file = path.join(project.config.output_model_path, FILE_NAMES.apiReturns);
    fs.writeFileSync(file, 'answers of an earlier run\n');
  });

  const cases: { name: string; url: () => Promise<string>; error: RegExp }[] = [
    {
      name: 'an API that is not running',
      url: async () => REFUSING,
      error: /cannot reach the API at http:\/\/127\.0\.0\.1:\d+ \(GET \/openapi\.json: ECONNREFUSED\); start it with npm run app/,
    },
    {
      name: 'an API with no model deployed (503)',
      url: () => serve(makeProject()),
      error: /GET \/health answered 503: no model is deployed in production_deployment/,
    },
    {
      name: 'an API that wants a token apicalls does not have (401)',
      url: () => deployedProject({ extra: { api: { token: 'other' } } }).then(serve),
      error: /GET \/openapi\.json answered 401: missing bearer token/,
    },
  ];
  for (const { name, url, error } of cases) {
    test(name, async () => {
      const base = await url();
      await assert.rejects(runApiCalls(project.config, { url: base }), (thrown: unknown) => {
        assert.ok(thrown instanceof ServiceError);
        assert.match(thrown.message, error);
        assert.equal(exitCodeOf(thrown), 1);
        return true;
      });
      assert.equal(fs.readFileSync(file, 'utf8'), 'answers of an earlier run\n');
    });
  }

  test('the command exits 1 with the message when the API is unreachable', async () => {
    const url = REFUSING;
    const script = path.join(REPO, 'dist', 'src', 'apicalls.js');
    const run = promisify(execFile)(process.execPath, [script, '--config', project.configFile, '--url', url], {
      env: { ...process.env, LOG_LEVEL: 'silent' },
    });
    await assert.rejects(run, (error: { code?: number; stdout?: string }) => {
      assert.equal(error.code, 1);
      const printed = JSON.parse(error.stdout ?? '');
      assert.equal(printed.exit_code, 1);
      assert.match(printed.error, /cannot reach the API/);
      return true;
    });
    assert.equal(fs.readFileSync(file, 'utf8'), 'answers of an earlier run\n');
  });
});

describe('the calls come from the document, so a new route is called without editing a list', () => {
  const inputs = { testFile: 'testdata/testdata.csv', features: ['a'] };
  const ok = { responses: { 200: {} } };
  const document = {
    paths: {
      '/prediction': { post: { tags: ['Predictions'], ...ok }, put: { responses: { 405: {} } }, options: { responses: { 204: {} } } },
      '/dashboard': { get: { tags: ['Dashboard'], ...ok } },
      '/dashboard/{asset}': { get: { tags: ['Dashboard'], ...ok } },
      '/docs': { get: { tags: ['Documentation'], ...ok } },
      '/health': { get: { tags: ['Probes'], ...ok } },
    },
  };
  test('every GET and POST that answers 200, probes first; not the documentation, nor paths with parameters', () => {
    assert.deepEqual(plannedCalls(document, inputs), [
      { method: 'GET', endpoint: '/health' },
      { method: 'POST', endpoint: '/prediction', body: { file_location: 'testdata/testdata.csv' } },
      { method: 'GET', endpoint: '/dashboard' },
    ]);
  });
});
