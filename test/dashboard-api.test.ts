/**
 * The dashboard's routes over HTTP (supertest, every answer checked against
 * the OpenAPI document): the page and its assets, the data routes on a fresh
 * project and after bootstrap, redeploy and a failed tick, paging and
 * filtering, bad query parameters as a table, the token, the overdue warning,
 * and that every data answer is built off the event loop (on the job runner)
 * and cached until a file behind it changes.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { ReportWorker, type JobRunner } from '../src/lib/api/report-worker.js';
import { appendRun, type FeatureDrift, type RunRecord } from '../src/lib/store/run-history.js';
import { assertError, assertNoContractViolations, servedApp, type TestApp } from './api-contract.js';
import { dashboardProject, BAD_FILE, DRIFTED_FILE, type DashboardProject } from './dashboard-project.js';
import { makeProject } from './helpers.js';

after(assertNoContractViolations);

const DATA_ROUTES = ['status', 'ticks', 'timeline', 'versions', 'drift', 'clients', 'summary'];

/** A run record of the given outcome and start time, like fullprocess writes. */
function runRecord(outcome: RunRecord['outcome'], startedAt: string, version: number | null): RunRecord {
  return {
    run_id: `run-${startedAt}`,
    started_at: startedAt,
    finished_at: startedAt,
    duration_ms: 5,
    config_file: '/somewhere/config.json',
    outcome,
    new_files: [],
    scores: { deployed_f1: null, new_data_f1: null, candidate_f1: null },
    model_drift: null,
    data_drift: null,
    decision: 'no new or changed file in the input folder',
    version_before: version,
    version_after: version,
    durations: {},
    error: null,
    notes: [],
  };
}

