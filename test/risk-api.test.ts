/**
 * GET /risk: `top` must be a positive integer (a table of bad values, each a
 * 400 naming the parameter); without a model or ingested data it is a 503
 * that names what to run, never a server path.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import request from 'supertest';
import type express from 'express';
import { runDeployment } from '../src/deployment.js';
import { runIngestion } from '../src/ingestion.js';
import { createApp } from '../src/lib/api/app.js';
import { ModelWatcher } from '../src/lib/api/model-watcher.js';
import { runScoring } from '../src/scoring.js';
import { runTraining } from '../src/training.js';
import { makeProject, type TempProject } from './helpers.js';

let project: TempProject;
let watcher: ModelWatcher;
let app: express.Express;

function appFor(config: TempProject['config'], store: ModelWatcher): express.Express {
  return createApp({
    config,
    watcher: store,
    timings: async () => ({ status: 'unavailable', reason: 'not measured in this test' }),
    dependencies: async () => ({
      status: 'unavailable',
      reason: 'not checked',
      checked_at: new Date().toISOString(),
      duration_ms: 0,
      packages: [],
    }),
  });
}

before(async () => {
  project = makeProject();
  await runIngestion(project.config);
  await runTraining(project.config);
  await runScoring(project.config);
  await runDeployment(project.config);
  watcher = new ModelWatcher(project.config.prod_deployment_path).start(50);
  app = appFor(project.config, watcher);
});

after(() => watcher.stop());

test('top: a positive integer, else 400 naming it', async () => {
  const bad: (string | string[])[] = ['0', '-3', '1.5', 'abc', '', '1e3', ' 2', '0x10', '99999999999999999999', ['1', '2']];
  for (const top of bad) {
    const answer = await request(app).get('/risk').query({ top });
    assert.equal(answer.status, 400, `top=${JSON.stringify(top)}: ${answer.text}`);
    // Given twice, the API-wide rule for repeated query parameters answers first.
    assert.match(answer.body.error, Array.isArray(top) ? /"top" is given 2 times/ : /"top" must be a positive integer/);
  }
  const three = await request(app).get('/risk?top=3');
  assert.equal(three.status, 200);
  assert.equal(three.body.clients.length, 3);
  assert.deepEqual(Object.keys(three.body.clients[0]), ['corporation', 'probability', 'reasons']);
  assert.deepEqual(Object.keys(three.body.clients[0].reasons[0]), ['feature', 'value', 'contribution']);
  assert.equal((await request(app).post('/risk')).status, 405);
});

test('no ingested data, or no model: 503 saying what to run, without server paths', async () => {
  const finaldata = path.join(project.config.output_folder_path, 'finaldata.csv');
  const aside = `${finaldata}.aside`;
  fs.renameSync(finaldata, aside);
  try {
    const answer = await request(app).get('/risk');
    assert.equal(answer.status, 503);
    assert.match(answer.body.error, /finaldata\.csv not found \(run ingestion first\)/);
    assert.ok(!answer.body.error.includes(project.root), answer.body.error);
  } finally {
    fs.renameSync(aside, finaldata);
  }
  const empty = makeProject();
  const idle = new ModelWatcher(empty.config.prod_deployment_path).start(50);
  try {
    const answer = await request(appFor(empty.config, idle)).get('/risk');
    assert.equal(answer.status, 503);
    assert.match(answer.body.error, /no model is deployed/);
  } finally {
    idle.stop();
  }
});
