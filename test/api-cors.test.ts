/**
 * CORS: browser apps on the origins of `api.cors_origins` may call the API.
 * Their preflights (OPTIONS, no token) get the Access-Control-Allow-* headers,
 * their calls Access-Control-Allow-Origin; any other origin gets no CORS header
 * at all; without the key (the default) no answer carries one. OPTIONS on a
 * known path answers 204 with Allow, without the token.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { assertNoContractViolations, servedApp, type TestApp } from './api-contract.js';
import { deployedProject } from './helpers.js';

const ALLOWED = 'http://dashboard.example:3000';
const OTHER = 'http://elsewhere.example';
const TOKEN = 'cors-token';
const RECORD = { lastmonth_activity: 100, lastyear_activity: 1200, number_of_employees: 40 };
const CORS_HEADERS = ['access-control-allow-origin', 'access-control-allow-methods', 'access-control-allow-headers'];

describe('CORS for the configured origins', () => {
  let app: TestApp;
  let closed: TestApp;
  before(async () => {
    app = servedApp((await deployedProject({ extra: { api: { token: TOKEN, cors_origins: [ALLOWED.toUpperCase()] } } })).config);
    closed = servedApp((await deployedProject({ extra: { api: { token: TOKEN } } })).config);
  });
  after(assertNoContractViolations);

  const preflight = (target: TestApp, origin: string, path = '/prediction') =>
    request(target)
      .options(path)
      .set('Origin', origin)
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'authorization, content-type');

  test('a preflight from an allowed origin is answered without the token', async () => {
    const res = await preflight(app, ALLOWED);
    assert.equal(res.status, 204);
    assert.equal(res.headers['access-control-allow-origin'], ALLOWED);
    assert.equal(res.headers['access-control-allow-methods'], 'GET, POST');
    assert.match(res.headers['access-control-allow-headers'], /Authorization/);
    assert.match(res.headers['access-control-allow-headers'], /Content-Type/);
    assert.equal(res.headers.allow, 'GET, POST, OPTIONS');
    assert.match(res.headers.vary, /Origin/);
  });

  test('a call from an allowed origin carries Access-Control-Allow-Origin, on the hot path too', async () => {
    const res = await request(app)
      .post('/prediction')
      .set('Origin', ALLOWED)
      .set('Authorization', `Bearer ${TOKEN}`)
      .send({ records: [RECORD] });
    assert.equal(res.status, 200);
    assert.equal(res.headers['access-control-allow-origin'], ALLOWED);
    const refused = await request(app).get('/scoring').set('Origin', ALLOWED);
    assert.equal(refused.status, 401);
    assert.equal(refused.headers['access-control-allow-origin'], ALLOWED, 'the browser app can read why it was refused');
  });

  for (const [name, target, origin] of [
    ['another origin', () => app, OTHER],
    ['any origin when api.cors_origins is not set', () => closed, ALLOWED],
  ] as const) {
    test(`${name} gets no CORS header`, async () => {
      const res = await preflight(target(), origin);
      assert.equal(res.status, 204);
      const call = await request(target()).get('/scoring').set('Origin', origin).set('Authorization', `Bearer ${TOKEN}`);
      assert.equal(call.status, 200);
      for (const header of CORS_HEADERS) {
        assert.equal(res.headers[header], undefined, `preflight: ${header}`);
        assert.equal(call.headers[header], undefined, `call: ${header}`);
      }
    });
  }

  test('OPTIONS on a path with a parameter, and on no path', async () => {
    const asset = await request(app).options('/docs/docs.js');
    assert.equal(asset.status, 204);
    assert.equal(asset.headers.allow, 'GET, OPTIONS');
    assert.equal((await request(app).options('/no-such-endpoint').set('Authorization', `Bearer ${TOKEN}`)).status, 404);
  });
});