describe('the dashboard on a fresh project', () => {
  const project = makeProject();
  const app = servedApp(project.config);

  test('GET / redirects to the dashboard; the page and its assets are served under the CSP', async () => {
    const root = await request(app).get('/');
    assert.equal(root.status, 302);
    assert.equal(root.headers.location, 'dashboard');
    const page = await request(app).get('/dashboard');
    assert.equal(page.status, 200);
    assert.match(page.headers['content-type'], /^text\/html/);
    assert.match(page.headers['content-security-policy'], /script-src 'self'/);
    assert.doesNotMatch(page.text, /<script>|<script [^>]*>[^<]/, 'no inline script');
    assert.match(page.text, /<script src="\.\/dashboard\/dashboard\.js" defer><\/script>/);
    assert.match(
      (await request(app).get('/dashboard/')).text,
      /<script src="\.\/dashboard\.js" defer>/,
      'relative links under /dashboard/ too',
    );
    const script = await request(app).get('/dashboard/dashboard.js');
    assert.equal(script.status, 200);
    assert.match(script.headers['content-type'], /^text\/javascript/);
    assert.match(script.text, /Authorization/);
    const style = await request(app).get('/dashboard/dashboard.css');
    assert.match(style.headers['content-type'], /^text\/css/);
    assertError(await request(app).get('/dashboard/other.js'), 404, /no such dashboard asset/, project.root);
  });

  test('the status says nothing is deployed; the sections are empty, not errors', async () => {
    const status = await request(app).get('/dashboard/data/status');
    assert.equal(status.status, 200);
    assert.equal(status.body.health, 'undeployed');
    assert.equal(status.body.served, null);
    assert.deepEqual(
      status.body.warnings.map((w: { kind: string }) => w.kind),
      ['undeployed'],
    );
    assert.deepEqual(status.body.available, { clients: false, summary: false });
    assert.equal(status.body.schedule.period_seconds, 600);
    assert.deepEqual((await request(app).get('/dashboard/data/ticks')).body.rows, []);
    assert.equal((await request(app).get('/dashboard/data/timeline')).body.chart, null);
    assert.deepEqual((await request(app).get('/dashboard/data/versions')).body.versions, []);
    assert.equal((await request(app).get('/dashboard/data/drift')).body.newest, null);
    assertError(await request(app).get('/dashboard/data/clients'), 503, /no model is deployed/, project.root);
    assertError(await request(app).get('/dashboard/data/summary'), 503, /finaldata\.csv not found/, project.root);
    assertError(await request(app).get('/dashboard/files/report.pdf'), 404, /report\.pdf is not there yet/, project.root);
    assertError(await request(app).get('/dashboard/files/config.json'), 404, /no such download/, project.root);
  });

  test('bad query parameters are a 400 naming the parameter', async () => {
    const cases: [string, RegExp][] = [
      ['/dashboard/data/ticks?limit=0', /"limit" must be an integer from 1 to 200/],
      ['/dashboard/data/ticks?limit=201', /"limit" must be an integer from 1 to 200/],
      ['/dashboard/data/ticks?limit=ten', /"limit"/],
      ['/dashboard/data/ticks?offset=-1', /"offset" must be an integer/],
      ['/dashboard/data/ticks?outcome=great', /"outcome" must be one of bootstrapped, redeployed/],
      ['/dashboard/data/ticks?limit=1&limit=2', /"limit" is given 2 times/],
      ['/dashboard/data/clients?limit=1.5', /"limit"/],
      [`/dashboard/data/clients?search=${'x'.repeat(1001)}`, /"search" is longer than 1000 characters/],
    ];
    for (const [url, pattern] of cases) assertError(await request(app).get(url), 400, pattern, project.root);
  });

  test('a categorical feature in a drift record shows with its levels and its chi-square test', async () => {
    const store = project.config.prod_deployment_path;
    fs.mkdirSync(store, { recursive: true });
    const check = runRecord('no-drift', new Date().toISOString(), null);
    check.data_drift = {
      lastmonth_activity: {
        psi: 0.05,
        psi_bins: { edges: [10, 20], expected: [0.3, 0.4, 0.3], actual: [0.3, 0.35, 0.35] },
        ks_statistic: 0.02,
        ks_pvalue: 0.6,
        drifted: false,
      },
      region: {
        psi: 0.9,
        psi_bins: { levels: ['north', '', null], expected: [0.6, 0.4, 0], actual: [0.3, 0.3, 0.4] },
        chi2_statistic: 40,
        chi2_pvalue: 1e-9,
        drifted: true,
      } as unknown as FeatureDrift,
    };
    appendRun(store, check);
    const features = (await request(app).get('/dashboard/data/drift')).body.newest.features;
    assert.deepEqual(
      features.map((f: { feature: string; test: string; drifted: boolean }) => [f.feature, f.test, f.drifted]),
      [
        ['region', 'chi-square', true],
        ['lastmonth_activity', 'KS', false],
      ],
    );
    assert.match(features[0].chart.alt, /largest change in unseen levels: 40% of new rows against 0% of training rows/);
    assert.match(features[0].chart.svg, /\(empty\)/, 'the level of empty cells is named');
    fs.rmSync(path.join(store, 'runhistory.jsonl'));
  });

  test('ticks overdue by three schedule periods are a warning, judged at every answer', async () => {
    const store = project.config.prod_deployment_path;
    fs.mkdirSync(store, { recursive: true });
    appendRun(store, runRecord('no-new-data', new Date(Date.now() - 31 * 60_000).toISOString(), null));
    const status = (await request(app).get('/dashboard/data/status')).body;
    const overdue = status.warnings.find((w: { kind: string }) => w.kind === 'overdue');
    assert.ok(overdue, JSON.stringify(status.warnings));
    assert.match(overdue.text, /the newest started 31 min ago, the schedule runs one every 10 min/);
    fs.rmSync(path.join(store, 'runhistory.jsonl'));
  });
});

