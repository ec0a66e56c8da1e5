/**
 * The API's access log: one info entry a request, with method, route, path,
 * status, duration and the rows it predicted (on stderr as one JSON line each,
 * which metrics-cluster.test.ts reads from real processes).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import request from 'supertest';
import { createApp } from '../src/lib/api/app.js';
import type { Logger } from '../src/lib/log.js';
import { ModelWatcher } from '../src/lib/api/model-watcher.js';
import { deployedProject } from './helpers.js';

interface Entry {
  level: string;
  component: string;
  message: string;
  fields: Record<string, unknown>;
}

/** A logger keeping what it is given. */
function capturingLogger(entries: Entry[], component = 'app'): Logger {
  const at =
    (level: string) =>
    (message: string, fields: Record<string, unknown> = {}): void => {
      entries.push({ level, component, message, fields });
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (name) => capturingLogger(entries, `${component}:${name}`),
  };
}

const RECORD = { lastmonth_activity: 100, lastyear_activity: 1200, number_of_employees: 40 };
let watcher: ModelWatcher;
let app: ReturnType<typeof createApp>;
const entries: Entry[] = [];

before(async () => {
  const project = await deployedProject();
  watcher = new ModelWatcher(project.config.prod_deployment_path);
  watcher.refresh();
  app = createApp({ config: project.config, watcher, log: capturingLogger(entries) });
});
after(() => watcher.stop());

test('every request is logged once at info level, with the rows it predicted', async () => {
  const cases = [
    {
      send: () =>
        request(app)
          .post('/prediction')
          .send({ records: [RECORD, RECORD, RECORD] }),
      method: 'POST',
      route: '/prediction',
      path: '/prediction',
      status: 200,
      rows: 3,
    },
    {
      send: () =>
        request(app)
          .post('/invocations')
          .set('Content-Type', 'text/csv')
          .send('lastmonth_activity,lastyear_activity,number_of_employees\n1,2,3\n'),
      method: 'POST',
      route: '/invocations',
      path: '/invocations',
      status: 200,
      rows: 1,
    },
    {
      send: () => request(app).post('/prediction').send({ records: [] }),
      method: 'POST',
      route: '/prediction',
      path: '/prediction',
      status: 400,
      rows: null,
    },
    { send: () => request(app).get('/health'), method: 'GET', route: '/health', path: '/health', status: 200, rows: null },
    {
      send: () => request(app).get('/no/such/thing?x=1'),
      method: 'GET',
      route: 'unmatched',
      path: '/no/such/thing',
      status: 404,
      rows: null,
    },
  ];
  for (const { send, method, route, path, status, rows } of cases) {
    entries.length = 0;
    const res = await send();
    assert.equal(res.status, status, res.text);
    const access = entries.filter((entry) => entry.component === 'app:access');
    assert.equal(access.length, 1, `one entry for ${method} ${route}`);
    const [{ level, message, fields }] = access;
    assert.equal(level, 'info');
    assert.equal(message, `${method} ${route} ${status}`);
    assert.deepEqual({ ...fields, duration_ms: undefined }, { method, route, path, status, duration_ms: undefined, rows });
    assert.ok(typeof fields.duration_ms === 'number' && fields.duration_ms >= 0);
  }
});
