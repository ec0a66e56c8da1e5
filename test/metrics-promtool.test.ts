/**
 * A live scrape of a running server, after predictions, errors and a real
 * fullprocess tick with new data: every metric the operations contract names
 * is there, label values stay bounded, and `promtool check metrics` passes
 * (skipped, saying so, only when promtool is not installed).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { startServer, type ServerDeps } from '../src/app.js';
import { runFullprocess } from '../src/fullprocess.js';
import { silentLogger } from '../src/lib/log.js';
import { FIXTURES, OFFLINE_DEPS, deployedProject } from './helpers.js';
import { parseSamples, promtoolCheckMetrics, promtoolMissing, samplesOf } from './prometheus-text.js';

const OFFLINE: ServerDeps = OFFLINE_DEPS;

const NAMED = [
  'process_cpu_seconds_total',
  'process_resident_memory_bytes',
  'nodejs_heap_size_used_bytes',
  'nodejs_eventloop_lag_seconds',
  'risk_http_requests_total',
  'risk_http_request_duration_seconds_bucket',
  'risk_model_info',
  'risk_model_f1',
  'risk_model_roc_auc',
  'risk_new_data_f1',
  'risk_feature_psi',
  'risk_feature_ks_pvalue',
  'risk_ticks_total',
  'risk_last_tick_timestamp_seconds',
  'risk_model_reload_failures_total',
];

test('a live scrape holds every named metric and passes promtool check metrics', async (t) => {
  const project = await deployedProject({ extra: { automation: { settle_seconds: 0 } } });
  for (const name of fs.readdirSync(path.join(FIXTURES, 'generated', 'sourcedata'))) {
    fs.copyFileSync(path.join(FIXTURES, 'generated', 'sourcedata', name), path.join(project.input, name));
  }
  const tick = await runFullprocess(project.config);
  assert.ok(tick.outcome === 'redeployed' || tick.outcome === 'rejected' || tick.outcome === 'no-drift', tick.outcome);

  const server = await startServer(project.config, { port: 0, host: '127.0.0.1' }, silentLogger, OFFLINE);
  let text: string;
  try {
    const record = { lastmonth_activity: 100, lastyear_activity: 1200, number_of_employees: 40 };
    const post = (body: unknown) =>
      fetch(`${server.url}/prediction`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal((await post({ records: [record, record] })).status, 200);
    assert.equal((await post({ records: 'nope' })).status, 400);
    assert.equal((await fetch(`${server.url}/no/such/path/${'x'.repeat(50)}`)).status, 404);
    assert.equal((await fetch(`${server.url}/prediction`, { method: 'DELETE' })).status, 405);
    const res = await fetch(`${server.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    text = await res.text();
  } finally {
    await server.close();
  }

  const samples = parseSamples(text);
  for (const name of NAMED) assert.ok(samplesOf(samples, name).length > 0, `${name} is in the scrape`);
  const routes = new Set(samplesOf(samples, 'risk_http_requests_total').map((s) => s.labels.route));
  assert.deepEqual([...routes].sort(), ['/prediction', 'unmatched'], 'an unknown path is "unmatched", not its own label');
  assert.ok(text.includes('le="30"'), 'latency buckets reach 30 s');
  assert.ok(samplesOf(samples, 'risk_http_request_duration_seconds_count', { route: '/prediction', status: '400' }).length === 1);

  const missing = promtoolMissing();
  if (missing) return t.skip(missing);
  const check = promtoolCheckMetrics(text);
  assert.equal(check.status, 0, `promtool check metrics:\n${check.output}`);
});