describe('the dashboard after bootstrap, redeploy and a failed tick', () => {
  let project: DashboardProject;
  let app: TestApp;
  before(async () => {
    project = dashboardProject();
    await project.bootstrap();
    await project.redeploy();
    await project.fail();
    app = servedApp(project.config);
  });

  test('the status: version 2 serves, the failed tick is the warning', async () => {
    const status = (await request(app).get('/dashboard/data/status')).body;
    assert.equal(status.health, 'failing');
    assert.equal(status.headline, 'Failing: the newest tick failed');
    assert.equal(status.served.version, 2);
    assert.equal(status.newest_tick.outcome, 'failed');
    assert.deepEqual(
      status.warnings.map((w: { kind: string }) => w.kind),
      ['failed'],
    );
    assert.ok(status.warnings[0].text.includes(BAD_FILE));
    assert.deepEqual(status.ticks.total, 3);
    assert.equal(status.ticks.by_outcome.redeployed, 1);
    assert.deepEqual(status.available, { clients: true, summary: true });
    assert.ok(!JSON.stringify(status).includes(project.root), 'no server path');
  });

  test('ticks: newest first, paged, filtered by outcome', async () => {
    const all = (await request(app).get('/dashboard/data/ticks')).body;
    assert.deepEqual(
      all.rows.map((r: { outcome: string }) => r.outcome),
      ['failed', 'redeployed', 'bootstrapped'],
    );
    const second = (await request(app).get('/dashboard/data/ticks?limit=1&offset=1')).body;
    assert.equal(second.total, 3);
    assert.deepEqual(second.rows[0].new_files, [DRIFTED_FILE]);
    assert.equal(second.rows[0].version_before, 1);
    assert.equal(second.rows[0].version_after, 2);
    const failed = (await request(app).get('/dashboard/data/ticks?outcome=failed')).body;
    assert.equal(failed.total, 1);
    assert.match(failed.rows[0].error, /twelve/);
    assert.equal((await request(app).get('/dashboard/data/ticks?offset=10')).body.rows.length, 0);
  });

  test('versions: both, gate figures, coefficient changes, the rollback command beside the old one', async () => {
    const answer = (await request(app).get('/dashboard/data/versions')).body;
    assert.equal(answer.current, 2);
    const [v2, v1] = answer.versions;
    assert.equal(v2.version, 2);
    assert.equal(v2.current, true);
    assert.equal(v2.rollback_command, null);
    assert.equal(v1.rollback_command, 'npm run deployment -- --rollback 1');
    assert.ok(v2.gate.candidate_f1 > v2.gate.deployed_f1);
    assert.equal(v1.checks.count, 1, 'the drift check ran while v1 was deployed');
    assert.ok(v1.checks.newest[0].drifted);
    assert.equal(v2.compared_with, 1);
    assert.equal(v2.coefficients.length, 4, 'three features and the intercept');
    const changes = v2.coefficients.map((c: { change: number }) => Math.abs(c.change));
    assert.deepEqual(
      changes,
      [...changes].sort((a, b) => b - a),
      'largest change first',
    );
    assert.match(answer.f1_chart.svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/, 'the SVG is not redacted');
    assert.match(answer.f1_chart.alt, /version 2 test F1 0\.\d{4}/);
  });

  test('drift: every feature of the newest check with its chart, the PSI history', async () => {
    const answer = (await request(app).get('/dashboard/data/drift')).body;
    assert.equal(answer.threshold, 0.2);
    assert.equal(answer.checks, 1);
    assert.equal(answer.newest.outcome, 'redeployed');
    const features = answer.newest.features;
    assert.deepEqual(features.map((f: { feature: string }) => f.feature).sort(), [
      'lastmonth_activity',
      'lastyear_activity',
      'number_of_employees',
    ]);
    for (const feature of features) {
      assert.equal(feature.test, 'KS');
      assert.ok(feature.chart.svg.startsWith('<svg'));
      assert.match(feature.chart.alt, /Training \(blue\) against new data \(red\)/);
    }
    assert.ok(answer.psi_chart.svg.includes('threshold 0.2'));
  });

  test('the call list: ranked, searchable by id in any case, with reasons in words', async () => {
    const head = (await request(app).get('/dashboard/data/clients?limit=3')).body;
    const risk = (await request(app).get('/risk?top=3')).body;
    assert.deepEqual(
      head.clients.map((c: { id: string }) => c.id),
      risk.clients.map((c: { corporation: string }) => c.corporation),
    );
    assert.deepEqual(
      head.clients.map((c: { rank: number }) => c.rank),
      [1, 2, 3],
    );
    assert.match(head.clients[0].reasons[0], /typical/);
    const id = head.clients[1].id as string;
    const found = (await request(app).get(`/dashboard/data/clients?search=${encodeURIComponent(id.toUpperCase())}`)).body;
    assert.ok(found.matched >= 1);
    assert.ok(found.clients.every((c: { id: string }) => c.id.includes(id)));
    assert.ok(
      found.clients.some((c: { id: string; rank: number }) => c.id === id && c.rank === 2),
      'ranks stay those of the whole list',
    );
    assert.equal((await request(app).get('/dashboard/data/clients?search=no-such-client-id')).body.matched, 0);
  });

  test('the data summary and the downloads', async () => {
    const summary = (await request(app).get('/dashboard/data/summary')).body;
    const target = summary.columns.find((c: { role: string }) => c.role === 'target');
    assert.equal(target.name, 'exited');
    assert.ok(target.mean > 0 && target.mean < 1);
    assert.ok(summary.columns.some((c: { role: string; missing: number }) => c.role === 'feature' && c.missing > 0));
    const csv = await request(app).get('/dashboard/files/riskscores.csv');
    assert.equal(csv.status, 200);
    assert.match(csv.headers['content-disposition'], /^attachment; filename="?riskscores\.csv"?$/);
    assert.match(csv.text, /^rank,corporation,probability/);
    const pdf = await request(app).get('/dashboard/files/report.pdf').buffer(true);
    assert.equal(pdf.status, 200);
    assert.match(pdf.headers['content-type'], /^application\/pdf/);
  });
});

