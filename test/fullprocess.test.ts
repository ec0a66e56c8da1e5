/**
 * The automation loop end to end in a temporary project:
 * bootstrap -> no new data (nothing written but the run record) -> a new file
 * without drift (remembered) -> drifted data (redeployed, and the API serves
 * the new version) -> a candidate the gate rejects -> rollback. The API runs
 * in-process on a free port, so deploying ticks also run apicalls against it.
 * Every tick's JSON is checked against the rule, and the run history holds
 * one line a tick.
 *
 * Data come from the project's generator (same seeds, same files):
 *   practice  --only practice --seed 2 --rows 300 --files 2            (= the shipped practicedata)
 *   test      --only test --seed 2 --test-rows 400                      (= the shipped testdata)
 *   no drift  --only source --seed 3 --rows 300 --files 1 --first-index 3 --drift 0
 *   drift     --only source --seed 4 --rows 300 --files 1 --first-index 4 --drift 1
 *   reversed  --only source --seed 5 --rows 1500 --files 1 --first-index 5 --drift 1 --concept-drift 2
 * Figures these give (margins of 15 F1 points or more at every decision):
 *   v1 test F1 0.6374; v1 on dataset3 0.8221 (no drift); v1 on dataset4 0.3043 (drift),
 *   candidate test F1 0.7875 -> v2; v2 on dataset5 0.2030 (drift), candidate 0.5556 < 0.7875 -> rejected.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import request from 'supertest';
import { rollbackDeployment } from '../src/deployment.js';
import { runFullprocess, type TickResult } from '../src/fullprocess.js';
import { createApp } from '../src/lib/api/app.js';
import { readCurrentDeployment, type CurrentDeployment } from '../src/lib/store/deploy-store.js';
import { sha256 } from '../src/lib/store/files.js';
import { loadModelFile } from '../src/lib/model/model-file.js';
import { ModelWatcher } from '../src/lib/api/model-watcher.js';
import { readRuns, type NumericDrift } from '../src/lib/store/run-history.js';
import { FILE_NAMES } from '../src/lib/layout.js';
import { evaluateModel, readDataForModel } from '../src/lib/model/evaluation.js';
import { OFFLINE_DEPS, REPO, assertClose, makeProject, snapshot, tempFolder, withoutLeases } from './helpers.js';

const FEATURES = ['lastmonth_activity', 'lastyear_activity', 'number_of_employees'];

/** Runs the project's data generator (dist/scripts/generate-data.js) into `out`. */
function generate(out: string, args: string): void {
  execFileSync(process.execPath, [path.join(REPO, 'dist', 'scripts', 'generate-data.js'), '--out', out, ...args.split(' ')], {
    stdio: 'pipe',
  });
}

/** Every file of the project except the run history and the lock's lease (what a no-op tick must leave alone). */
function withoutRunHistory(root: string): Record<string, string> {
  const files = snapshot(root);
  const key = Object.keys(files).find((name) => path.basename(name) === FILE_NAMES.runHistory);
  if (key) delete files[key];
  return withoutLeases(files);
}

/** Resolves once the watcher serves `version` (the 2 s promise is api-reload's to time; this only bounds the wait). */
function served(watcher: ModelWatcher, version: number): Promise<void> {
  return new Promise((resolve, reject) => {
    // This timer also keeps the event loop alive: the watcher's own poll timer is unref'd.
    const deadline = setTimeout(() => reject(new Error(`the API did not serve version ${version} within 10 s`)), 10_000);
    const done = (): void => {
      clearTimeout(deadline);
      resolve();
    };
    watcher.onSwitch((model) => {
      if (model.version === version) done();
    });
    if (watcher.current()?.version === version) done();
  });
}

/**
 * A deploying tick refreshed the outputs: apicalls ran against the API. A
 * diagnostics or reporting failure is a note by design (their own tests cover
 * them); it is printed, not failed on.
 */
function assertApiCallsRan(tick: TickResult): void {
  assert.ok(!tick.notes.some((note) => /apicalls|not running/.test(note)), tick.notes.join('; '));
  if (tick.notes.length > 0) console.log(`notes of the ${tick.outcome} tick: ${tick.notes.join('; ')}`);
}

