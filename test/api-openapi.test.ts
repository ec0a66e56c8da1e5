/**
 * The API describes itself: GET /openapi.json is a valid OpenAPI 3.1 document
 * (checked by @seriousme/openapi-schema-validator, its schemas compiled by ajv
 * in strict mode) that documents every route the app serves, with and without
 * a bearer token. That the answers match it is checked on every answer of the
 * API tests (api-contract.ts); here we also check that check bites.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import request from 'supertest';
import { createApp } from '../src/lib/api/app.js';
import type { Config } from '../src/lib/config.js';
import { ModelWatcher } from '../src/lib/api/model-watcher.js';
import { ApiContract, assertNoContractViolations, contractChecked, contractOf } from './api-contract.js';
import { makeProject } from './helpers.js';

const watchers: ModelWatcher[] = [];
after(() => watchers.forEach((watcher) => watcher.stop()));
after(assertNoContractViolations);

function appFor(config: Config) {
  const watcher = new ModelWatcher(config.prod_deployment_path).start(50);
  watchers.push(watcher);
  return createApp({ config, watcher, timings: async () => ({ status: 'unavailable', reason: 'not measured in tests' }) });
}

type Json = Record<string, any>;
const METHODS = ['get', 'post', 'put', 'delete', 'patch', 'options'];
const operationsOf = (document: Json): [string, string, Json][] =>
  Object.entries(document.paths as Json).flatMap(([path, item]) =>
    Object.entries(item as Json)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, operation]): [string, string, Json] => [path, method, operation as Json]),
  );

describe('GET /openapi.json', () => {
  const plain = makeProject();
  const secured = makeProject({ extra: { api: { token: 'sesame-123' } } });
  const variants = [
    { name: 'without a token', config: plain.config, token: null },
    { name: 'with a bearer token', config: secured.config, token: 'sesame-123' },
  ];

  for (const { name, config, token } of variants) {
    test(`is a valid OpenAPI 3.1 document (${name})`, async () => {
      const { document } = await contractOf(appFor(config), token);
      const validator = new Validator();
      const result = await validator.validate(document);
      assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
      assert.equal(validator.version, '3.1');
    });

    test(`documents every route with its answers (${name})`, async () => {
      const { document } = await contractOf(appFor(config), token);
      const operations = operationsOf(document);
      const undocumented = operations.filter(([, , operation]) => operation['x-undocumented']).map(([path, method]) => `${method} ${path}`);
      assert.deepEqual(undocumented, [], 'every route has an operation in src/lib/api/openapi.ts');
      const ids = operations.map(([, , operation]) => operation.operationId as string);
      assert.equal(new Set(ids).size, ids.length, 'operation ids are unique');
      for (const [path, method, operation] of operations) {
        // A method the path lacks answers 405 (with Allow); OPTIONS 204; GET / redirects; every other operation documents its 200.
        const success = operation.operationId.endsWith('NotAllowed')
          ? '405'
          : method === 'options'
            ? '204'
            : path === '/' && method === 'get'
              ? '302'
              : '200';
        assert.ok(operation.responses[success], `${method} ${path} documents its ${success}`);
        assert.ok(operation.responses['500'], `${method} ${path} documents its 500`);
        assert.ok(Array.isArray(operation.security), `${method} ${path} says whether it needs the token`);
        assert.equal(
          Boolean(operation.responses['401']),
          token !== null && operation.security.length > 0,
          `${method} ${path}: 401 only when a token is required`,
        );
      }
    });
  }

  test('lists the probes and the dashboard page (no data) as open and everything else behind the token', async () => {
    const { document } = await contractOf(appFor(secured.config), 'sesame-123');
    assert.deepEqual(document.security, [{ bearerAuth: [] }]);
    const open = operationsOf(document)
      .filter(([, method, operation]) => method === 'get' && Array.isArray(operation.security) && operation.security.length === 0)
      .map(([path]) => path)
      .sort();
    assert.deepEqual(open, ['/', '/dashboard', '/dashboard/{asset}', '/health', '/health/live', '/ping']);
    const options = operationsOf(document).filter(([, method]) => method === 'options');
    assert.ok(options.length > 0 && options.every(([, , operation]) => operation.security.length === 0), 'OPTIONS needs no token');
    assert.deepEqual(document.components.securitySchemes, {
      bearerAuth: { type: 'http', scheme: 'bearer', description: 'api.token of the config' },
    });
  });

  test('its schemas compile in ajv strict mode', async () => {
    const { document } = await contractOf(appFor(plain.config));
    // strictRequired would refuse the usual oneOf: [{ required: [key] }] idiom.
    const ajv = new Ajv2020({ strict: true, strictRequired: false, allowUnionTypes: true });
    addFormats.default(ajv);
    ajv.addKeyword('example');
    // Strict mode refuses the unknown "components" keyword: compile the schemas as $defs, reaching each one.
    const defs = JSON.parse(JSON.stringify(document.components.schemas).replaceAll('#/components/schemas/', '#/$defs/')) as Json;
    assert.doesNotThrow(() => ajv.compile({ $defs: defs, anyOf: Object.keys(defs).map((name) => ({ $ref: `#/$defs/${name}` })) }));
  });

  test('describes every route once, including those of the other routers', async () => {
    const { document } = await contractOf(appFor(plain.config));
    const paths = Object.keys(document.paths as Json);
    for (const path of [
      '/prediction',
      '/invocations',
      '/scoring',
      '/summarystats',
      '/diagnostics',
      '/health',
      '/health/live',
      '/ping',
      '/version',
      '/metrics',
      '/runs',
      '/drift',
      '/openapi.json',
      '/docs',
      '/docs/{asset}',
      '/dashboard',
      '/dashboard/data/status',
    ])
      assert.ok(paths.includes(path), path);
    assert.deepEqual(Object.keys(document.paths['/prediction'] as Json).sort(), ['delete', 'get', 'options', 'patch', 'post', 'put']);
    assert.deepEqual(document.paths['/prediction'].put.responses['405'], { $ref: '#/components/responses/MethodNotAllowed' });
    assert.ok(document.components.responses.MethodNotAllowed.headers.Allow, 'a 405 documents its Allow header');
  });
});

describe('the contract check catches an answer that drifts from the document', () => {
  const project = makeProject();
  const app = appFor(project.config);

  const drifts: { name: string; change: (document: Json) => void; url: string; problem: RegExp }[] = [
    {
      name: 'a status the operation does not list',
      change: (document) => delete document.paths['/health'].get.responses['503'],
      url: '/health',
      problem: /status 503 is not documented for GET \/health/,
    },
    {
      name: 'a field the schema does not allow',
      change: (document) => delete document.components.schemas.NotReady.properties.error,
      url: '/ping',
      problem: /must NOT have additional properties/,
    },
    {
      name: 'a content type the answer does not list',
      change: (document) => (document.paths['/version'].get.responses['200'].content = { 'application/json': { schema: {} } }),
      url: '/version',
      problem: /content type "text\/plain" is not documented/,
    },
    {
      name: 'a path the document does not have',
      change: (document) => delete document.paths['/scoring'],
      url: '/scoring',
      problem: /an undocumented path must answer 404/,
    },
  ];
  for (const { name, change, url, problem } of drifts) {
    test(name, async () => {
      const { document } = await contractOf(app);
      const drifted = structuredClone(document);
      change(drifted);
      const res = await request(app).get(url);
      const answer = { method: 'GET', url, status: res.status, contentType: res.headers['content-type'], body: res.text };
      const problems = new ApiContract(drifted).problems(answer);
      assert.equal(problems.length, 1, JSON.stringify(problems));
      assert.match(problems[0], problem);
      assert.deepEqual(new ApiContract(document).problems(answer), []);
    });
  }

  test('an answer through contractChecked that breaks the document becomes a 599 naming it', async () => {
    const { document } = await contractOf(app);
    const drifted = structuredClone(document);
    delete drifted.paths['/health'].get.responses['503'];
    const seen: string[] = [];
    const res = await request(contractChecked(app, null, { document: drifted, violations: seen })).get('/health');
    assert.equal(res.status, 599);
    assert.match(res.body.error, /answer breaks the OpenAPI document: GET \/health -> 503: status 503 is not documented/);
    assert.equal(seen.length, 1);
  });
});
