/**
 * The model-health metrics of GET /metrics against what they are read from:
 * each gauge equals the deployed version's records and the run history (read
 * with readRuns) at the time of the scrape, follows appends, a replaced or
 * removed history and a new deployment, keeps labels to the config's features
 * and the tick outcomes, and counts failed model reloads.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { createApp } from '../src/lib/api/app.js';
import { currentVersion, publishVersion, versionFolder, type VersionRecord } from '../src/lib/store/deploy-store.js';
import { deployedFile, FILE_NAMES, STORE_NAMES } from '../src/lib/layout.js';
import { ModelWatcher } from '../src/lib/api/model-watcher.js';
import type { ScoreRecord } from '../src/lib/store/records.js';
import { appendRun, readRuns, type NumericDrift, type Outcome, type RunRecord } from '../src/lib/store/run-history.js';
import { runDeployment } from '../src/deployment.js';
import { assertClose, type TempProject, deployedProject } from './helpers.js';
import { parseSamples, samplesOf, valueOf, type Sample } from './prometheus-text.js';

const FEATURES = ['lastmonth_activity', 'lastyear_activity', 'number_of_employees'];
const OUTCOMES: Outcome[] = ['bootstrapped', 'no-new-data', 'no-drift', 'redeployed', 'rejected', 'locked', 'failed'];

let project: TempProject;
let watcher: ModelWatcher;
let history: string;

before(async () => {
  project = await deployedProject();
  watcher = new ModelWatcher(project.config.prod_deployment_path);
  watcher.refresh();
  history = path.join(project.config.prod_deployment_path, FILE_NAMES.runHistory);
});
after(() => watcher.stop());

let app: ReturnType<typeof createApp> | null = null;
async function scrape(): Promise<Sample[]> {
  app ??= createApp({ config: project.config, watcher, timings: async () => ({ status: 'unavailable', reason: 'test' }) });
  const res = await request(app).get('/metrics');
  assert.equal(res.status, 200, res.text);
  return parseSamples(res.text);
}

let clock = Date.parse('2025-03-01T00:00:00Z');
/** A run record finishing a minute after the previous one; with drift numbers when given. */
function run(outcome: Outcome, drift?: { newF1: number | null; features: Record<string, { psi: number; ks_pvalue: number }> }): RunRecord {
  clock += 60_000;
  const finished = new Date(clock).toISOString();
  return {
    run_id: `run-${clock}`,
    started_at: new Date(clock - 1000).toISOString(),
    finished_at: finished,
    duration_ms: 1000,
    config_file: project.configFile,
    outcome,
    new_files: [],
    scores: { deployed_f1: 0.8, new_data_f1: drift?.newF1 ?? null, candidate_f1: null },
    model_drift: drift
      ? { rule: 'raw', new_f1: drift.newF1 ?? NaN, deployed_f1: 0.8, history: [], threshold: 0.8, drifted: false, explanation: '' }
      : null,
    data_drift: drift
      ? Object.fromEntries(
          Object.entries(drift.features).map(([name, d]) => [
            name,
            { ...d, psi_bins: { edges: [], expected: [], actual: [] }, ks_statistic: 0.1, drifted: false },
          ]),
        )
      : null,
    decision: '',
    version_before: 1,
    version_after: 1,
    durations: {},
    error: null,
    notes: [],
  };
}

/** Every tick gauge equals what readRuns gives for the history on disk. */
function assertTicksMatchHistory(samples: Sample[]): void {
  const runs = readRuns(project.config.prod_deployment_path);
  for (const outcome of OUTCOMES) {
    const mine = runs.filter((r) => r.outcome === outcome);
    assert.equal(valueOf(samples, 'risk_ticks_total', { outcome }), mine.length, `risk_ticks_total{outcome="${outcome}"}`);
    const last = samplesOf(samples, 'risk_last_tick_timestamp_seconds', { outcome });
    if (mine.length === 0) assert.deepEqual(last, [], `no timestamp for ${outcome}`);
    else assert.equal(last[0].value, Math.max(...mine.map((r) => Date.parse(r.finished_at))) / 1000, `last ${outcome}`);
  }
  const check = runs.findLast((r) => r.model_drift !== null || r.data_drift !== null);
  const newF1 = samplesOf(samples, 'risk_new_data_f1');
  if (check?.scores.new_data_f1 == null) assert.deepEqual(newF1, []);
  else assert.equal(newF1[0].value, check.scores.new_data_f1);
  for (const [metric, key] of [
    ['risk_feature_psi', 'psi'],
    ['risk_feature_ks_pvalue', 'ks_pvalue'],
  ] as const) {
    const wanted = Object.entries(check?.data_drift ?? {})
      .filter(([feature]) => FEATURES.includes(feature))
      .map(([feature, d]) => [feature, (d as NumericDrift)[key]]);
    const got = samplesOf(samples, metric).map((s) => [s.labels.feature, s.value]);
    assert.deepEqual(got, wanted, metric);
  }
}

