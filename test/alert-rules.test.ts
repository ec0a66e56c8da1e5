/**
 * The shipped alert rules: promtool checks them and runs their unit tests
 * (ops/prometheus/alerts.test.yml, also run by .ci/run); every alert has a
 * case where it fires, every metric a rule reads is one the API publishes, and
 * every alert is explained in docs/operations.md. The rejected-candidate
 * runbook does not send the operator to deploy the candidate the gate rejected.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { REPO } from './helpers.js';
import { promtoolMissing } from './prometheus-text.js';

const OPS = path.join(REPO, 'ops', 'prometheus');
const RULES = fs.readFileSync(path.join(OPS, 'alerts.yml'), 'utf8');
const CASES = fs.readFileSync(path.join(OPS, 'alerts.test.yml'), 'utf8');
const ALERTS = [...RULES.matchAll(/^\s+- alert: (\w+)$/gm)].map((m) => m[1]);
const SOURCES = ['health-metrics.ts', 'metrics-routes.ts'].map((name) =>
  fs.readFileSync(path.join(REPO, 'src', 'lib', 'api', name), 'utf8'),
);

test('promtool check rules and promtool test rules pass', (t) => {
  const missing = promtoolMissing();
  if (missing) return t.skip(missing);
  for (const args of [
    ['check', 'rules', 'alerts.yml'],
    ['test', 'rules', 'alerts.test.yml'],
  ]) {
    const run = spawnSync('promtool', args, { cwd: OPS, encoding: 'utf8' });
    assert.equal(run.status, 0, `promtool ${args.join(' ')}:\n${run.stdout}${run.stderr}`);
  }
});

test('every alert has a promtool case where it fires, and is explained in docs/operations.md', () => {
  assert.ok(ALERTS.length >= 12, ALERTS.join(', '));
  const docs = fs.readFileSync(path.join(REPO, 'docs', 'operations.md'), 'utf8');
  for (const alert of ALERTS) {
    const firing = new RegExp(`alertname: ${alert}\\n\\s+exp_alerts:\\n\\s+- exp_labels`);
    assert.match(CASES, firing, `${alert} fires in some case of alerts.test.yml`);
    assert.match(docs, new RegExp(`### ${alert}\\b`), `${alert} has its section in docs/operations.md`);
  }
});

test('every risk_* metric a rule reads is published by the API', () => {
  const read = new Set([...RULES.matchAll(/\b(risk_[a-z0-9_]+)/g)].map((m) => m[1]));
  for (const name of read)
    assert.ok(
      SOURCES.some((source) => source.includes(`'${name}'`)),
      `${name} is published`,
    );
});

test('the rejected-candidate runbook does not tell the operator to deploy the rejected candidate', () => {
  const rule = RULES.slice(RULES.indexOf('- alert: RiskDriftCandidateRejected'));
  const runbook = /runbook: '((?:[^']|'')*)'/.exec(rule)![1];
  assert.doesNotMatch(runbook, /deploy the candidate by hand|npm run deployment(?! -- --rollback)/);
  assert.match(runbook, /do not deploy it/);
});