/** Checks the parts of a tick's JSON every outcome shares. */
function assertTick(tick: TickResult, outcome: TickResult['outcome'], before: number | null, after: number | null): void {
  assert.equal(tick.outcome, outcome, `outcome (${tick.decision}; error ${tick.error})`);
  assert.equal(tick.version_before, before, 'version_before');
  assert.equal(tick.version_after, after, 'version_after');
  assert.equal(tick.error, null);
  assert.equal('config_file' in tick, false, 'the printed result leaves out the config path');
  assert.ok(tick.decision.length > 0);
  assert.ok(Date.parse(tick.finished_at) >= Date.parse(tick.started_at));
  assert.ok(tick.duration_ms >= 0 && Number.isFinite(tick.duration_ms));
}

test('the loop: bootstrap, no new data, no drift, redeploy, reject, rollback', async (t) => {
  const data = tempFolder();
  generate(data, '--only practice --seed 2 --rows 300 --files 2');
  generate(data, '--only test --seed 2 --test-rows 400');
  generate(data, '--only source --seed 3 --rows 300 --files 1 --first-index 3 --drift 0');
  generate(data, '--only source --seed 4 --rows 300 --files 1 --first-index 4 --drift 1');
  generate(data, '--only source --seed 5 --rows 1500 --files 1 --first-index 5 --drift 1 --concept-drift 2');
  // The API listens before the project exists so that its URL can go into the config.
  let app: http.RequestListener | undefined = undefined;
  const server = http.createServer((req, res) => app!(req, res));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const project = makeProject({
    input: path.join(data, 'practicedata'),
    testData: path.join(data, 'testdata'),
    extra: { automation: { settle_seconds: 0 }, api: { url }, diagnostics: { outdated_timeout_ms: 100 } },
  });
  const { config } = project;
  const store = config.prod_deployment_path;
  const arrive = (name: string): void => fs.copyFileSync(path.join(data, 'sourcedata', name), path.join(project.input, name));
  const watcher = new ModelWatcher(store).start(50);
  app = createApp({
    config,
    watcher,
    timings: async () => ({ status: 'unavailable', reason: 'not measured in this test' }),
    dependencies: OFFLINE_DEPS.dependencies,
  });
  /** The /health answer apicalls wrote to apireturns.txt during the last deploying tick. */
  const apiReturnsHealth = (): { model_version: number } =>
    JSON.parse(fs.readFileSync(path.join(config.output_model_path, 'apireturns.txt'), 'utf8')).calls.find(
      (c: { endpoint: string }) => c.endpoint === '/health',
    ).body;
  const ticks: TickResult[] = [];
  const tick = async (): Promise<TickResult> => {
    const result = await runFullprocess(config);
    ticks.push(result);
    return result;
  };

  try {
    // Each step works on what the steps before it left; a failure names its step.
    let v1!: CurrentDeployment;
    let v2!: CurrentDeployment;
    await t.test('1. nothing deployed: bootstrap version 1 from the practice files', async () => {
      assert.equal((await request(app).get('/health')).status, 503, 'nothing served before the bootstrap');
      const boot = await tick();
      assertTick(boot, 'bootstrapped', null, 1);
      assert.deepEqual(
        boot.new_files.map((f) => f.name),
        ['dataset1.csv', 'dataset2.csv'],
      );
      v1 = readCurrentDeployment(store)!;
      assert.equal(v1.version, 1);
      assert.equal(boot.scores.candidate_f1, v1.record.f1);
      assertClose(v1.record.f1!, 0.6374, 5e-5, 'v1 test F1');
      assert.equal(boot.model_drift, null);
      for (const step of ['ingestion', 'training', 'scoring', 'deployment', 'diagnostics', 'reporting', 'apicalls'])
        assert.ok(step in boot.durations, `duration of ${step}`);
      assertApiCallsRan(boot);
      assert.equal(apiReturnsHealth().model_version, 1, 'apicalls ran once the API served version 1');
    });

    await t.test('2. no new data: nothing written but one run-history line', async () => {
      const quiet = withoutRunHistory(project.root);
      assert.ok(
        Object.keys(quiet).some((name) => name.endsWith('checkedfiles.json')),
        'the bootstrap saved the hash cache',
      );
      const idle = await tick();
      assertTick(idle, 'no-new-data', 1, 1);
      assert.deepEqual(idle.new_files, []);
      assert.deepEqual(idle.scores, { deployed_f1: v1.record.f1, new_data_f1: null, candidate_f1: null });
      assert.deepEqual(withoutRunHistory(project.root), quiet, 'a no-op tick writes nothing but the run record');
      assert.equal(readRuns(store).length, 2);
    });

    await t.test('3. a new file like the practice data: no drift, and the file is remembered', async () => {
      arrive('dataset3.csv');
      const calm = await tick();
      assertTick(calm, 'no-drift', 1, 1);
      assert.deepEqual(
        calm.new_files.map((f) => f.name),
        ['dataset3.csv'],
      );
      const calmDrift = calm.model_drift!;
      assert.equal(calmDrift.rule, 'raw');
      assert.equal(calmDrift.deployed_f1, v1.record.f1);
      assert.equal(calmDrift.threshold, calmDrift.deployed_f1, 'raw: the threshold is the deployed F1');
      assert.equal(calmDrift.drifted, false);
      assert.ok(calmDrift.new_f1 >= calmDrift.deployed_f1 + 0.1, `new F1 ${calmDrift.new_f1} clearly above ${calmDrift.deployed_f1}`);
      assert.equal(calm.scores.new_data_f1, calmDrift.new_f1);
      // The new-data F1 is the deployed model's F1 on the rows of the new file.
      const v1Model = loadModelFile(path.join(v1.folder, 'trainedmodel.json'));
      assert.equal(
        calmDrift.new_f1,
        evaluateModel(v1Model, readDataForModel(path.join(project.input, 'dataset3.csv'), v1Model, config.schema)).metrics.f1,
      );
      assert.deepEqual(Object.keys(calm.data_drift!).sort(), [...FEATURES].sort());
      for (const feature of FEATURES) {
        const d = calm.data_drift![feature] as NumericDrift;
        assert.ok(d.psi >= 0 && d.psi < 0.2, `${feature}: PSI ${d.psi}`);
        assert.ok(d.ks_statistic > 0 && d.ks_statistic < 0.1 && d.ks_pvalue > 0.05, `${feature}: KS ${d.ks_statistic} p ${d.ks_pvalue}`);
        assert.equal(d.drifted, false);
        assert.equal(d.psi_bins.expected.length, d.psi_bins.edges.length + 1);
        assertClose(
          d.psi_bins.actual.reduce((a, b) => a + b, 0),
          1,
          1e-12,
          `${feature}: PSI bin shares`,
        );
      }
      assert.equal(readCurrentDeployment(store)!.version, 1, 'no-drift deploys nothing');
      assert.deepEqual(calm.refreshed, ['diagnostics', 'report'], 'the outputs describe the new data');
      const remembered = withoutRunHistory(project.root);
      const again = await tick();
      assertTick(again, 'no-new-data', 1, 1);
      assert.deepEqual(withoutRunHistory(project.root), remembered, 'the checked file is not checked again');
    });

    await t.test('4. drifted data: the deployed F1 drops, the retrained candidate beats it: redeployed', async () => {
      arrive('dataset4.csv');
      const drifted = await tick();
      assertTick(drifted, 'redeployed', 1, 2);
      assert.deepEqual(
        drifted.new_files.map((f) => f.name),
        ['dataset4.csv'],
      );
      const modelDrift = drifted.model_drift!;
      assert.equal(modelDrift.drifted, true);
      assert.ok(modelDrift.new_f1 < modelDrift.deployed_f1 - 0.1, `new F1 ${modelDrift.new_f1} clearly below ${modelDrift.deployed_f1}`);
      assert.equal(modelDrift.threshold, v1.record.f1);
      const employees = drifted.data_drift!.number_of_employees as NumericDrift;
      assert.ok(employees.drifted && employees.psi > 1 && employees.ks_pvalue < 1e-10, JSON.stringify(employees));
      v2 = readCurrentDeployment(store)!;
      assert.equal(v2.version, 2);
      assert.equal(drifted.scores.candidate_f1, v2.record.f1);
      assert.ok(v2.record.f1! > v1.record.f1! + 0.1, `candidate ${v2.record.f1} vs deployed ${v1.record.f1}`);
      assert.deepEqual(
        v2.record.data.files.map((f) => f.name),
        ['dataset1.csv', 'dataset2.csv', 'dataset3.csv', 'dataset4.csv'],
      );
      assert.equal(Number(fs.readFileSync(path.join(store, 'latestscore.txt'), 'utf8')), v2.record.f1);
      for (const step of ['ingestion', 'drift', 'training', 'scoring', 'gate', 'deployment', 'diagnostics', 'reporting', 'apicalls'])
        assert.ok(step in drifted.durations, `duration of ${step}`);
      assertApiCallsRan(drifted);
      assert.equal(apiReturnsHealth().model_version, 2, 'apicalls waited for the API to serve version 2');
      await served(watcher, 2);
      const health = await request(app).get('/health');
      assert.equal(health.status, 200);
      assert.equal(health.body.status, 'ok');
      assert.equal(health.body.model_version, 2);
    });

    await t.test('5. the relation reversed: drift again, but the candidate scores worse: rejected', async () => {
      arrive('dataset5.csv');
      const reversed = await tick();
      assertTick(reversed, 'rejected', 2, 2);
      assert.ok(reversed.model_drift!.drifted);
      assert.ok(reversed.model_drift!.new_f1 < reversed.model_drift!.deployed_f1);
      assert.equal(reversed.model_drift!.deployed_f1, v2.record.f1);
      assert.ok(
        reversed.scores.candidate_f1! < v2.record.f1! - 0.1,
        `candidate ${reversed.scores.candidate_f1} vs deployed ${v2.record.f1}`,
      );
      assert.match(reversed.decision, /kept version 2/);
      assert.equal(readCurrentDeployment(store)!.version, 2, 'the rejected candidate is not deployed');
      assert.deepEqual(reversed.refreshed, ['diagnostics', 'report'], 'a rejected tick refreshes the outputs too');
      assert.notEqual(
        sha256(fs.readFileSync(path.join(config.output_model_path, 'trainedmodel.json'))),
        v2.record.model_sha256,
        'the candidate stays in output_model_path',
      );
      assert.equal((await request(app).get('/health')).body.model_version, 2);
    });

    await t.test('6. rollback: version 1 is current again and served; its files stay checked', async () => {
      assert.deepEqual(rollbackDeployment(config), { action: 'rollback', version: 1, previous: 2 });
      assert.equal(readCurrentDeployment(store)!.version, 1);
      assert.equal(Number(fs.readFileSync(path.join(store, 'latestscore.txt'), 'utf8')), v1.record.f1);
      await served(watcher, 1);
      assert.equal((await request(app).get('/health')).body.model_version, 1);
      const afterRollback = await tick();
      assertTick(afterRollback, 'no-new-data', 1, 1);
      assert.equal(afterRollback.scores.deployed_f1, v1.record.f1);
    });

    await t.test('7. the run history: one line a tick, in order, the same records the ticks printed', async () => {
      const lines = fs
        .readFileSync(path.join(store, FILE_NAMES.runHistory), 'utf8')
        .split('\n')
        .filter((line) => line !== '');
      assert.equal(lines.length, ticks.length);
      const runs = readRuns(store);
      assert.deepEqual(
        runs.map((r) => r.outcome),
        ['bootstrapped', 'no-new-data', 'no-drift', 'no-new-data', 'redeployed', 'rejected', 'no-new-data'],
      );
      assert.deepEqual(
        runs.map((r) => r.run_id),
        ticks.map((t) => t.run_id),
      );
      for (const [i, run] of runs.entries()) {
        const { config_file: configFile, ...printed } = run;
        assert.equal(configFile, project.configFile);
        assert.deepEqual(printed, JSON.parse(JSON.stringify(ticks[i])), `run ${i} as printed`);
      }
      const answer = await request(app).get('/runs');
      assert.equal(answer.status, 200);
      assert.deepEqual(
        answer.body.runs.map((r: { outcome: string }) => r.outcome),
        runs.map((r) => r.outcome),
      );
    });
  } finally {
    watcher.stop();
    server.closeAllConnections();
    server.close();
  }
});
