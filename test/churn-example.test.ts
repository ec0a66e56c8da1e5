/**
 * The loop on examples/churn (categorical features, a no/yes target, missing
 * numeric and categorical cells, a 50-level region): bootstrap, a tick on a file
 * drifted on the categories that retrains and redeploys, the report and the risk
 * list, and the API answering with categories.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import request from 'supertest';
import { runFullprocess } from '../src/fullprocess.js';
import { loadConfig } from '../src/lib/config.js';
import { assertNoContractViolations, servedApp } from './api-contract.js';
import { REPO, tempFolder } from './helpers.js';

test('examples/churn: bootstrap, drift on the categories, retrain, report, API', async () => {
  const root = tempFolder('churn-example-');
  fs.cpSync(path.join(REPO, 'examples', 'churn'), root, { recursive: true });
  const config = loadConfig(path.join(root, 'config.json'));

  const first = await runFullprocess(config);
  assert.equal(first.outcome, 'bootstrapped', first.decision);

  fs.copyFileSync(path.join(root, 'later', 'clients3.csv'), path.join(root, 'incoming', 'clients3.csv'));
  const second = await runFullprocess(config);
  assert.equal(second.outcome, 'redeployed', second.decision);
  const drift = second.data_drift as Record<string, { psi: number; drifted: boolean }>;
  assert.ok(drift.region.drifted && drift.region.psi > config.drift.psi_threshold, `region: ${JSON.stringify(drift.region)}`);
  assert.ok(drift.contract.drifted, 'contract');
  assert.equal(drift.lastmonth_activity.drifted, false, 'the numeric columns did not move');

  const model = JSON.parse(fs.readFileSync(path.join(root, 'production_deployment', 'trainedmodel.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  assert.match(JSON.stringify(model), /"month-to-month"/);
  assert.ok(fs.statSync(path.join(root, 'models', 'report.pdf')).size > 10_000);
  const risk = fs.readFileSync(path.join(root, 'models', 'riskscores.csv'), 'utf8');
  assert.ok(risk.split('\n').length > 100, 'one line a client');
  assert.match(risk, /contract: month-to-month \(raises the risk\)/, 'a level is said in words');

  const app = servedApp(config);
  const client = {
    lastmonth_activity: 60,
    lastyear_activity: '',
    number_of_employees: 40,
    region: 'CA',
    contract: 'month-to-month',
    support_plan: 'no',
    payment_method: 'electronic check',
    industry: 'nowhere seen',
  };
  const prediction = await request(app)
    .post('/prediction')
    .send({ records: [client] });
  assert.equal(prediction.status, 200, prediction.text);
  assert.match(prediction.text, /"unseen_levels":\{"industry":1\}/, 'the unseen level is counted, not refused');
  const invocations = await request(app)
    .post('/invocations')
    .send({ dataframe_split: { columns: Object.keys(client), data: [Object.values(client)] } });
  assert.equal(invocations.status, 200, invocations.text);
  for (const route of ['/risk', '/summarystats', '/drift']) {
    const answer = await request(app).get(route);
    assert.equal(answer.status, 200, `${route}: ${answer.text}`);
  }
  const listed = (await request(app).get('/risk?top=20')).body as {
    clients: { reasons: { feature: string; value: unknown; contribution: number }[] }[];
  };
  const reasons = listed.clients.flatMap((one) => one.reasons);
  assert.ok(
    reasons.some((reason) => reason.feature === 'contract' && reason.value === 'month-to-month' && reason.contribution > 0),
    'a categorical reason carries its level as the value',
  );
  assert.ok(reasons.some((reason) => reason.feature === 'region' && typeof reason.value === 'string'));
  assertNoContractViolations();
});
