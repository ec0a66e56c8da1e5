/**
 * The promise: a running API "picks up a new deployment within 2 seconds,
 * without a restart and without dropping a request". A real server (default
 * reload interval) takes a steady load of predictions while a retrained model
 * is deployed and then rolled back.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { startServer, type ServerDeps } from '../src/app.js';
import { rollbackDeployment, runDeployment } from '../src/deployment.js';
import { runIngestion } from '../src/ingestion.js';
import { silentLogger } from '../src/lib/log.js';
import { ModelWatcher } from '../src/lib/api/model-watcher.js';
import { runScoring } from '../src/scoring.js';
import { runTraining } from '../src/training.js';
import { FIXTURES, makeProject, type TempProject, OFFLINE_DEPS } from './helpers.js';

const OFFLINE: ServerDeps = OFFLINE_DEPS;
const SWITCH_LIMIT_MS = 2000;
const RECORDS = [
  { lastmonth_activity: 30, lastyear_activity: 400, number_of_employees: 35 },
  { lastmonth_activity: 250, lastyear_activity: 2500, number_of_employees: 45 },
];

async function deploy(project: TempProject): Promise<number> {
  await runIngestion(project.config);
  await runTraining(project.config);
  await runScoring(project.config);
  return (await runDeployment(project.config)).version;
}

/** One request of the load: when it started and finished, and what it got. */
interface Outcome {
  started: number;
  finished: number;
  version?: number;
  probability?: number;
  error?: string;
}