/** The deployed-model gauges equal the current version's deployment.json and latestscore.json. */
function assertModelMatchesStore(samples: Sample[]): void {
  const store = project.config.prod_deployment_path;
  const version = currentVersion(store);
  assert.ok(version !== null);
  const folder = versionFolder(store, version);
  const record = JSON.parse(fs.readFileSync(path.join(folder, STORE_NAMES.versionRecord), 'utf8')) as VersionRecord;
  const score = JSON.parse(fs.readFileSync(deployedFile(folder, FILE_NAMES.scoreRecord), 'utf8')) as ScoreRecord;
  assert.deepEqual(samplesOf(samples, 'risk_model_info'), [
    {
      name: 'risk_model_info',
      labels: { version: String(version), objective: String(record.objective), deployed_at: record.deployed_at },
      value: 1,
    },
  ]);
  assertClose(valueOf(samples, 'risk_model_f1'), score.f1, 1e-15, 'risk_model_f1');
  assertClose(valueOf(samples, 'risk_model_roc_auc'), score.roc_auc as number, 1e-15, 'risk_model_roc_auc');
}

describe('model-health metrics', () => {
  test('before any tick: the deployed model, every outcome at 0, no tick time and no drift', async () => {
    const samples = await scrape();
    assertModelMatchesStore(samples);
    assertTicksMatchHistory(samples);
    assert.equal(valueOf(samples, 'risk_model_reload_failures_total'), 0);
  });

  test('the tick gauges follow the run history as it grows, skipping corrupt lines and waiting for a torn one', async () => {
    const features = (psi: number) => ({
      lastmonth_activity: { psi, ks_pvalue: 0.5 },
      lastyear_activity: { psi: psi * 2, ks_pvalue: 1e-12 },
      number_of_employees: { psi: psi * 3, ks_pvalue: 0.04 },
      // Not a feature of the config: never becomes a label.
      some_old_column: { psi: 9, ks_pvalue: 0 },
    });
    const store = project.config.prod_deployment_path;
    appendRun(store, run('bootstrapped'));
    appendRun(store, run('no-drift', { newF1: 0.75, features: features(0.01) }));
    appendRun(store, run('no-new-data'));
    fs.appendFileSync(history, '{"this is": "not a run record"}\nnot json at all\n');
    appendRun(store, run('rejected', { newF1: 0.5, features: features(0.3) }));
    appendRun(store, run('locked'));
    let samples = await scrape();
    assertTicksMatchHistory(samples);
    assert.equal(valueOf(samples, 'risk_new_data_f1'), 0.5);
    assert.equal(valueOf(samples, 'risk_feature_psi', { feature: 'number_of_employees' }), 0.3 * 3);

    // A tick half-way through writing its line is not counted yet; appendRun then closes the torn line and adds its own.
    const torn = JSON.stringify(run('failed')).slice(0, 80);
    fs.appendFileSync(history, torn);
    samples = await scrape();
    assert.equal(valueOf(samples, 'risk_ticks_total', { outcome: 'failed' }), 0);
    appendRun(store, run('redeployed', { newF1: null, features: features(0.2) }));
    appendRun(store, run('failed'));
    samples = await scrape();
    assertTicksMatchHistory(samples);
    assert.deepEqual(samplesOf(samples, 'risk_new_data_f1'), [], 'a drift check without a new-data F1 reports none');
  });

  test('a history replaced by a shorter file, or removed, is counted again from the start', async () => {
    const replacement = history + '.new';
    fs.writeFileSync(
      replacement,
      JSON.stringify(run('no-drift', { newF1: 0.9, features: { lastmonth_activity: { psi: 0.02, ks_pvalue: 0.7 } } })) + '\n',
    );
    fs.renameSync(replacement, history);
    let samples = await scrape();
    assertTicksMatchHistory(samples);
    assert.equal(valueOf(samples, 'risk_ticks_total', { outcome: 'no-drift' }), 1);

    fs.rmSync(history);
    samples = await scrape();
    assertTicksMatchHistory(samples);
    assert.equal(samplesOf(samples, 'risk_last_tick_timestamp_seconds').length, 0);
  });

  test('a new deployment is reported at the next scrape', async () => {
    await runDeployment(project.config);
    let samples = await scrape();
    assert.equal(samplesOf(samples, 'risk_model_info')[0].labels.version, '2', 'read from the store, whatever the process serves');
    assert.equal(valueOf(samples, 'risk_model_version'), 1);
    watcher.refresh();
    samples = await scrape();
    assert.equal(valueOf(samples, 'risk_model_version'), 2);
    assertModelMatchesStore(samples);
  });

  test('a deployed version the watcher cannot load counts as a reload failure, each attempt', async () => {
    const broken = path.join(project.root, 'broken-model.json');
    fs.writeFileSync(broken, '{"kind": "not a model"}');
    const store = project.config.prod_deployment_path;
    const previous = JSON.parse(fs.readFileSync(path.join(versionFolder(store, 2), STORE_NAMES.versionRecord), 'utf8')) as VersionRecord;
    publishVersion(store, { [FILE_NAMES.model]: broken }, (version) => ({ ...previous, version, origin: 'test: broken model' }));
    watcher.refresh();
    watcher.refresh();
    const samples = await scrape();
    assert.equal(valueOf(samples, 'risk_model_reload_failures_total'), 2);
    assert.equal(valueOf(samples, 'risk_model_version'), 2, 'the previous version is still served');
    assert.equal(samplesOf(samples, 'risk_model_info')[0].labels.version, '3', 'the store says 3 is deployed');
    assert.equal(samplesOf(samples, 'risk_model_f1')[0].value, previous.f1, 'without a latestscore.json, F1 comes from the version record');
    assert.deepEqual(samplesOf(samples, 'risk_model_roc_auc'), []);
  });

  test('what the alert rules compare: deployed and drift-checked versions, thresholds, refresh results, lock age, unrecorded ticks', async () => {
    const store = project.config.prod_deployment_path;
    let samples = await scrape();
    assert.equal(valueOf(samples, 'risk_deployed_model_version'), 3, 'the version current in the store');
    assert.equal(valueOf(samples, 'risk_model_version'), 2, 'the version served');
    assert.equal(valueOf(samples, 'risk_feature_psi_threshold'), project.config.drift.psi_threshold);
    assert.deepEqual(samplesOf(samples, 'risk_lock_held_seconds'), [], 'no lock held');
    assert.equal(valueOf(samples, 'risk_unrecorded_ticks_total'), 0);
    assert.deepEqual(samplesOf(samples, 'risk_last_unrecorded_tick_timestamp_seconds'), []);

    const checked = {
      ...run('no-drift', { newF1: 0.7, features: { lastmonth_activity: { psi: 0.4, ks_pvalue: 0.01 } } }),
      version_before: 2,
    };
    appendRun(store, { ...checked, refreshed: ['diagnostics'], refresh_failed: ['report'] });
    samples = await scrape();
    assert.equal(valueOf(samples, 'risk_drift_check_model_version'), 2);
    assert.equal(valueOf(samples, 'risk_new_data_f1_threshold'), 0.8, "the drift rule's threshold of that check");
    const finished = Date.parse(checked.finished_at) / 1000;
    assert.equal(valueOf(samples, 'risk_last_refresh_timestamp_seconds', { output: 'report', result: 'failed' }), finished);
    assert.equal(valueOf(samples, 'risk_last_refresh_timestamp_seconds', { output: 'diagnostics', result: 'ok' }), finished);
    assert.deepEqual(samplesOf(samples, 'risk_last_refresh_timestamp_seconds', { output: 'report', result: 'ok' }), []);

    const { tryLock, isHeld } = await import('../src/lib/store/lock.js');
    const lock = tryLock(store, project.config.automation.lock_stale_seconds, { purpose: 'rollback' });
    assert.ok(isHeld(lock));
    try {
      samples = await scrape();
      const held = samplesOf(samples, 'risk_lock_held_seconds');
      assert.equal(held.length, 1);
      assert.deepEqual(held[0].labels, { holder: `pid ${process.pid} on ${lock.owner.host}`, purpose: 'rollback' });
      assert.ok(held[0].value >= 0 && held[0].value < 60, String(held[0].value));
    } finally {
      lock.release();
    }
    assert.deepEqual(samplesOf(await scrape(), 'risk_lock_held_seconds'), [], 'released: absent');
  });
});
