/**
 * The report endpoints read their data off the event loop: while one of them
 * is still reading a data file, /health answers. The data file is a named pipe
 * whose writer (a child process) holds the content back until told, so the read
 * is as slow as the test wants without any timing: only the order of answers counts.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import request from 'supertest';
import { createApp } from '../src/lib/api/app.js';
import { ModelWatcher } from '../src/lib/api/model-watcher.js';
import { runIngestion } from '../src/ingestion.js';
import { makeProject, deployedProject } from './helpers.js';

const watchers: ModelWatcher[] = [];
after(() => watchers.forEach((watcher) => watcher.stop()));

/**
 * Replaces `file` by a named pipe and starts its writer: it resolves `opened`
 * once a reader has the pipe open, and writes the original content when `release()`
 * is called (or after 20 s, so that a server reading on its event loop fails the test instead of hanging it).
 */
function holdBack(file: string): { opened: Promise<void>; release: () => void; rows: number } {
  const content = fs.readFileSync(file);
  fs.rmSync(file);
  execFileSync('mkfifo', [file]);
  fs.writeFileSync(file + '.content', content);
  const writer = spawn(
    process.execPath,
    [
      '-e',
      `const fs = require('node:fs');
       const fd = fs.openSync(process.argv[1], 'w');
       process.stdout.write('opened\\n');
       const content = fs.readFileSync(process.argv[2]);
       const write = () => { fs.writeSync(fd, content); fs.closeSync(fd); process.exit(0); };
       const fallback = setTimeout(write, 20000);
       process.stdin.once('data', () => { clearTimeout(fallback); write(); });`,
      file,
      file + '.content',
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const opened = new Promise<void>((resolve) => writer.stdout.once('data', () => resolve()));
  const rows = content.toString('utf8').trim().split('\n').length - 1;
  return { opened, release: () => writer.stdin.write('go\n'), rows };
}

function appFor(config: Parameters<typeof createApp>[0]['config']) {
  const watcher = new ModelWatcher(config.prod_deployment_path).start(1000);
  watchers.push(watcher);
  return createApp({
    config,
    watcher,
    timings: async () => ({ status: 'ok', ingestion_seconds: 0, training_seconds: 0, rows: 0 }),
    dependencies: async () => ({ status: 'ok', checked_at: new Date().toISOString(), duration_ms: 0, packages: [] }),
  });
}

for (const endpoint of ['/summarystats', '/diagnostics']) {
  test(`GET /health answers while GET ${endpoint} is still reading the data file`, async () => {
    const project = makeProject();
    await runIngestion(project.config);
    const finalData = path.join(project.config.output_folder_path, 'finaldata.csv');
    const pipe = holdBack(finalData);
    const app = appFor(project.config);
    const order: string[] = [];
    const report = request(app)
      .get(endpoint)
      .then((res) => {
        order.push(endpoint);
        return res;
      });
    await pipe.opened;
    const health = await request(app).get('/health');
    order.push('/health');
    assert.equal(health.status, 503, 'no model deployed: answered at once all the same');
    pipe.release();
    const res = await report;
    assert.deepEqual(order, ['/health', endpoint]);
    assert.equal(res.status, 200);
    const rows = endpoint === '/summarystats' ? res.body.rows : res.body.missing_data.rows;
    assert.equal(rows, pipe.rows);
  });
}

test('GET /health answers while GET /risk is still reading the data file', async () => {
  const project = await deployedProject();
  const pipe = holdBack(path.join(project.config.output_folder_path, 'finaldata.csv'));
  const app = appFor(project.config);
  await served(watchers[watchers.length - 1]);
  const order: string[] = [];
  const risk = request(app)
    .get('/risk?top=3')
    .then((res) => {
      order.push('/risk');
      return res;
    });
  await pipe.opened;
  const health = await request(app).get('/health');
  order.push('/health');
  assert.equal(health.status, 200);
  pipe.release();
  const res = await risk;
  assert.deepEqual(order, ['/health', '/risk']);
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.clients.length, 3);
});

/** Resolves once `watcher` serves a model: at once when it loaded the deployment at start, else at its switch. */
function served(watcher: ModelWatcher): Promise<void> {
  return watcher.current() ? Promise.resolve() : new Promise((resolve) => watcher.onSwitch(() => resolve()));
}