describe('the dashboard behind a token', () => {
  const TOKEN = 'dash-token-99';
  const project = makeProject({ extra: { api: { token: TOKEN } } });
  const app = servedApp(project.config);

  test('the page and its assets are open, every data route needs the token', async () => {
    assert.equal((await request(app).get('/')).status, 302);
    for (const open of ['/dashboard', '/dashboard/dashboard.js', '/dashboard/dashboard.css'])
      assert.equal((await request(app).get(open)).status, 200, open);
    const page = (await request(app).get('/dashboard')).text;
    assert.ok(!page.includes(TOKEN));
    for (const route of DATA_ROUTES) {
      assertError(await request(app).get(`/dashboard/data/${route}`), 401, /missing bearer token/, project.root);
      const wrong = await request(app).get(`/dashboard/data/${route}`).set('Authorization', 'Bearer nope');
      assertError(wrong, 401, /invalid bearer token/, project.root);
    }
    assertError(await request(app).get('/dashboard/files/riskscores.csv'), 401, /missing bearer token/, project.root);
    const status = await request(app).get('/dashboard/data/status').set('Authorization', `Bearer ${TOKEN}`);
    assert.equal(status.status, 200);
    assert.equal(status.body.health, 'undeployed');
  });
});

describe('the dashboard never works on the event loop', () => {
  let project: DashboardProject;
  const calls: string[] = [];
  let worker: ReportWorker;
  let app: TestApp;
  before(async () => {
    project = dashboardProject();
    await project.bootstrap();
    worker = new ReportWorker();
    const counting: JobRunner = {
      run: (job, input) => {
        calls.push(job === 'dashboard' ? `dashboard:${(input as { view: string }).view}` : job);
        return worker.run(job, input);
      },
    };
    app = servedApp(project.config, { jobs: counting });
  });
  after(() => worker.close());

  test('each data answer comes from the job runner, and a poll with nothing changed costs no job', async () => {
    for (const route of DATA_ROUTES) assert.equal((await request(app).get(`/dashboard/data/${route}`)).status, 200, route);
    assert.deepEqual([...new Set(calls)].sort(), [
      'dashboard:drift',
      'dashboard:status',
      'dashboard:ticks',
      'dashboard:timeline',
      'dashboard:versions',
      'missing',
      'riskPage',
      'summary',
    ]);
    calls.length = 0;
    const first = (await request(app).get('/dashboard/data/status')).body.revision;
    const second = (await request(app).get('/dashboard/data/status')).body.revision;
    for (const route of ['timeline', 'versions', 'drift', 'summary']) await request(app).get(`/dashboard/data/${route}`);
    assert.equal(first, second);
    assert.deepEqual(calls, [], 'cached until a file changes');

    // A tick appends to the run history: the revision changes and the status is built again.
    await project.idle();
    const third = (await request(app).get('/dashboard/data/status')).body;
    assert.notEqual(third.revision, first);
    assert.equal(third.ticks.total, 2);
    assert.deepEqual(calls, ['dashboard:status']);
  });
});
