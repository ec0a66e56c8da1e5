/**
 * `app --workers 2`, real processes on a free port: requests spread over both
 * workers (their access logs say so), and every scrape, whichever worker the
 * connection lands on, counts all of them once; the model-health gauges are
 * not multiplied by the number of workers; the aggregate passes promtool.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { REPO, deployedProject } from './helpers.js';
import { parseSamples, promtoolCheckMetrics, promtoolMissing, samplesOf, valueOf } from './prometheus-text.js';

const REQUESTS = 200;
let primary: ChildProcess;
let base: string;
const logLines: Record<string, unknown>[] = [];
let logged: () => void = () => {};

/** Resolves once the app has logged `count` entries matching `wanted`. */
function waitForLog(wanted: (entry: Record<string, unknown>) => boolean, count: number): Promise<Record<string, unknown>[]> {
  return new Promise((resolve) => {
    const check = (): void => {
      const found = logLines.filter(wanted);
      if (found.length >= count) resolve(found);
      else logged = check;
    };
    check();
  });
}

/** GET on a connection of `agent` (false: a new connection), resolving with status and body. */
function get(url: string, agent: http.Agent | false): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .once('error', reject);
  });
}

before(async () => {
  const project = await deployedProject();
  primary = spawn(
    process.execPath,
    [path.join(REPO, 'dist', 'src', 'app.js'), '--config', project.configFile, '--port', '0', '--workers', '2'],
    {
      env: { ...process.env, LOG_FORMAT: 'json', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  // Ready when both workers said they listen. On port 0 the cluster's primary picks one port that every worker shares.
  await new Promise<void>((resolve, reject) => {
    let pending = '';
    const listening = new Set<string>();
    primary.once('exit', (code) => reject(new Error(`app exited (${code}) before listening`)));
    primary.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const entry = JSON.parse(line) as Record<string, unknown>;
        logLines.push(entry);
        logged();
        if (typeof entry.msg === 'string' && entry.msg.startsWith('listening on ')) {
          listening.add(entry.msg.slice('listening on '.length));
          if (logLines.filter((e) => typeof e.msg === 'string' && e.msg.startsWith('listening on ')).length < 2) continue;
          if (listening.size !== 1) return reject(new Error(`the workers listen on different addresses: ${[...listening].join(', ')}`));
          base = [...listening][0];
          resolve();
        }
      }
    });
  });
});

after(async () => {
  if (primary.exitCode !== null) return;
  const exited = new Promise((resolve) => primary.once('exit', resolve));
  primary.kill('SIGTERM');
  await exited;
});

test(`one scrape counts all ${REQUESTS} keep-alive requests, whichever worker answers it`, async () => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  try {
    const answers = await Promise.all(Array.from({ length: REQUESTS }, () => get(`${base}/health`, agent)));
    assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([200]));
  } finally {
    agent.destroy();
  }
  for (let scrape = 0; scrape < 4; scrape++) {
    // A new connection each time: the kernel hands them to the workers in turn.
    const { status, body } = await get(`${base}/metrics`, false);
    assert.equal(status, 200, body);
    const samples = parseSamples(body);
    assert.equal(valueOf(samples, 'risk_http_requests_total', { method: 'GET', route: '/health', status: '200' }), REQUESTS);
    assert.equal(valueOf(samples, 'risk_http_request_duration_seconds_count', { route: '/health' }), REQUESTS);
    const earlier = samplesOf(samples, 'risk_http_requests_total', { route: '/metrics' }).reduce((sum, s) => sum + s.value, 0);
    assert.equal(earlier, scrape, 'the earlier scrapes, each counted once');
    // Read from the same files by both workers: reported once, not doubled.
    assert.equal(samplesOf(samples, 'risk_model_info').length, 1);
    assert.equal(valueOf(samples, 'risk_model_info'), 1);
    assert.equal(valueOf(samples, 'risk_ticks_total', { outcome: 'failed' }), 0);
    assert.equal(valueOf(samples, 'risk_model_version'), 1);
    if (scrape === 0) {
      const missing = promtoolMissing();
      if (missing) console.log(`# ${missing}`);
      else {
        const check = promtoolCheckMetrics(body);
        assert.equal(check.status, 0, `promtool check metrics on the aggregated scrape:\n${check.output}`);
      }
    }
  }

  // Both workers served some of the requests: their access logs (one JSON line a request, with the pid) say so.
  const served = await waitForLog((entry) => entry.component === 'app:access' && entry.route === '/health', REQUESTS);
  assert.equal(served.length, REQUESTS);
  assert.equal(new Set(served.map((entry) => entry.pid)).size, 2, 'both workers answered requests');
});

test('a worker killed with -9: the merged counters keep its counts (they never go down while the primary lives)', async () => {
  const before = parseSamples((await get(`${base}/metrics`, false)).body);
  const health = valueOf(before, 'risk_http_requests_total', { method: 'GET', route: '/health', status: '200' });
  assert.ok(health >= REQUESTS, `${health} /health requests counted before the kill`);
  const workers = [...new Set(logLines.filter((entry) => entry.component === 'app:access').map((entry) => entry.pid as number))];
  assert.equal(workers.length, 2);
  const listeningBefore = logLines.filter((entry) => typeof entry.msg === 'string' && entry.msg.startsWith('listening on')).length;
  process.kill(workers[0], 'SIGKILL');
  // The primary starts another worker; wait until it listens.
  await waitForLog((entry) => typeof entry.msg === 'string' && entry.msg.startsWith('listening on'), listeningBefore + 1);
  for (let scrape = 0; scrape < 4; scrape++) {
    const samples = parseSamples((await get(`${base}/metrics`, false)).body);
    assert.equal(
      valueOf(samples, 'risk_http_requests_total', { method: 'GET', route: '/health', status: '200' }),
      health,
      `scrape ${scrape} after the kill: the dead worker's requests still counted`,
    );
    assert.ok(valueOf(samples, 'risk_http_request_duration_seconds_count', { route: '/health' }) >= health);
    // Gauges of the dead worker are not kept: one model version, served by the live workers.
    assert.equal(valueOf(samples, 'risk_model_version'), 1);
  }
});