/** Keeps `concurrency` request loops busy until stopped; lets the test await an answer matching a predicate. */
function startLoad(url: string, concurrency: number) {
  const outcomes: Outcome[] = [];
  const waiters: { match: (o: Outcome) => boolean; resolve: (o: Outcome) => void }[] = [];
  let running = true;
  const record = (outcome: Outcome): void => {
    outcomes.push(outcome);
    for (const waiter of [...waiters]) {
      if (waiter.match(outcome)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(outcome);
      }
    }
  };
  const body = JSON.stringify({ records: RECORDS });
  const loop = async (): Promise<void> => {
    while (running) {
      const started = performance.now();
      try {
        const res = await fetch(`${url}/prediction`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        const json = (await res.json()) as { model_version?: number; probabilities?: number[]; error?: string };
        if (!res.ok) throw new Error(`${res.status} ${json.error}`);
        record({ started, finished: performance.now(), version: json.model_version, probability: json.probabilities![0] });
      } catch (error) {
        record({ started, finished: performance.now(), error: (error as Error).message });
      }
    }
  };
  const loops = Array.from({ length: concurrency }, loop);
  return {
    outcomes,
    /** Resolves with the first answer from now on that matches, or rejects after `timeoutMs`. */
    next(match: (o: Outcome) => boolean, timeoutMs: number, what: string): Promise<Outcome> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${what} within ${timeoutMs} ms`)), timeoutMs);
        waiters.push({ match, resolve: (o) => (clearTimeout(timer), resolve(o)) });
      });
    },
    async stop(): Promise<void> {
      running = false;
      await Promise.all(loops);
    },
  };
}

test('a running server follows a deployment and a rollback within 2 s without dropping a request', async () => {
  const project = makeProject();
  assert.equal(await deploy(project), 1);
  assert.equal(project.config.api.reload_interval_ms, 500, 'the default interval, as 2 s is promised with the defaults');
  const server = await startServer(project.config, { port: 0, host: '127.0.0.1' }, silentLogger, OFFLINE);
  const load = startLoad(server.url, 8);
  // A readiness probe throughout: a redeploy being picked up is not "not ready" (no flapping out of a load balancer).
  const probes: number[] = [];
  let probing = true;
  const probe = (async () => {
    while (probing) {
      probes.push((await fetch(`${server.url}/health`)).status);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  try {
    const { port } = new URL(server.url);
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(Number(port) > 0);
    const first = await load.next((o) => o.version === 1, SWITCH_LIMIT_MS, 'answer from version 1');

    // A new version trained on more (and different) data.
    for (const name of fs.readdirSync(path.join(FIXTURES, 'generated', 'sourcedata'))) {
      fs.copyFileSync(path.join(FIXTURES, 'generated', 'sourcedata', name), path.join(project.input, name));
    }
    assert.equal(await deploy(project), 2);
    const deployedAt = performance.now();
    const switched = await load.next((o) => o.version === 2, SWITCH_LIMIT_MS, 'answer from version 2 after the deployment');
    // Keep the load on version 2 for a while before rolling back.
    await load.next((o) => o.version === 2 && o.started > switched.finished + 200, SWITCH_LIMIT_MS, 'steady answers from version 2');

    assert.deepEqual(rollbackDeployment(project.config), { action: 'rollback', version: 1, previous: 2 });
    const rolledBackAt = performance.now();
    const back = await load.next(
      (o) => o.version === 1 && o.started > rolledBackAt,
      SWITCH_LIMIT_MS,
      'answer from version 1 after the rollback',
    );
    await load.next((o) => o.version === 1 && o.started > back.finished + 100, SWITCH_LIMIT_MS, 'steady answers from version 1');
    // A real load, however busy the machine: wait for the count rather than assume a request rate.
    await load.next(() => load.outcomes.length > 100, 60_000, 'more than 100 answers in all');
    await load.stop();
    probing = false;
    await probe;
    assert.ok(probes.length > 10, `${probes.length} probes`);
    assert.deepEqual(
      probes.filter((status) => status !== 200),
      [],
      'readiness stays 200 through a redeploy and a rollback',
    );

    const { outcomes } = load;
    const failed = outcomes.filter((o) => o.error !== undefined);
    assert.deepEqual(failed, [], `${failed.length} of ${outcomes.length} requests failed`);
    assert.ok(outcomes.length > 100, `only ${outcomes.length} requests ran`);
    assert.ok(switched.finished - deployedAt < SWITCH_LIMIT_MS);
    assert.ok(back.finished - rolledBackAt < SWITCH_LIMIT_MS);
    // Once a version answered, every request started afterwards gets it (no flapping back) until the next switch.
    const lateOld = outcomes.filter((o) => o.started > switched.finished && o.started < rolledBackAt && o.version !== 2);
    assert.deepEqual(lateOld, [], 'requests after the switch answered by version 1');
    const lateNew = outcomes.filter((o) => o.started > back.finished && o.version !== 1);
    assert.deepEqual(lateNew, [], 'requests after the rollback answered by version 2');
    // The versions are really different models.
    assert.notEqual(first.probability, switched.probability);
    assert.equal(back.probability, first.probability);
  } finally {
    probing = false;
    await probe;
    await load.stop();
    await server.close();
  }
});

test('a store deleted and rebuilt under the same version number: the server follows within 2 s, scores included', async () => {
  const project = makeProject();
  assert.equal(await deploy(project), 1);
  const server = await startServer(project.config, { port: 0, host: '127.0.0.1' }, silentLogger, OFFLINE);
  const load = startLoad(server.url, 2);
  try {
    const before = await load.next((o) => o.version === 1, SWITCH_LIMIT_MS, 'answer from the first version 1');
    const oldScore = (await (await fetch(`${server.url}/scoring`)).json()) as { f1: number };
    await load.stop();

    // Remove the whole store; while it is gone the server says no model is deployed.
    fs.rmSync(project.config.prod_deployment_path, { recursive: true });
    await waitFor(async () => (await fetch(`${server.url}/health`)).status === 503, 'a 503 while nothing is deployed');

    // Rebuild it from other data: a different model, again version 1.
    for (const name of fs.readdirSync(path.join(FIXTURES, 'generated', 'sourcedata'))) {
      fs.copyFileSync(path.join(FIXTURES, 'generated', 'sourcedata', name), path.join(project.input, name));
    }
    assert.equal(await deploy(project), 1);
    const rebuiltAt = performance.now();
    const again = startLoad(server.url, 2);
    const after = await again.next((o) => o.version === 1 && o.probability !== before.probability, SWITCH_LIMIT_MS, 'the rebuilt model');
    await again.stop();
    assert.ok(after.finished - rebuiltAt < SWITCH_LIMIT_MS);
    const newScore = (await (await fetch(`${server.url}/scoring`)).json()) as { f1: number; model_version: number };
    const expected = await runScoring(project.config, { write: false });
    assert.equal(newScore.model_version, 1);
    assert.equal(newScore.f1, expected.f1, '/scoring answers for the rebuilt model');
    assert.notEqual(newScore.f1, oldScore.f1, 'not the cached score of the deleted model');
  } finally {
    await load.stop();
    await server.close();
  }
});

/** Polls `check` every 50 ms until it is true, failing after 2 s. */
async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = performance.now() + SWITCH_LIMIT_MS;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`no ${what} within ${SWITCH_LIMIT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('startServer rejects when the port is taken, and the server it started closes', async () => {
  const project = makeProject();
  const server = await startServer(project.config, { port: 0, host: '127.0.0.1' }, silentLogger, OFFLINE);
  try {
    const health = await fetch(`${server.url}/health`);
    assert.equal(health.status, 503, 'no model deployed yet');
    const port = Number(new URL(server.url).port);
    await assert.rejects(startServer(project.config, { port, host: '127.0.0.1' }, silentLogger, OFFLINE), { code: 'EADDRINUSE' });
  } finally {
    await server.close();
  }
  await assert.rejects(fetch(`${server.url}/health`), 'closed');
});

// Waiting for the keep-alive time-out (65 s) would outlast the test's time-out.
test('close() lets a request in flight finish and returns without waiting for keep-alive time-outs', { timeout: 30_000 }, async () => {
  const project = makeProject();
  let called!: () => void;
  const timingsCalled = new Promise<void>((resolve) => (called = resolve));
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const server = await startServer(project.config, { port: 0, host: '127.0.0.1' }, silentLogger, {
    ...OFFLINE,
    timings: async () => {
      called();
      await released;
      return { status: 'ok', ingestion_seconds: 0, training_seconds: 0, rows: 0 };
    },
  });
  // A keep-alive connection first, then a slow request on it.
  assert.equal((await fetch(`${server.url}/health`)).status, 503);
  const inFlight = fetch(`${server.url}/diagnostics`);
  await timingsCalled;
  const closed = server.close();
  release();
  const res = await inFlight;
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('connection'), 'close');
  await closed;
});

test('a deployed version that cannot be loaded leaves the previous one served, logged once, until a good one arrives', async () => {
  const project = makeProject();
  assert.equal(await deploy(project), 1);
  const errors: string[] = [];
  const log = { ...silentLogger, error: (message: string) => void errors.push(message) };
  const watcher = new ModelWatcher(project.config.prod_deployment_path, log);
  assert.equal(watcher.refresh()?.version, 1);

  assert.equal(await deploy(project), 2);
  fs.writeFileSync(path.join(project.config.prod_deployment_path, 'versions', '2', 'trainedmodel.json'), '{"kind": "logistic-regression"}');
  for (let poll = 0; poll < 3; poll++) assert.equal(watcher.refresh()?.version, 1);
  assert.equal(errors.length, 1);
  assert.match(errors[0], /cannot load deployed version 2: .*trainedmodel\.json is not a valid model file/);

  assert.equal(await deploy(project), 3);
  assert.equal(watcher.refresh()?.version, 3);
});

test('readiness: a deployed version the API cannot load is reported after the grace, not during a normal pickup', async () => {
  const project = makeProject();
  assert.equal(await deploy(project), 1);
  const watcher = new ModelWatcher(project.config.prod_deployment_path);
  const t0 = 1_000_000;
  assert.equal(watcher.refresh(t0)?.version, 1);
  assert.equal(watcher.readiness(t0).ready, true);
  assert.equal(await deploy(project), 2);
  fs.writeFileSync(path.join(project.config.prod_deployment_path, 'versions', '2', 'trainedmodel.json'), '{"kind": "logistic-regression"}');
  watcher.refresh(t0 + 500);
  watcher.refresh(t0 + 1000);
  assert.equal(watcher.readiness(t0 + 2000).ready, true, 'within the grace: could be a redeploy being picked up');
  const stale = watcher.readiness(t0 + 2600);
  assert.ok(!stale.ready);
  assert.equal(stale.served?.version, 1);
  assert.equal(stale.deployedVersion, 2);
  assert.match(stale.reason, /serving version 1, but version 2 is deployed: cannot load deployed version 2/);
  assert.equal(await deploy(project), 3);
  assert.equal(watcher.refresh(t0 + 3000)?.version, 3);
  assert.equal(watcher.readiness(t0 + 3000).ready, true);

  // Over HTTP: /health and /ping answer 503 "stale" naming both versions, while predictions still come from the served one.
  const server = await startServer(project.config, { port: 0, host: '127.0.0.1' }, silentLogger, OFFLINE);
  try {
    assert.equal(await deploy(project), 4);
    fs.writeFileSync(
      path.join(project.config.prod_deployment_path, 'versions', '4', 'trainedmodel.json'),
      '{"kind": "logistic-regression"}',
    );
    const deadline = Date.now() + 20_000;
    let health: { status: number; body: Record<string, unknown> };
    for (;;) {
      const res = await fetch(`${server.url}/health`);
      health = { status: res.status, body: (await res.json()) as Record<string, unknown> };
      if (health.status === 503) break;
      assert.ok(Date.now() < deadline, 'readiness reports the version it cannot load');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.deepEqual({ ...health.body, error: undefined }, { status: 'stale', model_version: 3, deployed_version: 4, error: undefined });
    assert.match(String(health.body.error), /cannot load deployed version 4/);
    assert.equal((await fetch(`${server.url}/ping`)).status, 503);
    const predicted = await fetch(`${server.url}/prediction`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ records: RECORDS }),
    });
    assert.equal(predicted.status, 200);
    assert.equal(((await predicted.json()) as { model_version: number }).model_version, 3);
  } finally {
    await server.close();
  }
});
